//! Headers, transactions and withdrawals from the JSON shapes peers write: JSON-RPC objects
//! (camelCase, hex quantities) and serde dumps of Rust structs (snake_case, JSON integers,
//! transactions wrapped as `{signature, transaction: {Legacy|Eip1559|…: {…}}}`).
//!
//! Everything is first normalised to the JSON-RPC shape, then read with alloy's own serde, so
//! there is one reader of each type, not one per format.

use alloy_consensus::{BlockBody, Header, TxEnvelope};
use alloy_eips::{
    eip2718::{Decodable2718, Encodable2718},
    eip4895::{Withdrawal, Withdrawals},
};
use serde_json::{Map, Value};

use crate::{EthBlock, FormatError};

/// snake_case names whose JSON-RPC name is not their camelCase.
const RENAMED: [(&str, &str); 3] = [("ommers_hash", "sha3Uncles"), ("beneficiary", "miner"), ("gas_limit", "gasLimit")];

fn camel(key: &str) -> String {
    if let Some((_, to)) = RENAMED.iter().find(|(from, _)| *from == key) {
        return (*to).into();
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// camelCase keys, integers as hex quantities, nulls dropped.
fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (camel(k), normalise(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::Number(n) => match n.as_u64() {
            Some(n) => Value::String(format!("{n:#x}")),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

/// A hex quantity string (`"0x1a"`) as a number.
pub fn hex_quantity(value: &str) -> Option<u64> {
    u64::from_str_radix(value.trim_start_matches("0x"), 16).ok()
}

fn field_error(what: &'static str, error: impl std::fmt::Display) -> FormatError {
    FormatError::Field { what, reason: error.to_string() }
}

/// A block header in either shape.
pub fn header(value: &Value) -> Result<Header, FormatError> {
    let mut v = normalise(value);
    if let Some(map) = v.as_object_mut() {
        // Rust dumps write the 8-byte nonce as an integer; JSON-RPC as 16 hex digits.
        if let Some(Value::String(nonce)) = map.get("nonce") {
            if let Some(n) = hex_quantity(nonce) {
                map.insert("nonce".into(), Value::String(format!("0x{n:016x}")));
            }
        }
        map.entry("extraData").or_insert_with(|| Value::String("0x".into()));
    }
    serde_json::from_value(v).map_err(|e| field_error("header", e))
}

/// A signed transaction in either shape.
pub fn transaction(value: &Value) -> Result<TxEnvelope, FormatError> {
    let mut rpc = match (value.get("transaction"), value.get("signature")) {
        (Some(tx), Some(signature)) => unwrap_tagged(tx, signature)?,
        _ => value.clone(),
    };
    // alloy takes a JSON `hash` on trust; it is dropped here and recomputed below.
    if let Some(map) = rpc.as_object_mut() {
        map.insert("hash".into(), Value::String(format!("{}", alloy_primitives::B256::ZERO)));
    }
    let parsed: TxEnvelope = serde_json::from_value(rpc).map_err(|e| field_error("transaction", e))?;
    let encoded = parsed.encoded_2718();
    TxEnvelope::decode_2718(&mut encoded.as_slice()).map_err(|e| field_error("transaction", e))
}

/// `{transaction: {Eip1559: {…}}, signature: {r, s, odd_y_parity|yParity|v}}` as a JSON-RPC object.
fn unwrap_tagged(tx: &Value, signature: &Value) -> Result<Value, FormatError> {
    let Some((variant, fields)) = tx.as_object().and_then(|m| m.iter().next()) else {
        return Err(field_error("transaction", "empty transaction object"));
    };
    let tx_type: u8 = match variant.as_str() {
        "Legacy" => 0,
        "Eip2930" => 1,
        "Eip1559" => 2,
        "Eip4844" => 3,
        "Eip7702" => 4,
        other => return Err(field_error("transaction", format!("unknown transaction type {other:?}"))),
    };
    let mut out: Map<String, Value> = match normalise(fields) {
        Value::Object(map) => map,
        _ => return Err(field_error("transaction", "transaction fields are not an object")),
    };
    out.remove("placeholder");
    // Transactions call the gas limit `gas` in JSON-RPC.
    if let Some(gas) = out.remove("gasLimit") {
        out.insert("gas".into(), gas);
    }
    out.entry("to").or_insert(Value::Null);
    out.insert("type".into(), Value::String(format!("{tx_type:#x}")));

    let signature = normalise(signature);
    let parity = parity(&signature)?;
    for part in ["r", "s"] {
        let v = signature.get(part).cloned().ok_or_else(|| field_error("signature", format!("no {part}")))?;
        out.insert(part.into(), v);
    }
    let v = if tx_type == 0 {
        match out.get("chainId").and_then(Value::as_str).and_then(hex_quantity) {
            Some(chain_id) => 35 + 2 * chain_id + parity,
            None => 27 + parity,
        }
    } else {
        out.insert("yParity".into(), Value::String(format!("{parity:#x}")));
        parity
    };
    out.insert("v".into(), Value::String(format!("{v:#x}")));
    Ok(Value::Object(out))
}

fn parity(signature: &Value) -> Result<u64, FormatError> {
    let quantity = |v: &Value| match v {
        Value::Bool(b) => Some(u64::from(*b)),
        Value::String(s) => hex_quantity(s),
        _ => None,
    };
    let raw = ["oddYParity", "yParity", "v"]
        .iter()
        .find_map(|k| signature.get(*k).and_then(quantity))
        .ok_or_else(|| field_error("signature", "no y parity"))?;
    Ok(match raw {
        0 | 1 => raw,
        27 | 28 => raw - 27,
        v => (v - 35) % 2,
    })
}

/// Withdrawals in either shape.
pub fn withdrawals(value: &Value) -> Result<Vec<Withdrawal>, FormatError> {
    serde_json::from_value(normalise(value)).map_err(|e| field_error("withdrawals", e))
}

/// A block from its header, transactions and withdrawals (`None` before Shanghai).
pub fn block(header_json: &Value, txs: &[Value], withdrawals_json: Option<&Value>) -> Result<EthBlock, FormatError> {
    let header = header(header_json)?;
    let transactions =
        txs.iter().map(|tx| transaction(tx).map(bp_input::BlockTx::Ethereum)).collect::<Result<Vec<_>, _>>()?;
    let withdrawals = match withdrawals_json {
        Some(w) if !w.is_null() => Some(Withdrawals::new(withdrawals(w)?)),
        _ => None,
    };
    Ok(EthBlock { header, body: BlockBody { transactions, ommers: Vec::new(), withdrawals } })
}

/// A JSON-RPC block object (`eth_getBlockByNumber` with full transactions).
pub fn rpc_block(value: &Value) -> Result<EthBlock, FormatError> {
    let txs = value
        .get("transactions")
        .and_then(Value::as_array)
        .ok_or_else(|| field_error("block", "no transaction objects (fetch with full transactions)"))?;
    if txs.iter().any(|t| t.is_string()) {
        return Err(field_error("block", "transactions are hashes, not objects"));
    }
    if value.get("uncles").and_then(Value::as_array).is_some_and(|u| !u.is_empty()) {
        return Err(field_error("block", "blocks with ommers are pre-merge and not supported"));
    }
    block(value, txs, value.get("withdrawals"))
}

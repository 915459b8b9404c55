//! The L2 JSON-RPC on a real builder: what wallets call, and bad input answered with JSON-RPC
//! errors while the node keeps serving.

use std::sync::{Arc, Mutex};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Signature, TxKind, U256};
use bp_devnet::{Builder, DepositFeed};
use bp_input::PrivilegedTx;
use bp_node::{rpc, Chain, Sequencer};
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};

struct NoDeposits;
impl DepositFeed for NoDeposits {
    fn deposits(&mut self, _: u64, _: u64) -> Result<Vec<PrivilegedTx>, String> {
        Ok(Vec::new())
    }
}

/// Developer account 0's key, as the devnet derives it.
fn dev_key() -> (SigningKey, Address) {
    let key = SigningKey::from_slice(keccak256("blockprover devnet account 0").as_slice()).expect("a key");
    let address = Address::from_public_key(key.verifying_key());
    (key, address)
}

fn sign(key: &SigningKey, tx: TxEip1559) -> String {
    let (sig, recovery) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).expect("signs");
    let signed = tx.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd()));
    alloy_primitives::hex::encode_prefixed(TxEnvelope::Eip1559(signed).encoded_2718())
}

fn call(chain: &Chain, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let answer = rpc::answer(chain, body.as_bytes());
    match answer.get("result") {
        Some(result) => Ok(result.clone()),
        None => Err(answer["error"].clone()),
    }
}

fn quantity(value: &Value) -> u128 {
    u128::from_str_radix(value.as_str().expect("a quantity").trim_start_matches("0x"), 16).expect("hex")
}

#[test]
fn wallets_send_transfers_and_read_the_chain_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let builder = Arc::new(Mutex::new(Builder::open(&dir.path().join("l2.sqlite")).expect("opens")));
    let chain = Arc::new(Chain::new(builder.clone(), None));
    let sequencer = Sequencer::new(chain.clone(), 2);
    let (key, from) = dev_key();
    let to = Address::repeat_byte(0x77);

    assert_eq!(quantity(&call(&chain, "eth_chainId", json!([])).unwrap()), u128::from(bp_devnet::DEVNET_CHAIN_ID));
    assert_eq!(call(&chain, "net_version", json!([])).unwrap(), json!(bp_devnet::DEVNET_CHAIN_ID.to_string()));
    assert!(call(&chain, "web3_clientVersion", json!([])).unwrap().as_str().unwrap().starts_with("blockprover/"));
    assert_eq!(quantity(&call(&chain, "eth_blockNumber", json!([])).unwrap()), 0);
    let gas_price = quantity(&call(&chain, "eth_gasPrice", json!([])).unwrap());
    let tip = quantity(&call(&chain, "eth_maxPriorityFeePerGas", json!([])).unwrap());
    assert!(gas_price > tip);
    let estimate = call(&chain, "eth_estimateGas", json!([{"from": from, "to": to, "value": "0x1"}])).unwrap();
    assert_eq!(quantity(&estimate), 21_000);
    // eth_call runs on the head state: the identity precompile echoes its input, and a call
    // whose sender cannot pay the value is an error, not a result.
    let identity = Address::with_last_byte(4);
    let echoed =
        call(&chain, "eth_call", json!([{"from": from, "to": identity, "input": "0x1234"}, "latest"])).unwrap();
    assert_eq!(echoed, json!("0x1234"));
    let penniless = Address::repeat_byte(0x55);
    assert!(call(&chain, "eth_call", json!([{"from": penniless, "to": to, "value": "0x1"}, "latest"])).is_err());

    let transfer = TxEip1559 {
        chain_id: bp_devnet::DEVNET_CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: gas_price,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(to),
        value: U256::from(12345),
        ..Default::default()
    };
    let hash = call(&chain, "eth_sendRawTransaction", json!([sign(&key, transfer.clone())])).unwrap();
    let pending = call(&chain, "eth_getTransactionByHash", json!([hash])).unwrap();
    assert_eq!(pending["blockNumber"], Value::Null);
    assert_eq!(quantity(&call(&chain, "eth_getTransactionCount", json!([from, "pending"])).unwrap()), 1);
    assert_eq!(call(&chain, "eth_getTransactionReceipt", json!([hash])).unwrap(), Value::Null);

    // Refused for the right reason, and the node goes on serving.
    let refused = |tx: TxEip1559| call(&chain, "eth_sendRawTransaction", json!([sign(&key, tx)])).unwrap_err();
    assert!(refused(TxEip1559 { chain_id: 1, ..transfer.clone() })["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid chain id"));
    assert!(refused(transfer.clone())["message"].as_str().unwrap().starts_with("already known"));
    let error = call(&chain, "eth_sendRawTransaction", json!(["0x02c0"])).unwrap_err();
    assert_eq!(error["code"], json!(-32000));
    let error = call(&chain, "eth_nope", json!([])).unwrap_err();
    assert_eq!(error["code"], json!(-32601));
    let error = call(&chain, "eth_getBalance", json!(["not an address"])).unwrap_err();
    assert_eq!(error["code"], json!(-32602));
    let oversized = (0..=rpc::MAX_BATCH).map(|_| json!({"id": 1, "method": "eth_chainId"})).collect();
    let answer = rpc::answer(&chain, Value::Array(oversized).to_string().as_bytes());
    assert_eq!(answer["error"]["code"], json!(-32600));
    assert_eq!(rpc::answer(&chain, b"{not json")["error"]["code"], json!(-32700));

    let produced = sequencer.produce(&mut NoDeposits, 1_800_000_000).expect("a block");
    assert_eq!((produced.block, produced.transactions, produced.sealed), (1, 1, None));
    assert_eq!(refused(transfer.clone())["message"].as_str().unwrap(), "nonce too low: next nonce 1, tx nonce 0");
    let receipt = call(&chain, "eth_getTransactionReceipt", json!([hash])).unwrap();
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(quantity(&receipt["gasUsed"]), 21_000);
    assert_eq!(receipt["from"], json!(from));
    assert_eq!(quantity(&call(&chain, "eth_getBalance", json!([to, "latest"])).unwrap()), 12345);
    assert_eq!(quantity(&call(&chain, "eth_getBalance", json!([to, "0x0"])).unwrap()), 0, "state at genesis");
    let block = call(&chain, "eth_getBlockByNumber", json!(["0x1", true])).unwrap();
    assert_eq!(block["transactions"][0]["hash"], hash);
    let by_hash = call(&chain, "eth_getBlockByHash", json!([block["hash"], false])).unwrap();
    assert_eq!(by_hash["transactions"][0], hash);
    assert_eq!(call(&chain, "eth_getBlockByNumber", json!(["0x99", false])).unwrap(), Value::Null, "unknown block");
    assert!(call(&chain, "eth_getBalance", json!([to, "0x99"])).is_err(), "state of an unknown block");

    // A second block seals the batch of two; its withdrawal-free transfer has no claim.
    let produced = sequencer.produce(&mut NoDeposits, 1_800_000_001).expect("a block");
    assert_eq!(produced.sealed, Some(0));
    assert!(call(&chain, "bp_getWithdrawalProof", json!([hash])).unwrap_err()["message"]
        .as_str()
        .unwrap()
        .contains("made no withdrawal"));

    // The proof of an account is against the block's state root.
    let proof = call(&chain, "eth_getProof", json!([to, ["0x0"], "latest"])).unwrap();
    assert_eq!(quantity(&proof["balance"]), 12345);
    let root = call(&chain, "eth_getBlockByNumber", json!(["latest", false])).unwrap()["stateRoot"].clone();
    let first = proof["accountProof"][0].as_str().unwrap();
    let first = alloy_primitives::hex::decode(first).unwrap();
    assert_eq!(json!(keccak256(&first)), root, "the proof starts at the state root");

    // Code, storage and calls against a genesis contract (the L2 bridge).
    let code = call(&chain, "eth_getCode", json!([bp_input::L2_BRIDGE_ADDRESS, "latest"])).unwrap();
    assert!(code.as_str().unwrap().len() > 2);
    let slot = call(&chain, "eth_getStorageAt", json!([bp_input::L2_BRIDGE_ADDRESS, "0x0", "latest"])).unwrap();
    assert_eq!(slot.as_str().unwrap().len(), 66);
    let history = call(&chain, "eth_feeHistory", json!(["0x2", "latest", [50.0]])).unwrap();
    assert_eq!(history["baseFeePerGas"].as_array().unwrap().len(), 3);
    let logs = call(&chain, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "latest"}])).unwrap();
    assert!(logs.as_array().unwrap().is_empty(), "a transfer logs nothing");
    let error = call(&chain, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "0x100000"}])).unwrap_err();
    assert!(error["message"].as_str().unwrap().contains("the most is"));

    // Any other prover can prove a block from its witness: the program accepts it.
    let witness = call(&chain, "debug_executionWitness", json!(["0x1"])).unwrap();
    let witness: bp_input::ExecutionWitness = serde_json::from_value(witness).expect("a witness");
    let b = builder.lock().unwrap();
    let input = bp_input::ProgramInput {
        blocks: vec![b.blocks()[1].block.clone()],
        parent_header: b.blocks()[0].block.header.clone(),
        witness,
        chain: b.chain().clone(),
        l2: None,
    };
    let out = bp_program::execute_input(&input).expect("the witness proves block 1");
    assert_eq!(out.final_state_root, b.blocks()[1].block.header.state_root);
}

//! raiko's guest input: the parent state as partial tries (zeth `MptNode` JSON), storage tries
//! per account and the bytecodes.

use alloy_primitives::{keccak256, Bytes, B256};
use alloy_rlp::{Encodable, Header as RlpHeader};
use bp_input::{ChainConfig, ProgramInput};
use bp_witness::{NoFetch, ProofWitnessBuilder};
use serde_json::Value;

use crate::{chain, json, FormatError};

/// How a parent refers to a node.
enum NodeRef {
    Empty,
    Digest(B256),
    Node(Vec<u8>),
}

fn bad(reason: impl Into<String>) -> FormatError {
    FormatError::Field { what: "partial trie", reason: reason.into() }
}

fn byte_list(value: &Value) -> Result<Vec<u8>, FormatError> {
    value
        .as_array()
        .ok_or_else(|| bad("expected a byte list"))?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(|| bad("not a byte")))
        .collect()
}

fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: usize = items.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(payload + 9);
    RlpHeader { list: true, payload_length: payload }.encode(&mut out);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 9);
    bytes.encode(&mut out);
    out
}

/// The encoding of a child reference inside its parent; nodes of 32 bytes or more are stored.
fn child(node: NodeRef, out: &mut Vec<Bytes>) -> Vec<u8> {
    match node {
        NodeRef::Empty => vec![0x80],
        NodeRef::Digest(hash) => string(hash.as_slice()),
        NodeRef::Node(rlp) if rlp.len() < 32 => rlp,
        NodeRef::Node(rlp) => {
            let hash = keccak256(&rlp);
            out.push(rlp.into());
            string(hash.as_slice())
        }
    }
}

/// `{"data": "Null" | {"Digest": h} | {"Leaf": [path, value]} | {"Extension": [path, child]} |
/// {"Branch": [16 children or null]}}`; `path` is hex-prefix encoded.
fn node(value: &Value, out: &mut Vec<Bytes>) -> Result<NodeRef, FormatError> {
    let data = value.get("data").ok_or_else(|| bad("node without data"))?;
    if data.as_str() == Some("Null") {
        return Ok(NodeRef::Empty);
    }
    let (kind, body) = data.as_object().and_then(|m| m.iter().next()).ok_or_else(|| bad("empty node"))?;
    Ok(match kind.as_str() {
        "Digest" => NodeRef::Digest(body.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad digest"))?),
        "Leaf" => NodeRef::Node(list(&[string(&byte_list(&body[0])?), string(&byte_list(&body[1])?)])),
        "Extension" => {
            let path = string(&byte_list(&body[0])?);
            let inner = node(&body[1], out)?;
            NodeRef::Node(list(&[path, child(inner, out)]))
        }
        "Branch" => {
            let children =
                body.as_array().filter(|c| c.len() == 16).ok_or_else(|| bad("a branch needs 16 children"))?;
            let mut items = Vec::with_capacity(17);
            for c in children {
                let inner = if c.is_null() { NodeRef::Empty } else { node(c, out)? };
                items.push(child(inner, out));
            }
            items.push(vec![0x80]);
            NodeRef::Node(list(&items))
        }
        other => return Err(bad(format!("unknown node kind {other:?}"))),
    })
}

/// Every hash-referenced node of the trie, root included.
fn trie_nodes(root: &Value, out: &mut Vec<Bytes>) -> Result<(), FormatError> {
    if let NodeRef::Node(rlp) = node(root, out)? {
        out.push(rlp.into());
    }
    Ok(())
}

pub(crate) fn input(json: &Value, chain: Option<&ChainConfig>) -> Result<ProgramInput, FormatError> {
    let block_json = &json["block"];
    let txs: Vec<Value> = block_json["body"].as_array().cloned().unwrap_or_default();
    if block_json["ommers"].as_array().is_some_and(|o| !o.is_empty()) {
        return Err(bad("blocks with ommers are not supported"));
    }
    let block = json::block(&block_json["header"], &txs, block_json.get("withdrawals"))?;
    let parent = json::header(&json["parent_header"])?;

    let mut nodes = Vec::new();
    trie_nodes(&json["parent_state_trie"], &mut nodes)?;
    for (_, entry) in json["parent_storage"].as_object().ok_or_else(|| bad("parent_storage is not an object"))? {
        trie_nodes(&entry[0], &mut nodes)?;
    }
    let mut builder = ProofWitnessBuilder::new(parent.clone());
    for node in nodes {
        builder.add_node(node);
    }
    for code in json["contracts"].as_array().into_iter().flatten() {
        let code: Bytes = code.as_str().and_then(|c| c.parse().ok()).ok_or_else(|| bad("contract is not hex"))?;
        builder.add_code(code);
    }

    let chain = match chain {
        Some(chain) => chain.clone(),
        None => {
            let id = json["chain_spec"]["chain_id"]
                .as_u64()
                .ok_or_else(|| FormatError::Chain("no chain_spec.chain_id; pass --chain".into()))?;
            chain::by_id(id)?
        }
    };
    let blocks = vec![block];
    let built = builder.build(&blocks, &chain, &mut NoFetch)?;
    Ok(ProgramInput { blocks, parent_header: parent, witness: built.witness, chain, l2: None })
}

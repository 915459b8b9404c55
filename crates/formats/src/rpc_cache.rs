//! zeth's RPC cache: blocks N-1 and N, and `eth_getProof` of every touched account and slot at
//! N-1 (the pre-state) and at N (the post-state, for collapse siblings).

use bp_input::{ChainConfig, ProgramInput};
use bp_witness::{AccountProof, NoFetch, ProofWitnessBuilder};
use serde_json::Value;

use crate::{chain, json, FormatError};

fn pairs<'a>(json: &'a Value, key: &'static str) -> Result<&'a [Value], FormatError> {
    json.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or(FormatError::Field { what: "rpc cache", reason: format!("no {key} list") })
}

fn block_no(pair: &Value) -> Option<u64> {
    pair.get(0)?.get("block_no")?.as_u64()
}

/// The input and how many collapse siblings were recovered from post-state proofs.
pub(crate) fn input(json: &Value, chain: Option<&ChainConfig>) -> Result<(ProgramInput, usize), FormatError> {
    let blocks = pairs(json, "full_blocks")?;
    let number = blocks
        .iter()
        .filter_map(block_no)
        .max()
        .ok_or(FormatError::Field { what: "rpc cache", reason: "no blocks".into() })?;
    let find_block = |n: u64| {
        blocks
            .iter()
            .find(|p| block_no(p) == Some(n))
            .map(|p| &p[1])
            .ok_or(FormatError::Field { what: "rpc cache", reason: format!("block {n} is not in the cache") })
    };
    let parent_number = number
        .checked_sub(1)
        .ok_or(FormatError::Field { what: "rpc cache", reason: "block 0 has no parent to prove against".into() })?;
    let block = json::rpc_block(find_block(number)?)?;
    let parent = json::header(find_block(parent_number)?)?;

    let mut builder = ProofWitnessBuilder::new(parent.clone());
    for pair in pairs(json, "proofs")? {
        let proof: AccountProof = serde_json::from_value(pair[1].clone())
            .map_err(|e| FormatError::Field { what: "eth_getProof result", reason: e.to_string() })?;
        match block_no(pair) {
            Some(n) if n == parent_number => builder.add_pre_proof(&proof),
            Some(n) if n == number => builder.add_post_proof(&proof),
            _ => {}
        }
    }
    for pair in pairs(json, "code")? {
        if let Some(code) = pair.get(1).and_then(Value::as_str) {
            let code: alloy_primitives::Bytes =
                code.parse().map_err(|_| FormatError::Field { what: "code", reason: "not hex".into() })?;
            builder.add_code(code);
        }
    }

    let chain = match chain {
        Some(chain) => {
            // Before the build, which executes the block: under another chain's rules it would fail
            // for a reason that hides this one.
            crate::check_chain(std::slice::from_ref(&block), chain.chain_id, None)?;
            chain.clone()
        }
        None => {
            let id = block
                .body
                .transactions
                .iter()
                .find_map(alloy_consensus::Transaction::chain_id)
                .ok_or_else(|| FormatError::Chain("no transaction names the chain id; pass --chain".into()))?;
            chain::by_id(id)?
        }
    };
    let blocks = vec![block];
    let built = builder.build(&blocks, &chain, &mut NoFetch)?;
    Ok((ProgramInput { blocks, parent_header: parent, witness: built.witness, chain, l2: None }, built.recovered))
}

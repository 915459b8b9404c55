//! One blockchain-test fixture, run block by block through the stateless program.

use std::collections::BTreeMap;

use alloy_hardforks::EthereumHardfork;
use alloy_primitives::{Address, Bytes, B256, U256};
use bp_input::{ChainConfig, ChainConfigError, EthBlock, ProgramInput};
use bp_program::{execute_input, ErrorChain, ProgramError};
use bp_witness::{AllocAccount, FullState};
use serde_json::Value;

/// What became of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every block did what the test says.
    Passed,
    /// Why it failed.
    Failed(String),
    /// Why it was not run (listed in SKIPS.md).
    Skipped(String),
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("fixture lacks `{name}`"))
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    field(v, name)?.as_str().ok_or_else(|| format!("`{name}` is not a string"))
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    alloy_primitives::hex::decode(h).map_err(|e| format!("bad hex {s:?}: {e}"))
}

fn quantity(s: &str) -> Result<U256, String> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    if h.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(h, 16).map_err(|e| format!("bad quantity {s:?}: {e}"))
}

fn parse_alloc(pre: &Value) -> Result<BTreeMap<Address, AllocAccount>, String> {
    let mut alloc = BTreeMap::new();
    for (address, account) in pre.as_object().ok_or("`pre` is not an object")? {
        let address: Address = address.parse().map_err(|e| format!("bad address {address}: {e}"))?;
        let mut storage = BTreeMap::new();
        if let Some(slots) = account.get("storage").and_then(Value::as_object) {
            for (slot, value) in slots {
                storage.insert(quantity(slot)?, quantity(value.as_str().ok_or("storage value")?)?);
            }
        }
        let nonce = quantity(text(account, "nonce")?)?;
        alloc.insert(
            address,
            AllocAccount {
                nonce: u64::try_from(nonce).map_err(|_| "nonce over u64")?,
                balance: quantity(text(account, "balance")?)?,
                code: Bytes::from(hex_bytes(text(account, "code")?)?),
                storage,
            },
        );
    }
    Ok(alloc)
}

/// A block decoded from exactly its canonical RLP, or `None` if the bytes are not one.
fn decode_block(rlp: &[u8]) -> Option<EthBlock> {
    bp_input::decode_block(rlp).ok()
}

fn chain_for(fixture: &Value, network: &str) -> Result<ChainConfig, Outcome> {
    let mut chain = ChainConfig::for_test_network(network).map_err(|e| match e {
        ChainConfigError::PreMerge(_) => {
            Outcome::Skipped("pre-merge fork (proof-of-work rules are out of scope)".into())
        }
        ChainConfigError::UnknownNetwork(n) => Outcome::Skipped(format!("fork {n} is not supported")),
    })?;
    let config = fixture.get("config");
    if let Some(id) = config.and_then(|c| c.get("chainid")).and_then(Value::as_str) {
        let id = quantity(id).map_err(Outcome::Failed)?;
        chain.chain_id = u64::try_from(id).map_err(|_| Outcome::Failed("chain id over u64".into()))?;
    }
    if let Some(schedule) = config.and_then(|c| c.get("blobSchedule")).and_then(Value::as_object) {
        for (name, params) in schedule {
            let fork = match name.as_str() {
                "Cancun" => EthereumHardfork::Cancun,
                "Prague" => EthereumHardfork::Prague,
                "Osaka" => EthereumHardfork::Osaka,
                "BPO1" => EthereumHardfork::Bpo1,
                "BPO2" => EthereumHardfork::Bpo2,
                "Amsterdam" => EthereumHardfork::Amsterdam,
                other => return Err(Outcome::Skipped(format!("blob schedule for unsupported fork {other}"))),
            };
            if !chain.forks.iter().any(|(f, _)| *f == fork) {
                continue;
            }
            let get = |k: &str| -> Result<u64, Outcome> {
                let v = params
                    .get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| Outcome::Failed(format!("blobSchedule.{name}.{k}")))?;
                let v = quantity(v).map_err(Outcome::Failed)?;
                u64::try_from(v).map_err(|_| Outcome::Failed(format!("blobSchedule.{name}.{k} over u64")))
            };
            chain.set_blob_params(fork, get("target")?, get("max")?, u128::from(get("baseFeeUpdateFraction")?));
        }
    }
    Ok(chain)
}

/// The chain rules and the full genesis state of a fixture, with the genesis checked against
/// the fixture's own header hash and state root.
fn setup(fixture: &Value) -> Result<(ChainConfig, FullState), Outcome> {
    let failed = Outcome::Failed;
    let network = text(fixture, "network").map_err(failed)?;
    let chain = chain_for(fixture, network)?;
    let genesis_rlp = hex_bytes(text(fixture, "genesisRLP").map_err(failed)?).map_err(failed)?;
    let genesis = decode_block(&genesis_rlp).ok_or_else(|| failed("genesis RLP does not decode".into()))?.header;
    let expected_genesis: B256 = text(field(fixture, "genesisBlockHeader").map_err(failed)?, "hash")
        .map_err(failed)?
        .parse()
        .map_err(|e| failed(format!("genesis hash: {e}")))?;
    if genesis.hash_slow() != expected_genesis {
        return Err(failed("genesis header hash differs from genesisBlockHeader.hash".into()));
    }
    let alloc = parse_alloc(field(fixture, "pre").map_err(failed)?).map_err(failed)?;
    let state = FullState::from_alloc(&alloc, genesis).map_err(|(computed, header)| {
        failed(format!("pre-state root {computed} differs from genesis state root {header}"))
    })?;

    Ok((chain, state))
}

/// Stateless inputs of a fixture's valid blocks, recorded as the runner records them.
pub fn stateless_inputs(fixture: &Value) -> Result<Vec<ProgramInput>, String> {
    let (chain, mut state) = setup(fixture).map_err(|o| format!("{o:?}"))?;
    let mut inputs = Vec::new();
    for entry in field(fixture, "blocks")?.as_array().ok_or("blocks")? {
        if entry.get("expectException").is_some() {
            continue;
        }
        let block = decode_block(&hex_bytes(text(entry, "rlp")?)?).ok_or("block does not decode")?;
        let parent = state.header(&block.header.parent_hash).cloned().ok_or("unknown parent")?;
        let generated = state.execute(std::slice::from_ref(&block), &chain).ok_or("unknown parent")?;
        generated.result.map_err(|e| e.to_string())?;
        inputs.push(ProgramInput {
            blocks: vec![block],
            parent_header: parent,
            witness: generated.witness,
            chain: chain.clone(),
            l2: None,
        });
    }
    Ok(inputs)
}

/// A zkEVM-suite block's EIP-8025 input (`statelessInputBytes`), if it has one, run through
/// the stateless path: its output must be the fixture's `statelessOutputBytes`, byte for byte.
fn check_stateless(entry: &Value) -> Result<(), String> {
    let (Some(input), Some(expected)) = (entry.get("statelessInputBytes"), entry.get("statelessOutputBytes")) else {
        return Ok(());
    };
    let bytes = |v: &Value| v.as_str().ok_or_else(|| "not a hex string".to_owned()).and_then(hex_bytes);
    let input = bp_stateless::decode(&bytes(input)?).map_err(|e| e.to_string())?;
    let (result, invalid) = bp_stateless::validate(&input);
    let got = result.to_bytes();
    let expected = bytes(expected)?;
    if got != expected {
        let why = invalid.map(|e| format!(" ({e})")).unwrap_or_default();
        return Err(format!(
            "output 0x{} where the fixture has 0x{}{why}",
            alloy_primitives::hex::encode(&got),
            alloy_primitives::hex::encode(&expected)
        ));
    }
    Ok(())
}

/// Runs one fixture.
pub fn run_fixture(fixture: &Value) -> Outcome {
    match run(fixture) {
        Ok(()) => Outcome::Passed,
        Err(outcome) => outcome,
    }
}

fn is_witness_error(error: &ProgramError) -> bool {
    matches!(
        error,
        ProgramError::Witness(_) | ProgramError::MissingStateRoot(_) | ProgramError::InvalidAncestorHeader { .. }
    )
}

fn run(fixture: &Value) -> Result<(), Outcome> {
    let failed = Outcome::Failed;
    let (chain, mut state) = setup(fixture)?;

    let blocks =
        field(fixture, "blocks").map_err(failed)?.as_array().ok_or_else(|| failed("`blocks` is not a list".into()))?;
    let mut forked = false;
    for (i, entry) in blocks.iter().enumerate() {
        check_stateless(entry).map_err(|e| failed(format!("block {i}: EIP-8025: {e}")))?;
        let expect_invalid = entry.get("expectException").is_some();
        let rlp = hex_bytes(text(entry, "rlp").map_err(failed)?).map_err(failed)?;
        let Some(block) = decode_block(&rlp) else {
            if expect_invalid {
                continue;
            }
            return Err(failed(format!("block {i}: valid block does not decode")));
        };
        let Some(parent) = state.header(&block.header.parent_hash).cloned() else {
            if expect_invalid {
                continue;
            }
            return Err(failed(format!("block {i}: parent {} is unknown", block.header.parent_hash)));
        };
        forked |= block.header.parent_hash != state.head().hash_slow();
        let generated = state.execute(std::slice::from_ref(&block), &chain).expect("parent is known");
        let input = ProgramInput {
            blocks: vec![block.clone()],
            parent_header: parent,
            witness: generated.witness,
            chain: chain.clone(),
            l2: None,
        };
        let stateless = execute_input(&input);
        if expect_invalid {
            match (&generated.result, &stateless) {
                (Err(_), Err(e)) if !is_witness_error(e) => continue,
                (_, Err(e)) if is_witness_error(e) => {
                    return Err(failed(format!(
                        "block {i}: invalid block rejected for a witness reason: {}",
                        ErrorChain(e)
                    )))
                }
                (Ok(_), _) | (_, Ok(_)) => {
                    return Err(failed(format!(
                        "block {i}: invalid block accepted ({})",
                        entry["expectException"].as_str().unwrap_or("?")
                    )))
                }
                _ => unreachable!("all combinations covered"),
            }
        }
        let output = match (generated.result, stateless) {
            (Ok(full), Ok(stateless)) if full == stateless => stateless,
            (Ok(_), Ok(_)) => return Err(failed(format!("block {i}: stateless and full-state outputs differ"))),
            (Err(e), _) => return Err(failed(format!("block {i}: valid block rejected: {}", ErrorChain(&e)))),
            (Ok(_), Err(e)) => return Err(failed(format!("block {i}: stateless run failed: {}", ErrorChain(&e)))),
        };
        let header = field(entry, "blockHeader").map_err(failed)?;
        let root: B256 = text(header, "stateRoot").map_err(failed)?.parse().map_err(|e| failed(format!("{e}")))?;
        let hash: B256 = text(header, "hash").map_err(failed)?.parse().map_err(|e| failed(format!("{e}")))?;
        if output.final_state_root != root || output.last_block_hash != hash {
            return Err(failed(format!("block {i}: outputs differ from the fixture's header")));
        }
    }
    // With side chains the fixture's head is chosen by fork choice, which is not the program's
    // business; it must still be a block the program validated. Without them it is the last one.
    let last: B256 = text(fixture, "lastblockhash").map_err(failed)?.parse().map_err(|e| failed(format!("{e}")))?;
    let head = state.head().hash_slow();
    if head != last && (!forked || state.header(&last).is_none()) {
        return Err(failed(format!("last block hash {head}, fixture says {last}")));
    }
    Ok(())
}

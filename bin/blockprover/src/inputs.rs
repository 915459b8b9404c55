//! `execute`, `convert` and `witness`: program inputs from files and nodes.

use crate::output::errln;
use std::{path::Path, time::Instant};

use anyhow::{Context, Result};
use bp_input::{ChainConfig, ProgramInput};
use bp_rpc_witness::{RpcClient, WitnessPath};

/// How input files are read: the chain rules that override what a file names, and the size
/// limit (decompressed).
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    pub(crate) chain: Option<ChainConfig>,
    pub(crate) max_bytes: u64,
}

pub(crate) fn load(path: &Path, reader: &Reader) -> Result<(bp_formats::Loaded, f64)> {
    let started = Instant::now();
    let loaded = bp_formats::load(path, reader.chain.as_ref(), reader.max_bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok((loaded, started.elapsed().as_secs_f64() * 1e3))
}

pub(crate) fn execute(path: &Path, reader: &Reader) -> Result<()> {
    let started = Instant::now();
    let bytes =
        bp_formats::read_bytes(path, reader.max_bytes).with_context(|| format!("reading {}", path.display()))?;
    if let Some(input) = stateless_input(&bytes) {
        return execute_stateless(&input, started);
    }
    let (loaded, load_ms) = load(path, reader)?;
    let input = &loaded.input;
    let started = Instant::now();
    let (output, gas_used) = bp_program::execute_input_with_probe(input, &mut bp_program::NoProbe)
        .context("the program rejected the input")?;
    let mut json = serde_json::to_value(output)?;
    json["gas_used"] = gas_used.into();
    json["batch_kind"] = if output.l2.is_some() { "l2" } else { "l1" }.into();
    json["format"] = loaded.format.name().into();
    json["blocks"] = input.blocks.len().into();
    json["first_block"] = input.blocks.first().map(|b| b.header.number).into();
    json["last_block"] = input.blocks.last().map(|b| b.header.number).into();
    json["witness_bytes"] = input.witness.byte_size().into();
    json["load_ms"] = micros(load_ms).into();
    json["elapsed_ms"] = micros(started.elapsed().as_secs_f64() * 1e3).into();
    crate::output::json(&json);
    Ok(())
}

/// An EIP-8025 SSZ stateless input, if `bytes` are one (and neither our binary form nor JSON).
pub(crate) fn stateless_input(bytes: &[u8]) -> Option<bp_stateless::containers::StatelessInput> {
    if bytes.starts_with(bp_input::BINARY_MAGIC) || bytes.first().is_some_and(|b| matches!(b, b'{' | b'[')) {
        return None;
    }
    bp_stateless::decode(bytes).ok()
}

/// `execute` of an EIP-8025 input: the standard's output, whose success flag is false for an
/// invalid payload or an incomplete witness (the reason is logged, the exit status is 0).
fn execute_stateless(input: &bp_stateless::containers::StatelessInput, started: Instant) -> Result<()> {
    let (result, invalid) = bp_stateless::validate(input);
    let mut json = public_output_json(&bp_stateless::PublicOutput::Stateless(result), invalid.as_ref())?;
    merge(&mut json, stateless_description(input));
    json["elapsed_ms"] = micros(started.elapsed().as_secs_f64() * 1e3).into();
    crate::output::json(&json);
    Ok(())
}

/// What a run commits, as JSON: a batch's outputs by word, or an EIP-8025 result (its SSZ bytes
/// and their fields, with why the payload is invalid, which is logged too).
pub(crate) fn public_output_json(
    output: &bp_stateless::PublicOutput,
    invalid: Option<&bp_stateless::InvalidPayload>,
) -> Result<serde_json::Value> {
    Ok(match output {
        bp_stateless::PublicOutput::Batch(output) => {
            let mut json = serde_json::to_value(output)?;
            json["batch_kind"] = if output.l2.is_some() { "l2" } else { "l1" }.into();
            json
        }
        bp_stateless::PublicOutput::Stateless(result) => {
            if let Some(reason) = invalid {
                tracing::warn!("the payload is not valid: {reason}");
            }
            serde_json::json!({
                "stateless_output": format!("0x{}", alloy_primitives::hex::encode(result.to_bytes())),
                "new_payload_request_root": result.new_payload_request_root,
                "successful_validation": result.successful_validation,
                "chain_id": result.chain_config.chain_id,
                "reason": invalid.map(ToString::to_string),
            })
        }
    })
}

/// The fields of an EIP-8025 input that say which block it is.
pub(crate) fn stateless_description(input: &bp_stateless::containers::StatelessInput) -> serde_json::Value {
    let payload = &input.new_payload_request.execution_payload;
    serde_json::json!({
        "format": "eip8025-ssz",
        "block": payload.block_number,
        "block_hash": payload.block_hash,
        "payload_gas_used": payload.gas_used,
    })
}

/// Adds `fields`' members to the object `json`.
pub(crate) fn merge(json: &mut serde_json::Value, fields: serde_json::Value) {
    if let (Some(json), serde_json::Value::Object(fields)) = (json.as_object_mut(), fields) {
        json.extend(fields);
    }
}

/// Milliseconds rounded to the microsecond.
pub(crate) fn micros(ms: f64) -> f64 {
    (ms * 1e3).round() / 1e3
}

/// The form `convert` and `witness` write a program input in.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteFormat {
    /// Our binary program input (`BPIN`), what the provers take.
    Bin,
    /// The program input as JSON.
    Json,
    /// An EIP-8025 SSZ StatelessInput (one Amsterdam block; its requests and access list from
    /// running the program), what any EIP-8025 guest takes.
    Ssz,
}

impl WriteFormat {
    /// `format` if given, else by `output`'s extension (`.json`, `.ssz`; anything else binary).
    pub(crate) fn for_output(format: Option<Self>, output: &Path) -> Self {
        format.unwrap_or(match output.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::Json,
            Some("ssz") => Self::Ssz,
            _ => Self::Bin,
        })
    }
}

/// Writes `input` in `format`; returns the size.
fn write_input(input: &ProgramInput, output: &Path, format: WriteFormat) -> Result<usize> {
    let bytes = match format {
        WriteFormat::Json => serde_json::to_vec(input)?,
        WriteFormat::Bin => input.to_binary(),
        WriteFormat::Ssz => bp_stateless::stateless_input(input).context("no EIP-8025 input for it")?.to_bytes(),
    };
    write_atomically(output, &bytes)?;
    Ok(bytes.len())
}

/// Writes `bytes` beside `output` and renames it into place, so a reader never sees half a file.
pub(crate) fn write_atomically(output: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = output.with_extension("partial");
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, output));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing {}", output.display()))
}

pub(crate) fn convert(path: &Path, output: &Path, format: WriteFormat, reader: &Reader) -> Result<()> {
    let source =
        bp_formats::read_bytes(path, reader.max_bytes).with_context(|| format!("reading {}", path.display()))?;
    if let Some(stateless) = stateless_input(&source) {
        let input = bp_stateless::program_input(&stateless)
            .with_context(|| format!("{}: the EIP-8025 payload is not valid", path.display()))?;
        let written = write_input(&input, output, format)?;
        errln!("{} (eip8025-ssz) -> {} ({written} bytes)", path.display(), output.display());
        return Ok(());
    }
    let loaded =
        bp_formats::parse(&source, reader.chain.as_ref()).with_context(|| format!("reading {}", path.display()))?;
    let written = write_input(&loaded.input, output, format)?;
    let json_size = serde_json::to_vec(&loaded.input)?.len();
    let source_size = source.len();
    errln!(
        "{} ({}, {source_size} bytes uncompressed) -> {} ({written} bytes); program-input JSON would be {json_size} bytes",
        path.display(),
        loaded.format.name(),
        output.display(),
    );
    Ok(())
}

/// Which block `witness --block` names: a number (decimal or 0x-hex) or `latest`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BlockTag {
    /// That block.
    Number(u64),
    /// The node's head when asked.
    Latest,
}

impl std::str::FromStr for BlockTag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let number = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            _ if s.eq_ignore_ascii_case("latest") => return Ok(BlockTag::Latest),
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        };
        number.map(BlockTag::Number).map_err(|_| format!("{s:?} is not a block number (decimal, 0x-hex or latest)"))
    }
}

pub(crate) fn witness(
    url: &str,
    block: BlockTag,
    output: &Path,
    format: WriteFormat,
    cache: Option<&Path>,
    chain: Option<ChainConfig>,
) -> Result<()> {
    let client = RpcClient::new(url, cache);
    // A local anvil's blocks break Ethereum's rules unless it is set up for them: say how.
    let advise = |error: anyhow::Error| match bp_rpc_witness::node_is_anvil(&client) {
        true => anyhow::anyhow!("{error:#}\nhint: {}", bp_rpc_witness::ANVIL_ADVICE),
        false => error,
    };
    let chain = bp_rpc_witness::resolve_chain(&client, chain).map_err(|e| advise(e.into()))?;
    let block = match block {
        BlockTag::Number(number) => number,
        BlockTag::Latest => bp_rpc_witness::block_number(&client).context("asking the node for its head")?,
    };
    let started = Instant::now();
    let result = bp_rpc_witness::build_input(&client, block, &chain);
    let calls = (client.calls(), client.cache_hits());
    let (input, report) =
        result.with_context(|| format!("block {block}: {} RPC calls, {} cached", calls.0, calls.1)).map_err(advise)?;
    let written = write_input(&input, output, format)?;
    let path = match report.path {
        WitnessPath::ExecutionWitness => "debug_executionWitness".to_owned(),
        WitnessPath::Proofs => format!(
            "eth_getProof ({} accounts, {} slots; {} collapse siblings from post-state proofs, {} nodes via debug_dbGet, {} extra headers)",
            report.accounts, report.slots, report.recovered, report.fetched_nodes, report.fetched_headers
        ),
    };
    errln!(
        "block {block}: witness from {path}; {} RPC calls, {} answered from cache; {} witness bytes; wrote {written} bytes to {} in {:.1?}",
        client.calls(),
        client.cache_hits(),
        input.witness.byte_size(),
        output.display(),
        started.elapsed()
    );
    Ok(())
}

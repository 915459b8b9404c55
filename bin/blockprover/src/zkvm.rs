//! `execute --backend`, `prove` and `verify`: the program through a proving backend.

use crate::output::errln;
use std::{
    path::Path,
    time::{Duration, Instant},
};

use crate::inputs::Reader;
use anyhow::{bail, Context, Result};
use bp_backend::{Backend, Execution, Progress, Proof, ProofFormat, ProofType};

/// Options of a zkVM run.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct BackendArgs {
    /// exec (native, no proof), risc0 (a build with `--features risc0`) or sp1 (a build with
    /// `--features sp1`); `blockprover --version` lists the backends of this binary. `execute`
    /// defaults to exec; `prove` has no default.
    #[arg(long, env = "BLOCKPROVER_BACKEND")]
    pub backend: Option<ProofType>,
    /// RISC Zero: compute keccak-f in software instead of with the zkVM's keccak accelerator
    /// (to measure what the accelerator saves; results are the same).
    #[arg(long)]
    pub no_keccak_accelerator: bool,
    /// RISC Zero: segments of at most 2^N cycles (15 to 24; default 20). Proving memory is about
    /// linear in the segment size (9.7 GB at 20); smaller segments add paging cycles.
    #[arg(long, value_name = "N")]
    pub segment_po2: Option<u32>,
    /// Where `prove` proves: auto (RISC Zero on a GPU where this machine has one and
    /// blockprover-gpu is beside this binary, else on the CPU), cpu, or gpu (an error where
    /// there is none). The first line `prove` logs says which and why.
    #[arg(long, env = "BLOCKPROVER_DEVICE", default_value = "auto")]
    pub device: bp_backend::gpu::Device,
}

impl BackendArgs {
    /// The backend to run the program with: exec unless another is named.
    pub(crate) fn kind(&self) -> ProofType {
        self.backend.unwrap_or(ProofType::Exec)
    }

    /// Refuses options the chosen backend does not have, rather than ignoring them.
    pub(crate) fn check(&self) -> Result<()> {
        if self.kind() != ProofType::Risc0 && (self.no_keccak_accelerator || self.segment_po2.is_some()) {
            bail!("--no-keccak-accelerator and --segment-po2 are options of the risc0 backend, not {}", self.kind());
        }
        Ok(())
    }

    /// The backend, to execute with.
    fn open(&self) -> Result<Box<dyn Backend>> {
        #[cfg(feature = "risc0")]
        if self.kind() == ProofType::Risc0 {
            return Ok(Box::new(self.risc0()?));
        }
        self.check()?;
        Ok(bp_backend::backend(self.kind())?)
    }

    /// The backend placed on `--device`, to prove with, and the line that says where it proves
    /// and why ([`bp_backend::placed_backend`]).
    fn open_to_prove(&self) -> Result<(Box<dyn Backend>, String)> {
        #[cfg(feature = "risc0")]
        if self.kind() == ProofType::Risc0 {
            let backend = self.risc0()?.on(self.device)?;
            let placement = backend.placement().to_string();
            return Ok((Box::new(backend), placement));
        }
        self.check()?;
        Ok(bp_backend::placed_backend(self.kind(), self.device)?)
    }

    #[cfg(feature = "risc0")]
    fn risc0(&self) -> Result<bp_backend::Risc0Backend> {
        self.check()?;
        let mut backend = bp_backend::Risc0Backend::new()?.with_keccak_accelerator(!self.no_keccak_accelerator);
        if let Some(po2) = self.segment_po2 {
            backend = backend.with_segment_po2(po2)?;
        }
        Ok(backend)
    }
}

/// The bytes a backend runs for any file `execute` reads, and what the file is (as JSON
/// fields): an EIP-8025 SSZ input as it is, for the guest reads it and commits the standard's
/// result; anything else as a binary program input.
fn backend_input(path: &Path, reader: &Reader) -> Result<(Vec<u8>, serde_json::Value)> {
    let bytes =
        bp_formats::read_bytes(path, reader.max_bytes).with_context(|| format!("reading {}", path.display()))?;
    if let Some(input) = crate::inputs::stateless_input(&bytes) {
        return Ok((bytes, crate::inputs::stateless_description(&input)));
    }
    let loaded =
        bp_formats::parse(&bytes, reader.chain.as_ref()).with_context(|| format!("reading {}", path.display()))?;
    let input = &loaded.input;
    let description = serde_json::json!({
        "format": loaded.format.name(),
        "blocks": input.blocks.len(),
        "first_block": input.blocks.first().map(|b| b.header.number),
        "last_block": input.blocks.last().map(|b| b.header.number),
        "witness_bytes": input.witness.byte_size(),
    });
    Ok((input.to_binary(), description))
}

/// `execute --backend B`: outputs, and for a zkVM the cycles per region and per gas.
pub(crate) fn execute(path: &Path, reader: &Reader, args: &BackendArgs) -> Result<()> {
    let (input, description) = backend_input(path, reader)?;
    let backend = args.open()?;
    let started = Instant::now();
    let Execution { output, gas_used, invalid, cycles } = backend.execute(&input).context("execution failed")?;
    let mut json = crate::inputs::public_output_json(&output, invalid.as_ref())?;
    crate::inputs::merge(&mut json, description);
    json["backend"] = backend.proof_type().name().into();
    json["program_id"] = backend.program_id().to_string().into();
    json["gas_used"] = gas_used.into();
    json["input_bytes"] = input.len().into();
    json["elapsed_ms"] = crate::inputs::micros(started.elapsed().as_secs_f64() * 1e3).into();
    if let Some(cycles) = cycles {
        let regions: serde_json::Map<String, serde_json::Value> =
            cycles.regions.regions().into_iter().map(|(name, count)| (name.to_owned(), count.into())).collect();
        json["cycles"] = serde_json::json!({
            "user": cycles.user,
            "paging": cycles.paging,
            "total": cycles.total,
            "segments": cycles.segments,
            "prover_gas": cycles.prover_gas,
            "per_gas": cycles.per_gas(),
            "regions": regions,
        });
        if backend.proof_type() == ProofType::Risc0 {
            json["cycles"]["keccak_accelerator"] = (!args.no_keccak_accelerator).into();
        }
    }
    crate::output::json(&json);
    Ok(())
}

/// Says how far the proof is every 30 seconds (segments done / total, elapsed, an estimate)
/// until `finished`.
fn report_progress(progress: &Progress, started: Instant, finished: impl Fn() -> bool) {
    const EVERY: Duration = Duration::from_secs(30);
    let mut said = Instant::now();
    while !finished() {
        std::thread::sleep(Duration::from_millis(200));
        if said.elapsed() >= EVERY {
            said = Instant::now();
            errln!("proving: {}", progress.describe(started.elapsed()));
        }
    }
}

/// `prove`: writes the proof file and prints what was proved, how long it took and the peak memory.
pub(crate) fn prove(path: &Path, reader: &Reader, args: &BackendArgs, format: ProofFormat, out: &Path) -> Result<()> {
    let Some(kind) = args.backend else {
        bail!(
            "choose the backend: --backend risc0 or sp1 for a zkVM proof, or --backend exec for none (an exec \
             \"proof\" only carries the outputs; `verify --input` checks it by re-executing the input)"
        );
    };
    let (input, _) = backend_input(path, reader)?;
    let (backend, placement) = args.open_to_prove()?;
    if kind == ProofType::Exec {
        errln!(
            "warning: --backend exec proves nothing: the file carries the public outputs, and `verify --input` \
             checks them by re-executing the input"
        );
    } else {
        errln!("{placement}");
        errln!("proving {} with {kind} ({format}); this takes minutes", path.display());
    }
    let started = Instant::now();
    let progress = Progress::default();
    let proved = std::thread::scope(|scope| {
        let proving = scope.spawn(|| backend.prove_as(&input, format, &progress));
        report_progress(&progress, started, || proving.is_finished());
        proving.join()
    });
    let proof = proved.map_err(|_| anyhow::anyhow!("the prover panicked"))?.context("proving failed")?;
    let proving_s = started.elapsed().as_secs_f64();
    let bytes = proof.to_bytes();
    crate::inputs::write_atomically(out, &bytes)?;

    let mut json = crate::inputs::public_output_json(&proof.public_output()?, None)?;
    json["backend"] = proof.proof_type.name().into();
    // An exec file is no proof of any format.
    json["format"] = if kind == ProofType::Exec { "none" } else { format.name() }.into();
    json["program_id"] = proof.program_id.to_string().into();
    json["proof"] = out.display().to_string().into();
    json["proof_bytes"] = bytes.len().into();
    json["proving_s"] = proving_s.into();
    if let Some(peak) = peak_memory_mib() {
        json["peak_memory_mib"] = peak.into();
    }
    crate::output::json(&json);
    Ok(())
}

/// `verify`: checks a proof file; prints its public outputs as JSON.
pub(crate) fn verify(path: &Path, input: Option<&Path>, reader: &Reader) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let proof = Proof::from_bytes(&bytes).with_context(|| format!("{} is not a proof file", path.display()))?;
    let backend = bp_backend::backend(proof.proof_type)?;
    let input = match input {
        Some(input) => backend_input(input, reader)?.0,
        None if backend.verify_needs_input() => {
            bail!("an {} proof is checked by re-executing its input: pass --input", proof.proof_type)
        }
        None => Vec::new(),
    };
    let started = Instant::now();
    let output = backend.verify(&proof, &input).with_context(|| format!("{} does not verify", path.display()))?;
    let mut json = crate::inputs::public_output_json(&output, None)?;
    json["verified"] = true.into();
    json["backend"] = proof.proof_type.name().into();
    json["program_id"] = proof.program_id.to_string().into();
    json["verify_ms"] = (started.elapsed().as_secs_f64() * 1e3).into();
    crate::output::json(&json);
    Ok(())
}

/// This process's peak resident memory (Linux `VmHWM`), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

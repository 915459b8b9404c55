//! `blockprover-gpu`: the RISC Zero prover of blockprover's program on an NVIDIA GPU. The
//! `blockprover` binary runs it once per proof (bp_backend::gpu says why it is a program of
//! its own and what passes between them); it is not meant to be run by hand, but can be:
//! `blockprover-gpu devices` lists the GPUs, `blockprover-gpu prove --output P < INPUT` proves.

use std::{
    io::{Read, Write},
    path::PathBuf,
    sync::LazyLock,
    time::Duration,
};

use anyhow::{Context, Result};
use bp_backend::{
    gpu::{self, Device},
    Backend, Progress, ProofFormat, Risc0Backend,
};
use clap::{Parser, Subcommand};

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let archs: Vec<String> = gpu::built_archs().iter().map(|a| format!("sm_{a}")).collect();
    format!("{} (RISC Zero CUDA prover for {})", env!("CARGO_PKG_VERSION"), archs.join(", "))
});

#[derive(Parser)]
#[command(name = "blockprover-gpu", version = VERSION.as_str(), about = "Proves blockprover's program on an NVIDIA GPU")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the GPUs the CUDA driver sees, and the architectures this build runs on, as JSON.
    Devices,
    /// Proves the program input read from standard input; writes "segments DONE TOTAL" lines
    /// to standard output as it goes, and the proof to --output.
    Prove {
        /// Where to write the proof.
        #[arg(long)]
        output: PathBuf,
        /// composite, succinct or groth16 (the last two need the recursion circuit).
        #[arg(long, default_value = "composite")]
        format: ProofFormat,
        /// Segments of at most 2^N cycles.
        #[arg(long, value_name = "N")]
        segment_po2: Option<u32>,
        /// Keccak-f in software rather than on the accelerator.
        #[arg(long)]
        no_keccak_accelerator: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Devices => {
            let report = gpu::cuda_devices()?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Prove { output, format, segment_po2, no_keccak_accelerator } => {
            // A machine without a usable GPU is told so, not left to the kernels' first failure.
            let device = gpu::cuda_devices()?.usable()?.clone();
            eprintln!("blockprover-gpu: proving on {device}");
            let mut backend = Risc0Backend::new()?.with_keccak_accelerator(!no_keccak_accelerator).on(Device::Gpu)?;
            if let Some(po2) = segment_po2 {
                backend = backend.with_segment_po2(po2)?;
            }
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input).context("reading the input from standard input")?;
            let proof = prove_reporting(&backend, &input, format)?;
            let partial = output.with_extension("partial");
            std::fs::write(&partial, proof.to_bytes()).with_context(|| format!("writing {}", partial.display()))?;
            std::fs::rename(&partial, &output).with_context(|| format!("writing {}", output.display()))?;
            Ok(())
        }
    }
}

/// Proves, writing a progress line each time a segment is done.
fn prove_reporting(backend: &Risc0Backend, input: &[u8], format: ProofFormat) -> Result<bp_backend::Proof> {
    let progress = Progress::default();
    std::thread::scope(|scope| {
        let proving = scope.spawn(|| backend.prove_as(input, format, &progress));
        let mut said = (0, 0);
        while !proving.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            let now = progress.get();
            if now != said {
                said = now;
                let mut stdout = std::io::stdout().lock();
                if writeln!(stdout, "{}", gpu::progress_line(now.0, now.1)).and_then(|()| stdout.flush()).is_err() {
                    // Whoever ran this has gone (its end of the pipe is closed): the proof
                    // would reach no one, and the GPU is freed for the next.
                    eprintln!("blockprover-gpu: the reader of the progress has gone; stopping");
                    std::process::exit(2);
                }
            }
        }
        proving.join().map_err(|_| anyhow::anyhow!("the prover panicked"))?.context("proving failed")
    })
}

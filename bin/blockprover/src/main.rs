//! `blockprover`: the command-line edge of the system.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod bench;
mod conformance;
mod devnet;
mod devnet_l1;
mod inputs;
mod node;
mod output;
mod service;
mod status;
mod zkvm;

use crate::output::errln;
use std::{io::IsTerminal, path::PathBuf, sync::LazyLock};

use anyhow::{Context, Result};
use bp_input::ChainConfig;
use clap::{Parser, Subcommand};

/// The version, and the backends this binary was built with.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let backends: Vec<&str> =
        bp_backend::ProofType::ALL.iter().filter(|t| bp_backend::backend_built(**t)).map(|t| t.name()).collect();
    // GPU mode: the CUDA prover is a program of its own beside this one (bp_backend::gpu).
    let gpu = match bp_backend::gpu::GpuProver::locate() {
        Ok(prover) if bp_backend::backend_built(bp_backend::ProofType::Risc0) => {
            format!("; risc0 on the CPU, and on NVIDIA GPUs with the CUDA prover {}", prover.path().display())
        }
        _ if bp_backend::backend_built(bp_backend::ProofType::Risc0) => "; risc0 on the CPU (no CUDA prover)".into(),
        _ => String::new(),
    };
    format!(
        "{} (program v{}, protocol v{}; backends: {}{gpu})",
        env!("CARGO_PKG_VERSION"),
        bp_program::PROGRAM_VERSION,
        bp_protocol::PROTOCOL_VERSION,
        backends.join(", ")
    )
});

const AFTER_HELP: &str = "\
Logging: BLOCKPROVER_LOG (or RUST_LOG) sets the log filter, e.g. BLOCKPROVER_LOG=debug or
BLOCKPROVER_LOG=warn,bp_coordinator=info; logs go to standard error, coloured only on a terminal
and never with NO_COLOR set. Results go to standard output.";

#[derive(Parser)]
#[command(name = "blockprover", version = VERSION.as_str(), about = "Proves Ethereum block execution statelessly")]
#[command(after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Largest input file accepted, in MiB once decompressed (a small .zst can inflate to
    /// gigabytes): execute, prove, verify, convert, bench and the coordinator's --inputs.
    #[arg(long, global = true, env = "BLOCKPROVER_MAX_INPUT_MIB", default_value_t = 1024)]
    max_input_mib: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Run blockchain tests (EEST or ethereum/tests) statelessly through the program.
    ///
    /// For every block the witness is recorded from the test's full pre-state, then the program
    /// runs on the block, its parent header and that witness alone, and must reproduce the
    /// block's state root and hash, or reject the block when the test expects an exception.
    /// Prints a per-fork table and a final `N passed, M failed, K skipped` line; exits non-zero
    /// if any test failed.
    Conformance {
        /// Only run fixtures whose `network` equals this (e.g. Prague, CancunToPragueAtTime15k);
        /// repeat for several.
        #[arg(long)]
        fork: Vec<String>,
        /// Print every failing test id with its reason.
        #[arg(long)]
        list_failures: bool,
        /// Worker threads (default: available cores).
        #[arg(long, env = "BLOCKPROVER_JOBS")]
        jobs: Option<usize>,
        /// Run only every Nth test file (a deterministic sample); 1 runs everything.
        #[arg(long, default_value_t = 1)]
        sample: usize,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// A list of tests known to fail, each under its reason (`## reason`, then one test id a
        /// line, as --list-failures prints it): they do not fail the run, but one of them that
        /// passes does (take it off the list), as does any failure not on it.
        #[arg(long)]
        known_failures: Option<PathBuf>,
        /// JSON files, directories or .tar.zst archives of blockchain tests.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Measure native throughput of the program, phase by phase.
    ///
    /// Every program input given (any format `execute` reads, or an archive/directory of them) is
    /// measured, plus the `--top` heaviest valid blocks of any blockchain-test suites given (their
    /// witnesses recorded as the conformance runner does). Per block: gas, transactions, witness
    /// bytes, binary input bytes, and time split into decoding the binary input, witness
    /// verification, execution and state-root update, with Mgas/s. A measurement, not a test.
    Bench {
        /// How many of the heaviest test-suite blocks to measure.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Ignore test-suite blocks using more gas than this: ported legacy tests set absurd gas
        /// limits (up to 2^44) that measure nothing about real blocks.
        #[arg(long, default_value_t = 60_000_000)]
        max_gas: u64,
        /// Timed runs per block, after one untimed warm-up run; the fastest is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Program inputs, blockchain-test JSON files, directories or .tar.zst archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Execute one program input (without proving) and print its public outputs as JSON.
    ///
    /// INPUT is detected by content, plain, .gz or .zst: an ethrex-replay cache with a
    /// `debug_executionWitness`; a zeth RPC cache of `eth_getProof` at N-1 and N; a raiko guest
    /// input with partial tries; a reth stateless input; our own binary/JSON program input; or an
    /// EIP-8025 SSZ StatelessInput, for which it prints the standard's 41-byte output
    /// (`stateless_output`), whose success flag is false, with the reason and exit status 0,
    /// for an invalid payload or an incomplete witness.
    /// With `--backend risc0` or `--backend sp1` the guest runs in that zkVM's executor and the
    /// JSON adds its cycles: user, paging, total (what is proved), segments (RISC Zero; SP1's
    /// prover cuts its own shards), SP1's prover gas (its estimate of the proving work, with
    /// each precompile call weighed by its size), per region (decode, witness, execution,
    /// state_root, commitments) and per gas.
    /// Exits non-zero with the reason if the input is invalid or a state root does not match.
    Execute {
        /// The input file.
        input: PathBuf,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        backend: zkvm::BackendArgs,
    },
    /// Prove one program input with a zkVM backend and write the proof file.
    ///
    /// Prints the public outputs, the proof size, the proving time and the peak memory.
    /// RISC Zero formats: composite (one STARK per segment; the default), succinct (one STARK,
    /// needs RISC Zero's recursion circuit, which an offline build (DOCS_RS=1) lacks) and
    /// groth16 (needs the recursion circuit and Docker on x86, or CUDA). SP1: composite is its
    /// core proof (a STARK per shard), succinct its compressed proof; groth16 needs SP1's
    /// circuit artifacts (a download). A small block takes minutes on two cores. The input is
    /// executed natively first, so a bad one fails at once. An EIP-8025 SSZ input is proved as
    /// it is: the proof commits the standard's 41-byte result.
    Prove {
        /// The input file (any format `execute` reads).
        input: PathBuf,
        /// How much proof: composite, succinct or groth16.
        #[arg(long, default_value = "composite")]
        format: bp_backend::ProofFormat,
        /// Where to write the proof.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        backend: zkvm::BackendArgs,
    },
    /// Check a proof file and print the public outputs it proves as JSON.
    ///
    /// A RISC Zero or SP1 proof is checked against the image id or verifying key of the guest
    /// built into this binary (a proof of any other program is refused); an exec proof, which
    /// proves nothing by itself, is checked by re-executing --input. Exits non-zero if the proof
    /// does not verify.
    Verify {
        /// The proof file (`prove -o`).
        proof: PathBuf,
        /// The batch's input; needed only for exec proofs.
        #[arg(long)]
        input: Option<PathBuf>,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Convert any input `execute` reads into our binary program input, JSON (-o X.json) or an
    /// EIP-8025 SSZ input (-o X.ssz: one Amsterdam block).
    Convert {
        /// The input file.
        input: PathBuf,
        /// Where to write; by its name: `.json` JSON, `.ssz` EIP-8025 SSZ, anything else binary.
        #[arg(short, long)]
        output: PathBuf,
        /// The form to write, whatever the output's name.
        #[arg(long, value_enum)]
        format: Option<inputs::WriteFormat>,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Build the program input of a real block from a JSON-RPC node.
    ///
    /// Prefers `debug_executionWitness`; falls back to `eth_getProof` at N-1 and N for every
    /// account and slot the prestate tracer reports (plus system-call slots and withdrawal
    /// recipients), recovering collapse siblings from the post-state proofs and fetching any other
    /// node a deletion needs with `debug_dbGet`. Retries transient errors with backoff and caches
    /// every answer on disk, so a second run needs no node. The input is executed before it is
    /// written; prints which path was used and how many RPC calls were made.
    Witness {
        /// The node's JSON-RPC URL.
        #[arg(long, env = "BLOCKPROVER_RPC_URL")]
        rpc: String,
        /// The block to prove (its parent's state is the pre-state): a number, decimal or 0x-hex,
        /// or `latest`.
        #[arg(long)]
        block: inputs::BlockTag,
        /// Where to write the input; by its name: `.json` JSON, `.ssz` EIP-8025 SSZ, anything
        /// else binary.
        #[arg(short, long)]
        output: PathBuf,
        /// The form to write, whatever the output's name: `ssz` is an EIP-8025 StatelessInput
        /// (the node's block must be an Amsterdam block; its requests and access list come from
        /// running the program on it).
        #[arg(long, value_enum)]
        format: Option<inputs::WriteFormat>,
        /// Directory for cached RPC answers.
        #[arg(long, alias = "cache", env = "BLOCKPROVER_RPC_CACHE", default_value = ".blockprover-rpc-cache")]
        rpc_cache: PathBuf,
        /// Do not read or write the RPC cache.
        #[arg(long)]
        no_cache: bool,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Run the ProofCoordinator: hand batches to provers over TCP, check and keep their proofs.
    ///
    /// Batches come from a directory of inputs (--inputs) and/or a JSON-RPC node it follows
    /// (--rpc, --blocks-per-batch). Everything — batches, inputs, assignments, proofs — is kept in
    /// SQLite under --data-dir and survives a restart. A submitted proof is stored only if its
    /// batch was assigned, it is of the program this build verifies, its public outputs equal the
    /// batch's (state roots, L2 commitments, last block hash, chain id, transactions) and it verifies (an
    /// exec proof by re-execution). Provers must hold the shared secret; every frame carries an
    /// HMAC-SHA256 tag (docs/protocol.md). Serves /health and Prometheus /metrics. Stops cleanly
    /// on Ctrl-C or SIGTERM. With --l1-rpc-url it has every proved batch verified by the L1
    /// OnChainProposer from its own account (docs/l1.md).
    Coordinator(Box<service::CoordinatorArgs>),
    /// Run a prover client: ask the coordinators for work, prove, submit, again and again.
    ///
    /// Proofs are kept under the data directory until acknowledged, and submits are retried with
    /// backoff (also after a restart). Settings come from flags, the environment
    /// (PROVER_CLIENT_PROVER_SERVER_ENDPOINT, PROVER_CLIENT_PROVING_TIME_MS, …) or a TOML file
    /// (--config / PROVER_CLIENT_CONFIG_FILE, looked up in CONFIGS_PATH), in that order of
    /// precedence. Stops after the current batch on Ctrl-C or SIGTERM.
    Prover(service::ProverArgs),
    /// Run a local L2 devnet end to end, with no outside server.
    ///
    /// In one process: an L2 block builder on an embedded store (genesis with prefunded dev
    /// accounts, the withdrawal messenger at 0x…fffe, a token and a storage contract) producing
    /// blocks of deterministic traffic — transfers, token calls, storage writes and clears,
    /// deposits (privileged transactions), withdrawals, contract creation and self-destruct —
    /// sealed into batches with witnesses and state-diff blob commitments; a coordinator on
    /// 127.0.0.1; and --provers prover clients. Prints progress, then a table of the batches with
    /// their outputs, each proof checked against the builder's own roots, withdrawals root,
    /// deposits hash and state-diff hash; exits non-zero on any mismatch. Ctrl-C stops cleanly
    /// (nothing acknowledged is lost) and the same command resumes. See docs/l2.md.
    ///
    /// With --l1 (`anvil` or a node's URL) it also settles: the contracts are deployed, deposits
    /// are made on L1, every batch is committed with its blob and verified on chain, and every
    /// withdrawal is claimed and its payment checked. See docs/l1.md.
    Devnet(devnet::DevnetArgs),
    /// Run the L2 as a chain people use: a sequencer with a JSON-RPC for wallets and `cast`,
    /// every L1 deposit, and a coordinator for provers on any machine.
    ///
    /// A block every --block-time (deposits the bridge has confirmed first, then the mempool's
    /// transactions by tip); every --blocks-per-batch blocks a batch is sealed, committed on L1
    /// with its state-diff blob, and queued for provers (--provers in this process, or
    /// `blockprover prover --endpoint HOST:PORT --auth-secret-file FILE` anywhere). The
    /// coordinator's proof sender has each proved batch verified on L1; `blockprover claim`
    /// then pays a withdrawal. Ctrl-C or SIGTERM stop it cleanly and the same command
    /// resumes. See docs/l2.md.
    Node(Box<node::NodeArgs>),
    /// Claim on L1 the withdrawals an L2 transaction made, once its batch is verified.
    ///
    /// Asks the node (bp_getWithdrawalProof) for the batch, message ids and Merkle proofs,
    /// exits non-zero with "batch N not verified yet" until the proposer has verified it, then
    /// sends one claim per withdrawal and prints each payment.
    Claim(node::ClaimArgs),
    /// Deploy the L1 contracts of the devnet L2 (bridge and OnChainProposer) and write where
    /// they are.
    ///
    /// The proposer starts from the devnet's genesis as batch 0, knows the devnet's chain id and
    /// configuration hash, and takes commits from --committer and proofs from --proof-sender
    /// only (two different accounts). With --risc0-verifier/--risc0-image-id and/or
    /// --sp1-verifier/--sp1-vkey it requires those proofs, for good (no call removes them; the
    /// owner may only replace a verifier, after --upgrade-delay-secs); without a verifier it
    /// refuses unless --dev-mode asks for a proposer that checks every committed value and the
    /// blob but no zk proof. Writes `{url, deployment: {bridge, proposer, block}}`, the
    /// `l1.json` a devnet data dir keeps. See docs/l1.md.
    Deploy(devnet_l1::DeployArgs),
    /// Act as the proposer's owner: revert stuck batches, rotate the committer or the proof
    /// sender, replace a verifier after the upgrade delay.
    ///
    /// Each action is one L1 transaction from --owner-key; the contract's refusal (not the
    /// owner, a delay not passed, a verified batch) is printed and the exit status is non-zero.
    /// See docs/l1.md.
    Owner(devnet_l1::OwnerArgs),
    /// Show a coordinator's batches: blocks, state per proof type, full public outputs.
    ///
    /// Reads `coordinator.sqlite` in the data directory (a running coordinator keeps serving).
    /// The table shows the final state root in full; `--json` prints every output word.
    Status(status::StatusArgs),
    /// Work with stored proofs.
    #[command(subcommand)]
    Proof(ProofCommand),
}

/// `blockprover proof …`
#[derive(Subcommand, Debug)]
enum ProofCommand {
    /// Write a batch's stored proof to a file (`blockprover verify FILE` checks it).
    Export(status::ExportArgs),
}

/// Which chain's rules apply.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ChainArgs {
    /// A known chain (mainnet, sepolia, hoodi) or test-suite fork rules (Cancun, Prague, Osaka,
    /// CancunToPragueAtTime15k…; chain id 1 unless the node says otherwise). Default: what the
    /// input names or implies.
    #[arg(long, conflicts_with = "chain_config")]
    chain: Option<String>,
    /// A chain configuration file: our JSON `ChainConfig`, or a geth-style genesis/config.
    #[arg(long)]
    chain_config: Option<PathBuf>,
}

impl ChainArgs {
    /// The chain configuration the flags name, if any.
    pub(crate) fn resolve(&self) -> Result<Option<ChainConfig>> {
        if let Some(name) = &self.chain {
            return Ok(Some(ChainConfig::by_name(name)?));
        }
        let Some(path) = &self.chain_config else { return Ok(None) };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if let Ok(chain) = serde_json::from_value::<ChainConfig>(json.clone()) {
            return Ok(Some(chain));
        }
        Ok(Some(bp_formats::chain_from_geth_config(&json).with_context(|| format!("chain config {}", path.display()))?))
    }
}

fn main() {
    let cli = Cli::parse();
    // The devnet prints its own progress; its components' logs are kept to warnings unless asked.
    let default_filter = match cli.command {
        Command::Devnet(_) => "warn",
        _ => "info",
    };
    let filter = ["BLOCKPROVER_LOG", "RUST_LOG"]
        .into_iter()
        .find_map(|var| tracing_subscriber::EnvFilter::try_from_env(var).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default_filter));
    // Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr).init();
    if let Err(error) = run(cli) {
        errln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let max_bytes = cli.max_input_mib.saturating_mul(1 << 20);
    let reader =
        |chain: &ChainArgs| -> Result<inputs::Reader> { Ok(inputs::Reader { chain: chain.resolve()?, max_bytes }) };
    match cli.command {
        Command::Conformance { fork, list_failures, jobs, sample, json, known_failures, paths } => {
            conformance::run(fork, list_failures, jobs, sample.max(1), json, known_failures, paths)
        }
        Command::Bench { top, max_gas, runs, json, paths } => {
            bench::run(top.max(1), max_gas, runs.max(1), paths, max_bytes, json)
        }
        Command::Execute { input, chain, backend } if backend.kind() == bp_backend::ProofType::Exec => {
            backend.check()?;
            inputs::execute(&input, &reader(&chain)?)
        }
        Command::Execute { input, chain, backend } => zkvm::execute(&input, &reader(&chain)?, &backend),
        Command::Prove { input, format, output, chain, backend } => {
            zkvm::prove(&input, &reader(&chain)?, &backend, format, &output)
        }
        Command::Verify { proof, input, chain } => zkvm::verify(&proof, input.as_deref(), &reader(&chain)?),
        Command::Convert { input, output, format, chain } => {
            let format = inputs::WriteFormat::for_output(format, &output);
            inputs::convert(&input, &output, format, &reader(&chain)?)
        }
        Command::Witness { rpc, block, output, format, rpc_cache, no_cache, chain } => {
            let format = inputs::WriteFormat::for_output(format, &output);
            let cache = (!no_cache).then_some(rpc_cache.as_path());
            inputs::witness(&rpc, block, &output, format, cache, chain.resolve()?)
        }
        Command::Coordinator(args) => service::coordinator(*args, max_bytes),
        Command::Prover(args) => service::prover(args),
        Command::Devnet(args) => devnet::run(args),
        Command::Node(args) => node::run(*args),
        Command::Claim(args) => node::claim(args),
        Command::Deploy(args) => devnet_l1::deploy(args),
        Command::Owner(args) => devnet_l1::owner(args),
        Command::Status(args) => status::status(args),
        Command::Proof(ProofCommand::Export(args)) => status::export(args),
    }
}

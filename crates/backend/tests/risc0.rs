//! The RISC Zero backend against the native program (`cargo test --features risc0`).
//!
//! - The guest in the executor gives the same public outputs and gas as `exec` on a spread of
//!   conformance tests (one per test directory of the Prague suite, as far as 24), on a real
//!   Hoodi block and on an L2 devnet batch (privileged transactions and the pure-Rust KZG check).
//! - Sender recovery and `ecrecover` on the bigint2 accelerator agree with libsecp256k1 on every
//!   ecrecover test of the suites.
//! - A real proof of a small block (the first Cancun block without transactions) verifies; a
//!   tampered receipt, claimed outputs that are not the journal, and a proof under another image
//!   id are refused. A one-transfer block is proved by an `--ignored` test.
#![cfg(feature = "risc0")]

use std::collections::BTreeSet;

use bp_backend::{Backend, BackendError, ExecBackend, Proof, Risc0Backend};
use bp_input::ProgramInput;

fn assert_same_as_exec(name: &str, input: &[u8]) -> u64 {
    let native = ExecBackend.execute(input).unwrap_or_else(|e| panic!("{name}: exec: {e}"));
    let zkvm = Risc0Backend::new().expect("guest").execute(input).unwrap_or_else(|e| panic!("{name}: risc0: {e}"));
    assert_eq!(zkvm.output, native.output, "{name}: public outputs");
    assert_eq!(zkvm.gas_used, native.gas_used, "{name}: gas");
    let cycles = zkvm.cycles.expect("a zkVM run counts cycles");
    let regions: u64 = cycles.regions.regions().iter().map(|(_, n)| n).sum();
    assert!(regions > 0 && regions <= cycles.user, "{name}: regions {regions} within user cycles {}", cycles.user);
    cycles.user
}

/// The valid blocks of one fixture whose gas is small enough for the executor to run quickly;
/// none if the fixture cannot be run statelessly.
fn small_inputs(fixture: &serde_json::Value) -> Vec<ProgramInput> {
    let inputs = bp_conformance::stateless_inputs(fixture).unwrap_or_default();
    inputs.into_iter().filter(|i| i.blocks.iter().all(|b| b.header.gas_used < 3_000_000)).collect()
}

/// Every valid block of the first fixture file of each Prague test directory, up to `limit`
/// directories, with blocks small enough for the executor to run quickly.
fn diverse_prague_inputs(limit: usize) -> Vec<(String, ProgramInput)> {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/for_prague.tar.zst");
    let mut seen = BTreeSet::new();
    let mut picked = Vec::new();
    bp_conformance::for_each_file(&archive, &mut |name, text| {
        let directory = name.rsplitn(3, '/').nth(2).unwrap_or_default().to_owned();
        if seen.len() >= limit || seen.contains(&directory) || text.len() > 400_000 {
            return;
        }
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        let Some((test, fixture)) = file.as_object().and_then(|tests| tests.iter().next()) else { return };
        let small = small_inputs(fixture);
        if small.is_empty() {
            return;
        }
        seen.insert(directory);
        picked.extend(small.into_iter().map(|input| (test.clone(), input)));
    })
    .expect("reads the Prague suite");
    picked
}

#[test]
fn executor_matches_exec_on_conformance_tests() {
    let inputs = diverse_prague_inputs(24);
    let tests: BTreeSet<&str> = inputs.iter().map(|(name, _)| name.as_str()).collect();
    assert!(tests.len() >= 20, "only {} tests picked", tests.len());
    for (name, input) in &inputs {
        assert_same_as_exec(name, &input.to_binary());
    }
    eprintln!("{} blocks of {} tests: risc0 executor = exec", inputs.len(), tests.len());
}

/// Every valid block (under 3 Mgas) of the fixture files in `archive` whose path contains one
/// of `names`, each test of a file separately.
fn named_inputs(archive: &str, names: &[&str]) -> Vec<(String, ProgramInput)> {
    let mut picked = Vec::new();
    bp_conformance::for_each_file(&bp_testkit::fixtures().join(archive), &mut |path, text| {
        let lowercase = path.to_lowercase();
        if !names.iter().any(|n| lowercase.contains(n)) {
            return;
        }
        let file: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (test, fixture) in file.as_object().into_iter().flatten() {
            picked.extend(small_inputs(fixture).into_iter().map(|input| (test.clone(), input)));
        }
    })
    .unwrap_or_else(|e| panic!("reads {archive}: {e}"));
    picked
}

/// The guest recovers senders and runs `ecrecover` on the bigint2 accelerator
/// (guests/risc0/src/secp256k1.rs), natively it is libsecp256k1: they must agree on every
/// edge case the suites have (r, s or v out of range, unrecoverable keys, overflowing x, short
/// and overlapping buffers, high s).
#[test]
fn executor_matches_exec_on_signature_edge_cases() {
    let mut inputs = named_inputs("ethereum-tests/BlockchainTests.tar.zst", &["ecrec"]);
    inputs.extend(named_inputs("eest-tests-bal-v5.7.0/for_cancun.tar.zst", &["precompiles/ecrecover/"]));
    let tests: BTreeSet<&str> = inputs.iter().map(|(name, _)| name.as_str()).collect();
    assert!(tests.len() >= 40, "only {} ecrecover tests found", tests.len());
    for (name, input) in &inputs {
        assert_same_as_exec(name, &input.to_binary());
    }
    eprintln!("{} blocks of {} ecrecover tests: risc0 executor = exec", inputs.len(), tests.len());
}

#[test]
fn executor_matches_exec_on_a_real_block() {
    let path = bp_testkit::fixtures().join("real-blocks/hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst");
    let loaded = bp_formats::load(&path, None).expect("loads the Hoodi block");
    let cycles = assert_same_as_exec("hoodi 1281069", &loaded.input.to_binary());
    eprintln!("hoodi 1281069: {cycles} user cycles");
}

#[test]
fn executor_matches_exec_on_an_l2_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = bp_devnet::Builder::open(&dir.path().join("l2.sqlite")).expect("opens");
    let sealed = builder.build_batch(2).expect("builds").clone();
    assert!(sealed.deposits > 0 && sealed.withdrawals > 0, "the batch exercises deposits and withdrawals");
    let cycles = assert_same_as_exec("devnet batch", &sealed.input.to_binary());
    eprintln!("devnet batch of 2 blocks: {cycles} user cycles");
}

/// The first valid block of an EEST suite (`for_prague`, `for_cancun`, ...) for which `pick`
/// holds, with its test's name.
fn suite_block(suite: &str, pick: impl Fn(&str, &ProgramInput) -> bool) -> (String, Vec<u8>) {
    let archive = bp_testkit::fixtures().join(format!("eest-tests-bal-v5.7.0/{suite}.tar.zst"));
    let mut found = None;
    bp_conformance::for_each_file(&archive, &mut |_, text| {
        if found.is_some() {
            return;
        }
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        for (test, fixture) in file.as_object().into_iter().flatten() {
            let Ok(inputs) = bp_conformance::stateless_inputs(fixture) else { continue };
            if let Some(input) = inputs.into_iter().find(|input| pick(test, input)) {
                found = Some((test.clone(), input.to_binary()));
                return;
            }
        }
    })
    .unwrap_or_else(|e| panic!("reads {suite}: {e}"));
    found.unwrap_or_else(|| panic!("{suite} has such a block"))
}

/// This process's peak resident memory (Linux `VmHWM`).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

/// Proves `input` (composite), checks the proof, then that tampered versions are refused.
fn prove_and_tamper(name: &str, input: &[u8]) {
    let backend = Risc0Backend::new().expect("guest");
    // Offline builds prove with the software keccak-f (docs/zkvm.md): count what is proved.
    let proving_run = backend.clone().with_keccak_accelerator(false).execute(input).expect("executes");
    let cycles = proving_run.cycles.expect("cycles");
    eprintln!(
        "{name}: {} gas, {} user cycles, {} total in {} segments (software keccak-f, as proved offline)",
        proving_run.gas_used, cycles.user, cycles.total, cycles.segments
    );
    let started = std::time::Instant::now();
    let proof = backend.prove(input).expect("proves");
    eprintln!(
        "{name}: composite proof of {} bytes in {:.1?}, peak memory {}",
        proof.receipt.len(),
        started.elapsed(),
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    let expected = ExecBackend.execute(input).expect("exec").output;
    assert_eq!(backend.verify(&proof, &[]).expect("verifies"), expected);
    let reread = Proof::from_bytes(&proof.to_bytes()).expect("round trip");
    assert_eq!(backend.verify(&reread, &[]).expect("verifies after a round trip"), expected);

    // A flipped byte in the middle of the receipt (the seal) breaks it.
    let mut tampered = proof.clone();
    let middle = tampered.receipt.len() / 2;
    tampered.receipt[middle] ^= 1;
    assert!(backend.verify(&tampered, &[]).is_err(), "a tampered seal verifies");

    // Claimed outputs other than the journal are refused.
    let mut lying = proof.clone();
    lying.public_outputs[40] ^= 1;
    assert!(matches!(backend.verify(&lying, &[]), Err(BackendError::Invalid(_))), "other outputs accepted");

    // A proof said to be of another program is refused before the receipt is looked at.
    let mut other = proof.clone();
    other.program_id = alloy_primitives::B256::repeat_byte(9);
    assert!(matches!(backend.verify(&other, &[]), Err(BackendError::WrongProgram { .. })));

    // Garbage is a malformed proof, not a panic.
    let mut garbage = proof;
    garbage.receipt = vec![0xff; 64];
    assert!(matches!(backend.verify(&garbage, &[]), Err(BackendError::MalformedProof(_))));
}

fn without_transactions(input: &ProgramInput) -> bool {
    input.blocks.iter().all(|b| b.body.transactions.is_empty())
}

/// A real proof in CI: the first Cancun block without transactions. The EIP-4788 system call
/// writes the beacon root's two slots, so the witness check, a contract run, storage and
/// account trie updates and the new state root are all proved: about 0.76 M user cycles with
/// the software keccak-f, one segment of 2^20, about 11 minutes on two cores. (A Prague one
/// also runs the EIP-2935/7002/7251 system calls: 1.5 M cycles, two segments, 22 minutes.)
#[test]
fn proves_a_small_block_and_refuses_tampering() {
    let (name, input) =
        suite_block("for_cancun", |test, input| test.contains("fork_Cancun") && without_transactions(input));
    prove_and_tamper(&name, &input);
}

/// A plain 21,000-gas transfer in a Cancun block: sender recovery on the bigint2 accelerator,
/// two account updates, a receipt. About 1.38 M user cycles with the software keccak-f, two
/// segments of 2^20, twice the CI proof's time. Run with `--ignored`.
#[test]
#[ignore = "22 minutes on two cores"]
fn proves_a_one_transfer_block() {
    let (name, input) = suite_block("for_cancun", |test, input| {
        test.contains("test_transaction_intrinsic_gas_cost[fork_Cancun-")
            && test.ends_with("-enough_gas-empty_access_list]")
            && input.blocks.iter().map(|b| b.body.transactions.len()).sum::<usize>() == 1
    });
    prove_and_tamper(&name, &input);
}

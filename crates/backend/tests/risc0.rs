//! The RISC Zero backend against the native program (`cargo test --features risc0`).
//!
//! - The guest in the executor gives the same public outputs and gas as `exec` on a spread of
//!   conformance tests (one per test directory of the Prague suite, as far as 24), on a real
//!   Hoodi block and on an L2 devnet batch (privileged transactions and the pure-Rust KZG check).
//! - A real proof of a one-transaction block verifies; a tampered receipt, claimed outputs that
//!   are not the journal, and a proof under another image id are refused.
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
        let Ok(inputs) = bp_conformance::stateless_inputs(fixture) else { return };
        let small: Vec<_> =
            inputs.into_iter().filter(|i| i.blocks.iter().all(|b| b.header.gas_used < 3_000_000)).collect();
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

/// The first valid block of the Prague suite for which `pick` holds, with its test's name.
fn prague_block(pick: impl Fn(&str, &ProgramInput) -> bool) -> (String, Vec<u8>) {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/for_prague.tar.zst");
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
    .expect("reads the Prague suite");
    found.expect("the suite has such a block")
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
    eprintln!("{name}: composite proof of {} bytes in {:.1?}", proof.receipt.len(), started.elapsed());
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

/// A real proof in CI: the first Prague block without transactions (system calls, withdrawals
/// and the state root still run), about 3 segments, minutes on two cores.
#[test]
fn proves_a_small_block_and_refuses_tampering() {
    let (name, input) = prague_block(|_, input| input.blocks.iter().all(|b| b.body.transactions.is_empty()));
    prove_and_tamper(&name, &input);
}

/// Prague's `add11`, one transaction: about 13 M cycles (sender recovery in software), 14
/// segments, too slow for CI on two cores. Run with `--ignored`.
#[test]
#[ignore = "about a quarter of an hour on two cores"]
fn proves_a_one_transaction_block() {
    let (name, input) = prague_block(|test, _| test.contains("add11"));
    prove_and_tamper(&name, &input);
}

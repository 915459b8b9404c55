//! What the zkVM backends' tests share: inputs picked from the fixtures, the comparison with
//! `exec`, and a proof's round trip and tampering checks.

use std::collections::{BTreeMap, BTreeSet};

use bp_backend::{Backend, BackendError, Cycles, ExecBackend, Proof};
use bp_input::ProgramInput;

/// Runs `input` on `backend` and natively: same public outputs and gas, and region cycles
/// within the user cycles. Returns the cycles.
fn assert_same_as_exec(backend: &dyn Backend, name: &str, input: &[u8]) -> Cycles {
    let native = ExecBackend.execute(input).unwrap_or_else(|e| panic!("{name}: exec: {e}"));
    let zkvm = backend.execute(input).unwrap_or_else(|e| panic!("{name}: {}: {e}", backend.proof_type()));
    assert_eq!(zkvm.output, native.output, "{name}: public outputs");
    assert_eq!(zkvm.gas_used, native.gas_used, "{name}: gas");
    let cycles = zkvm.cycles.expect("a zkVM run counts cycles");
    let regions: u64 = cycles.regions.regions().iter().map(|(_, n)| n).sum();
    assert!(regions > 0 && regions <= cycles.user, "{name}: regions {regions} within user cycles {}", cycles.user);
    cycles
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

/// Every valid block (under 3 Mgas) of the first `per_file` tests of each fixture file in
/// `archive` whose path contains one of `names`, each test separately.
fn named_inputs(archive: &str, names: &[&str], per_file: usize) -> Vec<(String, ProgramInput)> {
    let mut picked = Vec::new();
    bp_conformance::for_each_file(&bp_testkit::fixtures().join(archive), &mut |path, text| {
        let lowercase = path.to_lowercase();
        if !names.iter().any(|n| lowercase.contains(n)) {
            return;
        }
        let file: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (test, fixture) in file.as_object().into_iter().flatten().take(per_file) {
            picked.extend(small_inputs(fixture).into_iter().map(|input| (test.clone(), input)));
        }
    })
    .unwrap_or_else(|e| panic!("reads {archive}: {e}"));
    picked
}

/// Every input on `backend` and natively (see [`assert_same_as_exec`]), after checking that they
/// come from at least `min_tests` tests.
fn assert_all_same_as_exec(backend: &dyn Backend, inputs: &[(String, ProgramInput)], min_tests: usize, what: &str) {
    let tests: BTreeSet<&str> = inputs.iter().map(|(name, _)| name.as_str()).collect();
    assert!(tests.len() >= min_tests, "only {} {what} tests found", tests.len());
    for (name, input) in inputs {
        assert_same_as_exec(backend, name, &input.to_binary());
    }
    eprintln!("{} blocks of {} {what} tests: {} executor = exec", inputs.len(), tests.len(), backend.proof_type());
}

/// One block of each of 24 Prague test directories: same outputs as `exec`.
pub(crate) fn matches_exec_on_conformance_tests(backend: &dyn Backend) {
    assert_all_same_as_exec(backend, &diverse_prague_inputs(24), 20, "Prague");
}

/// Every ecrecover block of the legacy and EEST Cancun suites: the guest's secp256k1 must fail
/// exactly where libsecp256k1 fails natively (r, s or v out of range, unrecoverable keys,
/// overflowing x, short and overlapping buffers, high s).
pub(crate) fn matches_exec_on_signature_edge_cases(backend: &dyn Backend) {
    let mut inputs = named_inputs("ethereum-tests/BlockchainTests.tar.zst", &["ecrec"], usize::MAX);
    inputs.extend(named_inputs("eest-tests-bal-v5.7.0/for_cancun.tar.zst", &["precompiles/ecrecover/"], usize::MAX));
    assert_all_same_as_exec(backend, &inputs, 40, "ecrecover");
}

/// Every SHA-256 block of the legacy suite: CALL, CALLCODE and STATICCALL to 0x02 with empty,
/// short, long, zero-padded and out-of-gas inputs. A guest with its own SHA-256 must hash
/// exactly as natively (padding boundaries included).
pub(crate) fn matches_exec_on_sha256_edge_cases(backend: &dyn Backend) {
    let inputs = named_inputs("ethereum-tests/BlockchainTests.tar.zst", &["sha256"], usize::MAX);
    assert_all_same_as_exec(backend, &inputs, 15, "SHA-256");
}

/// modexp blocks of the EEST Prague suite, the first 16 tests of each file: EIP-198's cases and
/// the EIP-7883 vectors (from the EIP and the legacy tests: zero, one and even moduli, empty and
/// zero exponents, bases longer than the modulus, lengths past 32 bytes that stay in software)
/// and invalid inputs. A guest whose modexp runs on its accelerator must agree with the software.
pub(crate) fn matches_exec_on_modexp_edge_cases(backend: &dyn Backend) {
    let names = ["eip198_modexp_precompile/", "modexp_thresholds/vectors_from", "modexp_thresholds/modexp_invalid"];
    let inputs = named_inputs("eest-tests-bal-v5.7.0/for_prague.tar.zst", &names, 16);
    assert_all_same_as_exec(backend, &inputs, 30, "modexp");
}

/// BN254 blocks (under 3 Mgas) of the EEST Prague suite, the first eight tests of each file: add
/// and multiplication with valid, invalid and infinity points, pairings that hold and fail, G2
/// points off the twist or outside the subgroup, short and long inputs, and the ported
/// zero-knowledge tests. A guest with its own BN254 code must fail exactly where arkworks fails
/// natively. (All 364 of them pass too, in six minutes on two cores: `per_file` usize::MAX.)
pub(crate) fn matches_exec_on_bn254_edge_cases(backend: &dyn Backend) {
    let names = ["eip196_ec_add_mul/", "eip197_ec_pairing/", "stzeroknowledge/"];
    let inputs = named_inputs("eest-tests-bal-v5.7.0/for_prague.tar.zst", &names, 8);
    assert_all_same_as_exec(backend, &inputs, 80, "BN254");
}

/// The EIP-8025 vectors of the zkEVM suite: (test, `statelessInputBytes`,
/// `statelessOutputBytes`), in the archive's order.
fn stateless_vectors() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let archive = bp_testkit::fixtures().join("eest-zkevm-v0.3.3-amsterdam-witness/blockchain_tests_zkevm.tar.zst");
    let mut vectors = Vec::new();
    bp_conformance::for_each_file(&archive, &mut |_, text| {
        let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for (test, fixture) in file.as_object().into_iter().flatten() {
            for block in fixture["blocks"].as_array().into_iter().flatten() {
                let hex = |key: &str| block.get(key)?.as_str().map(|h| alloy_primitives::hex::decode(h).expect("hex"));
                if let (Some(input), Some(output)) = (hex("statelessInputBytes"), hex("statelessOutputBytes")) {
                    vectors.push((test.clone(), input, output));
                }
            }
        }
    })
    .expect("reads the zkEVM suite");
    vectors
}

/// Every `every`-th EIP-8025 input of the zkEVM suite, valid and invalid payloads, fed to the
/// guest as SSZ: it commits exactly exec's 41 bytes, which are the suite's own where the
/// program's Amsterdam agrees with that release's (SKIPS.md lists the vectors where not).
pub(crate) fn matches_exec_on_stateless_inputs(backend: &dyn Backend, every: usize) {
    let vectors = stateless_vectors();
    assert_eq!(vectors.len(), 222, "the suite's vectors");
    let (mut valid, mut invalid, mut as_the_suite) = (0, 0, 0);
    for (name, input, expected) in vectors.iter().step_by(every) {
        let native = ExecBackend.execute(input).unwrap_or_else(|e| panic!("{name}: exec: {e}"));
        let zkvm = backend.execute(input).unwrap_or_else(|e| panic!("{name}: {}: {e}", backend.proof_type()));
        assert_eq!(zkvm.output, native.output, "{name}: committed result");
        assert_eq!(zkvm.gas_used, native.gas_used, "{name}: gas");
        let bytes = zkvm.output.to_bytes();
        assert_eq!(bytes.len(), 41, "{name}: an EIP-8025 result");
        assert_eq!(bytes[..32], expected[..32], "{name}: the request's root");
        as_the_suite += usize::from(&bytes == expected);
        if bytes[32] == 1 {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    eprintln!(
        "{} EIP-8025 inputs ({valid} valid, {invalid} invalid): {} executor = exec, {as_the_suite} byte-identical to the suite",
        valid + invalid,
        backend.proof_type()
    );
    assert!(valid >= 10 && invalid >= 1, "both kinds ran: {valid} valid, {invalid} invalid");
}

/// The heaviest valid payload of the zkEVM suite (by its gas), as SSZ.
fn heaviest_stateless_input() -> (String, Vec<u8>) {
    let vectors = stateless_vectors();
    let (name, input, _) = vectors
        .into_iter()
        .filter(|(_, _, output)| output[32] == 1)
        .filter_map(|(name, input, output)| {
            let gas = bp_stateless::decode(&input).ok()?.new_payload_request.execution_payload.gas_used;
            Some((gas, (name, input, output)))
        })
        .max_by_key(|(gas, (name, _, _))| (*gas, std::cmp::Reverse(name.clone())))
        .expect("a valid payload")
        .1;
    (name, input)
}

/// The heaviest valid block of the EEST Amsterdam suite: the most transactions (gas alone
/// picks blocks that burn it all in one failing call, at 0.1 cycles per gas), then the most
/// gas, under 16 Mgas.
fn heaviest_amsterdam_block() -> (String, Vec<u8>) {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/for_amsterdam.tar.zst");
    let mut best: Option<((usize, u64), String, Vec<u8>)> = None;
    bp_conformance::for_each_file(&archive, &mut |_, text| {
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        for (test, fixture) in file.as_object().into_iter().flatten() {
            let Ok(inputs) = bp_conformance::stateless_inputs(fixture) else { continue };
            for input in inputs {
                let gas: u64 = input.blocks.iter().map(|b| b.header.gas_used).sum();
                let weight = (input.blocks.iter().map(|b| b.body.transactions.len()).sum::<usize>(), gas);
                if gas < 16_000_000 && best.as_ref().is_none_or(|(w, name, _)| (weight, test) > (*w, name)) {
                    best = Some((weight, test.clone(), input.to_binary()));
                }
            }
        }
    })
    .expect("reads the Amsterdam suite");
    let (_, name, input) = best.expect("an Amsterdam block");
    (name, input)
}

/// The inputs a cycle baseline is kept for: every real block of the fixtures, a four-block L2
/// devnet batch (deterministic traffic with deposits and withdrawals: the same batch on every
/// machine), the heaviest Amsterdam block of the EEST suite under 16 Mgas, and the heaviest
/// payload of the zkEVM suite as an EIP-8025 input.
fn baseline_inputs() -> Vec<(String, Vec<u8>)> {
    let real = [
        ("hoodi 1281069", "hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst"),
        ("mainnet 21230867", "mainnet-zeth-rpc-cache/1-21230867.json.gz"),
        ("mainnet 18884864", "mainnet-zeth-rpc-cache/1-18884864.json.gz"),
        ("mainnet 20612842", "mainnet-raiko-guest-input/ethereum-20612842.json.zst"),
    ];
    let mut inputs: Vec<(String, Vec<u8>)> = real
        .iter()
        .map(|(name, path)| {
            let path = bp_testkit::fixtures().join("real-blocks").join(path);
            let loaded = bp_formats::load(&path, None, bp_formats::DEFAULT_MAX_INPUT_BYTES)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.to_string(), loaded.input.to_binary())
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = bp_devnet::Builder::open(&dir.path().join("l2.sqlite")).expect("opens");
    let sealed = builder.build_batch(4).expect("builds").clone();
    assert!(sealed.deposits > 0 && sealed.withdrawals > 0, "the batch exercises deposits and withdrawals");
    inputs.push(("devnet L2 batch of 4 blocks".to_string(), sealed.input.to_binary()));
    let short = |name: String| name.rsplit("::").next().unwrap_or_default().to_owned();
    let (name, input) = heaviest_amsterdam_block();
    inputs.push((format!("Amsterdam {}", short(name)), input));
    let (name, input) = heaviest_stateless_input();
    inputs.push((format!("EIP-8025 {}", short(name)), input));
    inputs
}

/// The figures a baseline holds for one input: user, paging and total cycles, segments (RISC
/// Zero), prover gas (SP1), and the guest's count per region.
fn figures(cycles: &Cycles) -> BTreeMap<String, u64> {
    let mut figures = BTreeMap::from([
        ("user".to_string(), cycles.user),
        ("paging".to_string(), cycles.paging),
        ("total".to_string(), cycles.total),
    ]);
    if let Some(segments) = cycles.segments {
        figures.insert("segments".into(), segments as u64);
    }
    if let Some(gas) = cycles.prover_gas {
        figures.insert("prover gas".into(), gas);
    }
    for (region, count) in cycles.regions.regions() {
        figures.insert(format!("region {region}"), count);
    }
    figures
}

/// How far a figure may move before the baseline must be looked at: growth beyond it fails as a
/// regression; a fall beyond it fails too, asking for the baseline to be updated in the same
/// commit (so that the next regression is measured from the better figure).
const BASELINE_TOLERANCE: f64 = 0.01;

/// A region may also move by this share of its input's user cycles: the order of the guest's
/// code moves small regions (docs/zkvm.md), and two images that differed only in that order
/// moved the devnet batch's 1.3 M-cycle state-root region by up to 2.08 %, 0.28 % of the batch,
/// while every total stayed within 0.6 %.
const REGION_TOLERANCE_OF_USER: f64 = 0.0025;

/// Paging (the page-in and page-out cycles, part of the total, not of user cycles) may also
/// move by this share of its input's user cycles: which pages a run touches follows the same
/// order, and it moved 21230867's 15.7 M cycles of paging by 1.06 %, 0.25 % of its user
/// cycles, while its total moved 0.6 %.
const PAGING_TOLERANCE_OF_USER: f64 = 0.005;

/// Runs every baseline input on `backend` (checked against `exec` as everywhere) and compares
/// its cycles with `baseline` (a JSON file under `tests/cycles/`): any figure more than 1 %
/// above or below fails (a region: more than 1 % of itself and 0.25 % of the input's user
/// cycles; paging: 1 % of itself and 0.5 % of them), naming the old and new values.
/// `BLOCKPROVER_UPDATE_CYCLES=1` writes the figures measured instead.
pub(crate) fn holds_the_cycle_baseline(backend: &dyn Backend, baseline: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cycles").join(baseline);
    let mut measured: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (name, input) in baseline_inputs() {
        let cycles = assert_same_as_exec(backend, &name, &input);
        eprintln!(
            "{name}: {} user cycles ({:.1} per gas), {} total, prover gas {:?}, {} {:?}",
            cycles.user,
            cycles.per_gas().unwrap_or_default(),
            cycles.total,
            cycles.prover_gas,
            backend.proof_type(),
            cycles.regions.regions()
        );
        measured.insert(name, figures(&cycles));
    }
    if std::env::var("BLOCKPROVER_UPDATE_CYCLES").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&measured).expect("JSON") + "\n";
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BLOCKPROVER_UPDATE_CYCLES=1 writes it from this run)", path.display()));
    let old: BTreeMap<String, BTreeMap<String, u64>> = serde_json::from_str(&text).expect("a cycle baseline");
    let mut findings = Vec::new();
    for (name, figures) in &measured {
        let Some(before) = old.get(name) else {
            findings.push(format!("{name}: not in the baseline"));
            continue;
        };
        let user = before.get("user").copied().unwrap_or_default() as f64;
        for (figure, &new) in figures {
            let Some(&was) = before.get(figure) else {
                findings.push(format!("{name} {figure}: not in the baseline (now {new})"));
                continue;
            };
            let change = (new as f64 - was as f64) / was.max(1) as f64;
            let share_of_user = match figure.as_str() {
                "paging" => PAGING_TOLERANCE_OF_USER,
                region if region.starts_with("region ") => REGION_TOLERANCE_OF_USER,
                _ => 0.0,
            };
            let tolerance = BASELINE_TOLERANCE.max(share_of_user * user / was.max(1) as f64);
            if change > tolerance {
                findings.push(format!("{name} {figure}: {was} -> {new} ({:+.2} %), a regression", change * 100.0));
            } else if change < -tolerance {
                findings.push(format!(
                    "{name} {figure}: {was} -> {new} ({:+.2} %), better: update the baseline in this commit",
                    change * 100.0
                ));
            } else if new != was {
                eprintln!("{name} {figure}: {was} -> {new} ({:+.3} %), within the tolerance", change * 100.0);
            }
        }
    }
    assert!(
        findings.is_empty(),
        "cycles differ from {} (BLOCKPROVER_UPDATE_CYCLES=1 rewrites it):\n{}",
        path.display(),
        findings.join("\n")
    );
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

fn without_transactions(input: &ProgramInput) -> bool {
    input.blocks.iter().all(|b| b.body.transactions.is_empty())
}

/// The first Cancun block without transactions: the EIP-4788 system call writes the beacon
/// root's two slots, so the witness check, a contract run, storage and account trie updates and
/// the new state root are all proved.
#[allow(dead_code)] // proved by tests/risc0.rs only; tests/sp1.rs links this module too
pub(crate) fn small_cancun_block() -> (String, Vec<u8>) {
    suite_block("for_cancun", |test, input| test.contains("fork_Cancun") && without_transactions(input))
}

/// A plain 21,000-gas transfer in a Cancun block: sender recovery, two account updates, a
/// receipt.
pub(crate) fn one_transfer_cancun_block() -> (String, Vec<u8>) {
    suite_block("for_cancun", |test, input| {
        test.contains("test_transaction_intrinsic_gas_cost[fork_Cancun-")
            && test.ends_with("-enough_gas-empty_access_list]")
            && input.blocks.iter().map(|b| b.body.transactions.len()).sum::<usize>() == 1
    })
}

/// This process's peak resident memory (Linux `VmHWM`).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

/// Proves `input` with `backend` (its default format), checks the proof, then that tampered
/// versions are refused.
pub(crate) fn prove_and_tamper(backend: &dyn Backend, name: &str, input: &[u8]) {
    let started = std::time::Instant::now();
    let proof = backend.prove(input).expect("proves");
    eprintln!(
        "{name}: {} proof of {} bytes in {:.1?}, peak memory {}",
        backend.proof_type(),
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

    // Claimed outputs other than the proved ones are refused.
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

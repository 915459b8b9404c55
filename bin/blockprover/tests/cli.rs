//! The command line as a user meets it: exit codes, refusals, configuration files, JSON keys,
//! a closed pipe, duplicate inputs.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

const SECRET: &str = "cli test shared secret";

fn blockprover() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blockprover"));
    command.env_remove("BLOCKPROVER_LOG").env_remove("RUST_LOG").env_remove("NO_COLOR");
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn hoodi() -> std::path::PathBuf {
    bp_testkit::fixtures().join("real-blocks/hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn version_names_the_backends_and_help_names_the_log_variable() {
    let version = run(blockprover().arg("--version"));
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(text.contains("backends: exec"), "{text}");
    let help = run(blockprover().arg("--help"));
    assert!(String::from_utf8_lossy(&help.stdout).contains("BLOCKPROVER_LOG"));
}

#[test]
fn execute_prints_every_key_and_a_closed_pipe_ends_quietly() {
    let output = run(blockprover().arg("execute").arg(hoodi()));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in [
        "initial_state_root",
        "final_state_root",
        "parent_block_hash",
        "last_block_hash",
        "chain_id",
        "chain_config_hash",
        "tx_count",
        "batch_kind",
        "gas_used",
        "format",
        "blocks",
        "first_block",
        "last_block",
        "witness_bytes",
        "load_ms",
        "elapsed_ms",
    ] {
        assert!(json.get(key).is_some(), "execute prints {key}: {json}");
    }
    assert_eq!(json["first_block"], 1_281_069);
    assert_eq!(json["format"], "execution-witness");

    // `execute … | head -c 1`: the reader leaves after one byte.
    let mut child =
        blockprover().arg("execute").arg(hoodi()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit {:?}: {}", output.status, stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));

    // `execute MISSING 2>&1 | head -0`: standard error is closed before the error is written;
    // the exit status is the error's (1), not a panic's (101).
    let mut child = blockprover()
        .arg("execute")
        .arg("/nonexistent/input")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn prove_requires_a_backend_and_errors_name_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(blockprover().arg("prove").arg(hoodi()).arg("-o").arg(dir.path().join("p")));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--backend"), "{}", stderr(&output));

    let output = run(blockprover().args(["execute", "x", "--chain", "foo"]));
    assert!(stderr(&output).contains("known: mainnet, sepolia, hoodi"), "{}", stderr(&output));
    let output = run(blockprover().arg("convert").arg(hoodi()).args(["-o", "/nonexistent-dir/x.bin"]));
    assert!(stderr(&output).contains("writing /nonexistent-dir/x.bin"), "{}", stderr(&output));
    assert_eq!(stderr(&output).matches("No such file or directory").count(), 1, "each cause once: {}", stderr(&output));
}

#[test]
fn only_risc0_proves_on_a_gpu_and_a_device_is_named_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("p");
    let output =
        run(blockprover().args(["prove", "--backend", "exec", "--device", "gpu"]).arg(hoodi()).arg("-o").arg(&proof));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("the exec backend does not prove on a GPU here (only risc0 does"),
        "{}",
        stderr(&output)
    );
    assert!(!proof.exists());
    let output =
        run(blockprover().args(["prove", "--backend", "exec", "--device", "tpu"]).arg(hoodi()).arg("-o").arg(&proof));
    assert!(stderr(&output).contains("unknown device \"tpu\" (expected auto, cpu or gpu)"), "{}", stderr(&output));
    let output =
        run(blockprover().args(["prove", "--backend", "exec", "--device", "cpu"]).arg(hoodi()).arg("-o").arg(&proof));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn conformance_with_nothing_run_fails() {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/fork_transitions.tar.zst");
    let output = run(blockprover().args(["conformance", "--fork", "Prague"]).arg(&archive));
    assert!(!output.status.success(), "no Prague tests in the transitions archive");
    assert!(stderr(&output).contains("no test was run"), "{}", stderr(&output));
    let output =
        run(blockprover().args(["conformance", "--json", "--fork", "ShanghaiToCancunAtTime15k"]).arg(&archive));
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(report["passed"].as_u64().unwrap() > 0);
}

#[test]
fn a_known_failure_that_passes_fails_the_run_and_a_list_without_reasons_is_refused() {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/fork_transitions.tar.zst");
    let fork = "ShanghaiToCancunAtTime15k";
    let mut passing = None;
    bp_conformance::for_each_file(&archive, &mut |name, text| {
        let tests: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for (id, test) in tests.as_object().expect("an object of tests") {
            if passing.is_none() && test["network"] == fork {
                passing = Some(format!("{name}::{id}"));
            }
        }
    })
    .unwrap();
    let passing = passing.expect("a test of the fork");
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("known.txt");
    let conformance = |list: &Path| {
        run(blockprover().args(["conformance", "--fork", fork, "--known-failures"]).arg(list).arg(&archive))
    };

    std::fs::write(&list, format!("## said to fail\n{passing}\n")).unwrap();
    let output = conformance(&list);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("1 tests on the known-failures list passed: take them off it"),
        "{}",
        stderr(&output)
    );

    std::fs::write(&list, format!("{passing}\n")).unwrap();
    let output = conformance(&list);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("line 1: test id before any `## reason` line"), "{}", stderr(&output));

    std::fs::write(&list, "## nothing of this fork is known to fail\nother.json::test\n").unwrap();
    let output = conformance(&list);
    assert!(output.status.success(), "{}", stderr(&output));
}

fn coordinator(dir: &Path, port: u16) -> Process {
    std::fs::write(dir.join("secret"), SECRET).unwrap();
    let child = blockprover()
        .args(["coordinator", "--poll-ms", "50", "--metrics-addr", "off"])
        .arg("--inputs")
        .arg(dir.join("inputs"))
        .arg("--data-dir")
        .arg(dir.join("coordinator"))
        .arg("--auth-secret-file")
        .arg(dir.join("secret"))
        .env("PROVER_SERVER_LISTEN_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coordinator starts");
    Process(child)
}

#[test]
fn provers_fail_fast_on_mistakes_and_read_their_config_file() {
    let output = run(blockprover()
        .args(["prover", "--endpoint", "localhost", "--insecure-no-auth"])
        .env("PROVER_CLIENT_DATA_DIR", std::env::temp_dir().join("bp-cli-noport")));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("is not HOST:PORT"), "{}", stderr(&output));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    let binary = bp_formats::load(&hoodi(), None, 1 << 30).unwrap().input.to_binary();
    std::fs::write(dir.path().join("inputs/hoodi.bin"), &binary).unwrap();
    let port = free_port();
    let _coordinator = coordinator(dir.path(), port);

    // The wrong secret: refused, reported as such, and the prover gives up with an error.
    let started = Instant::now();
    let output = run(blockprover()
        .args(["prover", "--endpoint", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path().join("wrong"))
        .env("PROVER_CLIENT_PROVING_TIME_MS", "100")
        .env("BLOCKPROVER_AUTH_SECRET", "not the shared secret at all"));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("does not verify under our secret"), "{}", stderr(&output));
    assert!(!stderr(&output).contains('\u{1b}'), "no colour codes when stderr is not a terminal");
    assert!(started.elapsed() < Duration::from_secs(30));

    // A config file: endpoints as one string, the secret file relative to the config file.
    let config_dir = dir.path().join("config");
    std::fs::create_dir(&config_dir).unwrap();
    std::fs::write(config_dir.join("secret.txt"), SECRET).unwrap();
    std::fs::write(
        config_dir.join("prover.toml"),
        format!("endpoints = \"127.0.0.1:{port}\"\nauth_secret_file = \"secret.txt\"\ndata_dir = \"kept\"\nproving_time_ms = 100\n"),
    )
    .unwrap();
    let output = run(blockprover()
        .args(["prover", "--max-batches", "1", "--config", "prover.toml"])
        .env("CONFIGS_PATH", &config_dir)
        .current_dir(dir.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(config_dir.join("kept").is_dir(), "data_dir is relative to the file");

    // The same blocks under another name are not a second batch.
    std::fs::write(dir.path().join("inputs/copy.bin"), &binary).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let status = run(blockprover().args(["status", "--json"]).arg("--data-dir").arg(dir.path().join("coordinator")));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(status["batches"].as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status["batches"][0]["proofs"]["exec"], "proved");

    // The proof comes out of the database and verifies.
    let proof = dir.path().join("hoodi.proof");
    let exported = run(blockprover()
        .args(["proof", "export", "--batch", "0"])
        .arg("--data-dir")
        .arg(dir.path().join("coordinator"))
        .arg("-o")
        .arg(&proof));
    assert!(exported.status.success(), "{}", stderr(&exported));
    let verified = run(blockprover().arg("verify").arg(&proof).arg("--input").arg(dir.path().join("inputs/hoodi.bin")));
    assert!(verified.status.success(), "{}", stderr(&verified));
}

/// The first valid and the first invalid block of the EIP-8025 suite: (input, output) bytes.
fn stateless_vectors() -> [(Vec<u8>, Vec<u8>); 2] {
    let archive = bp_testkit::fixtures().join("eest-zkevm-v0.3.3-amsterdam-witness/blockchain_tests_zkevm.tar.zst");
    let (mut valid, mut invalid) = (None, None);
    bp_conformance::for_each_file(&archive, &mut |_, text| {
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for block in
            json.as_object().into_iter().flat_map(|t| t.values()).flat_map(|f| f["blocks"].as_array()).flatten()
        {
            let hex = |key: &str| block.get(key)?.as_str().map(|h| alloy_primitives::hex::decode(h).expect("hex"));
            let (Some(input), Some(output)) = (hex("statelessInputBytes"), hex("statelessOutputBytes")) else {
                continue;
            };
            let slot = if output[32] == 1 { &mut valid } else { &mut invalid };
            slot.get_or_insert((input, output));
        }
    })
    .expect("reads the zkEVM suite");
    [valid.expect("a valid block"), invalid.expect("an invalid block")]
}

#[test]
fn an_eip8025_input_gives_the_standards_output_through_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = stateless_vectors();
    for (i, (input, expected)) in vectors.iter().enumerate() {
        let path = dir.path().join(format!("{i}.ssz"));
        std::fs::write(&path, input).unwrap();
        let expected = format!("0x{}", alloy_primitives::hex::encode(expected));
        let json = |output: &Output| -> serde_json::Value {
            assert!(output.status.success(), "{}", stderr(output));
            serde_json::from_slice(&output.stdout).expect("JSON")
        };
        // Natively, through the exec backend (the guests' skeleton), and proved then verified.
        let native = json(&run(blockprover().arg("execute").arg(&path)));
        assert_eq!(native["stateless_output"], expected, "{i}: {native}");
        assert_eq!(native["format"], "eip8025-ssz");
        assert_eq!(native["reason"].is_null(), i == 0, "an invalid payload says why: {native}");
        let exec = json(&run(blockprover().args(["execute", "--backend", "exec"]).arg(&path)));
        assert_eq!(exec["stateless_output"], expected, "{i}: {exec}");
        let proof = dir.path().join(format!("{i}.proof"));
        let proved = json(&run(blockprover().args(["prove", "--backend", "exec"]).arg(&path).arg("-o").arg(&proof)));
        assert_eq!(proved["stateless_output"], expected, "{i}: {proved}");
        let verified = json(&run(blockprover().arg("verify").arg(&proof).arg("--input").arg(&path)));
        assert_eq!((&verified["stateless_output"], &verified["verified"]), (&expected.clone().into(), &true.into()));
    }
    // `convert` there and back (witness --format ssz writes the same way): the SSZ input
    // again, byte for byte; a block before Amsterdam has no such form, and says why.
    let (input, _) = &vectors[0];
    let (bin, ssz) = (dir.path().join("0.bin"), dir.path().join("again.ssz"));
    assert!(run(blockprover().arg("convert").arg(dir.path().join("0.ssz")).arg("-o").arg(&bin)).status.success());
    let output = run(blockprover().arg("convert").arg(&bin).arg("-o").arg(&ssz));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::read(&ssz).unwrap() == *input, "the round trip gives the suite's bytes");
    let output = run(blockprover().arg("convert").arg(hoodi()).args(["--format", "ssz", "-o"]).arg(&ssz));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("block 1281069 is not an Amsterdam block"), "{}", stderr(&output));

    // An exec proof of one payload's result is not verified by another payload.
    let other = dir.path().join("1.ssz");
    let output = run(blockprover().arg("verify").arg(dir.path().join("0.proof")).arg("--input").arg(&other));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("re-execution gives"), "{}", stderr(&output));
}

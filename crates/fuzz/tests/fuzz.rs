//! Every fuzz target over mutated seeds: `BLOCKPROVER_FUZZ_CASES` cases per target (default
//! 3000; the test command's short run), each seed's share smaller the larger it is. A panic
//! fails the test and writes the input to `target/fuzz-crashes/`; `regressions` replays edge
//! inputs and the crashes kept in `crates/fuzz/regressions/`.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use bp_fuzz::{Mutator, TARGETS};
use bp_program::l2::{AccountDiff, CodeChange, StateDiff, WithdrawalMessage};
use bp_protocol::{encode_body, encode_frame, Auth, AuthKey, Direction, Message, Nonces, Request};

/// Seeds of each target: valid inputs of its decoder, taken from real data where there is some.
struct Seeds {
    bytes: Vec<Vec<u8>>,
    json: Vec<serde_json::Value>,
    inputs: Vec<bp_input::ProgramInput>,
}

fn fixtures() -> PathBuf {
    bp_testkit::fixtures()
}

/// A few blocks of the fork-transition suite with their recorded inputs.
fn conformance_seeds() -> (Vec<Vec<u8>>, Vec<bp_input::ProgramInput>) {
    let mut blocks = Vec::new();
    let mut inputs = Vec::new();
    let archive = fixtures().join("eest-tests-bal-v5.7.0/fork_transitions.tar.zst");
    bp_conformance::for_each_file(&archive, &mut |_, text| {
        if inputs.len() >= 4 {
            return;
        }
        let tests: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        for fixture in tests.as_object().into_iter().flat_map(|m| m.values()).take(2) {
            for block in fixture["blocks"].as_array().into_iter().flatten() {
                if let Some(rlp) = block["rlp"].as_str() {
                    blocks.push(alloy_primitives::hex::decode(rlp).expect("hex"));
                }
            }
            if let Ok(found) = bp_conformance::stateless_inputs(fixture) {
                inputs.extend(found.into_iter().take(2));
            }
        }
    })
    .expect("archive readable");
    (blocks, inputs)
}

fn devnet_input() -> bp_input::ProgramInput {
    let dir = std::env::temp_dir().join(format!("bp-fuzz-devnet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut builder = bp_devnet::Builder::open(&dir.join("l2.sqlite")).expect("builder");
    let input = builder.build_batch(2).expect("a batch").input.clone();
    let _ = std::fs::remove_dir_all(&dir);
    input
}

fn state_diff_seed() -> Vec<u8> {
    StateDiff {
        first_block: 3,
        last_block: 4,
        accounts: vec![
            AccountDiff {
                address: Address::repeat_byte(1),
                balance: Some(U256::from(5)),
                nonce_increase: Some(2),
                storage: vec![(B256::repeat_byte(2), U256::from(9)), (B256::repeat_byte(3), U256::ZERO)],
                code: Some(CodeChange::Full(vec![0x60, 0x00].into())),
                ..Default::default()
            },
            AccountDiff { address: Address::repeat_byte(2), removed: true, ..Default::default() },
        ],
        withdrawals: vec![WithdrawalMessage {
            from: Address::repeat_byte(4),
            data_hash: B256::repeat_byte(5),
            message_id: U256::from(1),
        }],
        deposits: vec![B256::repeat_byte(6)],
    }
    .encode()
}

fn frame_seeds() -> Vec<Vec<u8>> {
    let key = AuthKey::new(b"fuzz secret of sixteen bytes".to_vec());
    let body = |m: &Message| encode_body(m, 1 << 20).expect("encodes");
    let auth = encode_frame(
        &key,
        Direction::ToCoordinator,
        &Nonces::default(),
        0,
        &body(&Message::Auth(Auth { prover: "fuzz".into(), nonce: B256::ZERO })),
    );
    let request = Message::Request(Request { proof_type: bp_backend::ProofType::Exec, program_id: B256::ZERO });
    let request_frame = encode_frame(&key, Direction::ToCoordinator, &Nonces::default(), 1, &body(&request));
    let hello = encode_frame(
        &key,
        Direction::ToProver,
        &Nonces::default(),
        0,
        &body(&Message::Hello(bp_protocol::Hello { nonce: B256::ZERO })),
    );
    vec![[auth.clone(), request_frame.clone()].concat(), hello, request_frame, postcard::to_stdvec(&request).unwrap()]
}

fn seeds() -> Vec<(&'static str, Seeds)> {
    let (blocks, inputs) = conformance_seeds();
    let devnet = devnet_input();
    let mut binary: Vec<Vec<u8>> = inputs.iter().map(bp_input::ProgramInput::to_binary).collect();
    binary.push(devnet.to_binary());
    let nodes: Vec<Vec<u8>> =
        inputs.iter().chain([&devnet]).flat_map(|i| i.witness.state.iter().take(20).map(|n| n.to_vec())).collect();
    let mut json = vec![serde_json::to_value(&devnet).expect("JSON")];
    let reth = fixtures().join("real-blocks/eest-prague-reth-stateless-input.tar.zst");
    bp_conformance::for_each_file(&reth, &mut |_, text| {
        if json.len() < 3 {
            json.push(serde_json::from_str(&text).expect("JSON"));
        }
    })
    .expect("archive readable");
    let raiko = fixtures().join("real-blocks/mainnet-raiko-guest-input/ethereum-20612842.json.zst");
    let bytes = bp_formats::read_bytes(&raiko, 1 << 30).expect("fixture");
    json.push(serde_json::from_slice(&bytes).expect("JSON"));
    let none = || Seeds { bytes: Vec::new(), json: Vec::new(), inputs: Vec::new() };
    let mut structured = inputs.clone();
    structured.push(devnet.clone());
    vec![
        ("program_input", Seeds { bytes: binary, inputs: structured, ..none() }),
        ("json_input", Seeds { json, ..none() }),
        ("block_rlp", Seeds { bytes: blocks, ..none() }),
        ("trie_node", Seeds { bytes: nodes, ..none() }),
        ("state_diff", Seeds { bytes: vec![state_diff_seed()], ..none() }),
        ("frames", Seeds { bytes: frame_seeds(), ..none() }),
    ]
}

fn crash_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-crashes")
}

/// Runs `target` on `data`; a panic is written out and reported.
fn run_one(name: &str, target: fn(&[u8]), data: &[u8], crashes: &mut Vec<String>) -> Duration {
    let started = Instant::now();
    if catch_unwind(AssertUnwindSafe(|| target(data))).is_err() {
        let _ = std::fs::create_dir_all(crash_dir());
        let path = crash_dir().join(format!("{name}-{:x}", alloy_primitives::keccak256(data)));
        let _ = std::fs::write(&path, data);
        crashes.push(format!("{name}: {}", path.display()));
    }
    started.elapsed()
}

#[test]
fn every_target_survives_its_mutated_seeds() {
    let cases: usize = std::env::var("BLOCKPROVER_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let seed: u64 = std::env::var("BLOCKPROVER_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    // Panics are expected to be caught and reported, not printed for every case.
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = Vec::new();
    for ((name, target), (seed_name, seeds)) in TARGETS.into_iter().zip(seeds()) {
        assert_eq!(name, seed_name);
        let mut mutator = Mutator::new(seed ^ name.len() as u64);
        let started = Instant::now();
        let (mut runs, mut slowest) = (0usize, Duration::ZERO);
        let byte_seeds = seeds.bytes.iter().map(|s| (s.len(), None, Some(s), None));
        let json_seeds = seeds.json.iter().map(|v| (v.to_string().len(), Some(v), None, None));
        let input_seeds = seeds.inputs.iter().map(|i| (1, None, None, Some(i)));
        let all: Vec<_> = byte_seeds.chain(json_seeds).chain(input_seeds).collect();
        for (size, json, bytes, input) in &all {
            // Each seed's share of the cases shrinks with its size (a 1 MB document costs a
            // thousand times a 1 KB one).
            let share = (cases / all.len()).min(cases * 4096 / size.max(&1)).max(10);
            for i in 0..share {
                let data = match (json, bytes, input) {
                    (Some(v), ..) if i % 2 == 0 => mutator.json(v),
                    (Some(v), ..) => mutator.bytes(&serde_json::to_vec(v).unwrap_or_default()),
                    (_, Some(b), _) if i % 8 == 7 => mutator.random(b.len().min(512)),
                    (_, Some(b), _) => mutator.bytes(b),
                    (.., Some(input)) => mutator.program_input(input),
                    _ => Vec::new(),
                };
                slowest = slowest.max(run_one(name, target, &data, &mut crashes));
                runs += 1;
            }
        }
        println!(
            "fuzz {name}: {runs} cases from {} seeds in {:.1?} (slowest {slowest:.1?}), {} crashes so far",
            all.len(),
            started.elapsed(),
            crashes.len()
        );
    }
    let _ = std::panic::take_hook();
    assert!(crashes.is_empty(), "crashes (inputs kept):\n{}", crashes.join("\n"));
}

/// The inputs that break decoders most often (nothing, one byte, all-ones length prefixes,
/// a frame header that claims 4 GiB) through every target, and every input kept in
/// `crates/fuzz/regressions/` (a crash's file from `target/fuzz-crashes/`, named
/// `TARGET-HASH`, copied there once fixed). A panic fails the test.
#[test]
fn regressions() {
    let edges: [&[u8]; 7] = [&[], &[0], &[0xff], &[0xff; 9], &[0x80; 64], &[0xff, 0xff, 0xff, 0xff, 0, 0], b"BPIN"];
    for (name, target) in TARGETS {
        for data in edges {
            let mut crashes = Vec::new();
            run_one(name, target, data, &mut crashes);
            assert!(crashes.is_empty(), "target {name} panics on {data:02x?}");
        }
    }
    let kept = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions");
    for entry in std::fs::read_dir(&kept).into_iter().flatten().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let name = file.split('-').next().unwrap_or_default();
        let target = TARGETS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{file}: no target {name}")).1;
        let data = std::fs::read(entry.path()).expect("a kept input");
        let mut crashes = Vec::new();
        run_one(name, target, &data, &mut crashes);
        assert!(crashes.is_empty(), "target {name} panics again on {file}");
    }
}

//! Real blocks in every format peers write execute to their headers' post-state roots.

use std::path::PathBuf;

use alloy_primitives::{b256, B256};
use bp_conformance::for_each_file;
use bp_formats::{load, parse, Format, DEFAULT_MAX_INPUT_BYTES};
use bp_input::ProgramInput;
use bp_program::execute_input;

fn fixtures() -> PathBuf {
    bp_testkit::fixtures().join("real-blocks")
}

/// Loads, executes, and checks the outputs against the last header; also round-trips the input
/// through the binary form and executes that too.
fn check(path: &str, format: Format, number: u64, post_root: B256) -> ProgramInput {
    check_recovering(path, format, number, post_root, 0)
}

fn check_recovering(path: &str, format: Format, number: u64, post_root: B256, recovered: usize) -> ProgramInput {
    let loaded = load(&fixtures().join(path), None, DEFAULT_MAX_INPUT_BYTES).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(loaded.format, format);
    assert_eq!(loaded.recovered_siblings, recovered, "collapse siblings recovered from post-state proofs");
    let input = loaded.input;
    assert_eq!(input.blocks.last().map(|b| b.header.number), Some(number));
    let output = execute_input(&input).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(output.final_state_root, post_root);
    assert_eq!(output.initial_state_root, input.parent_header.state_root);
    assert_eq!(Some(output.last_block_hash), input.blocks.last().map(|b| b.header.hash_slow()));

    let binary = input.to_binary();
    let again = parse(&binary, None).expect("binary form reads back");
    assert_eq!(again.format, Format::Binary);
    assert_eq!(again.input, input);
    input
}

#[test]
fn hoodi_1281069_from_debug_execution_witness() {
    let input = check(
        "hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst",
        Format::ExecutionWitness,
        1_281_069,
        b256!("270dc7f617fe0ae8f8ac41794898f6d4943f37dd04073ceb6ebb78d8421ba2f8"),
    );
    assert_eq!(input.chain.chain_id, 560_048);
    let hoodi = execute_input(&input).expect("valid");
    assert_eq!(hoodi.chain_config_hash, bp_input::ChainConfig::hoodi().hash());
    assert_eq!(hoodi.parent_block_hash, input.parent_header.hash_slow());

    // The same block under other rules (Osaka from genesis, chain id kept) is still valid, and
    // before the configuration was committed its proof said exactly the same. Now the rules are
    // an output: a verifier that expects Hoodi's refuses it.
    let mut osaka = input.clone();
    osaka.chain =
        bp_input::ChainConfig { chain_id: 560_048, ..bp_input::ChainConfig::for_test_network("Osaka").expect("known") };
    let other = execute_input(&osaka).expect("valid under Osaka rules too");
    assert_eq!(other.final_state_root, hoodi.final_state_root);
    assert_ne!(other.chain_config_hash, hoodi.chain_config_hash);
    assert_eq!(other.first_difference(&hoodi).map(|m| m.word), Some(bp_program::OutputWord::ChainConfigHash));
}

/// This block deletes a key whose lone sibling is a leaf the pre-state proofs show only by
/// hash: without case-1 recovery from the post-state proofs it cannot be executed.
#[test]
fn mainnet_21230867_from_eth_get_proof_cache() {
    let input = check_recovering(
        "mainnet-zeth-rpc-cache/1-21230867.json.gz",
        Format::RpcCache,
        21_230_867,
        b256!("401515de5ea5bfdeaffce8003095b1c36695c5ec068bc05efa2e72cf40f0bbe1"),
        1,
    );
    assert_eq!(input.chain.chain_id, 1);
}

#[test]
fn mainnet_18884864_shanghai_from_eth_get_proof_cache() {
    check(
        "mainnet-zeth-rpc-cache/1-18884864.json.gz",
        Format::RpcCache,
        18_884_864,
        b256!("1b38d53a1944484c8c7e30177fd4dbde3f622d66a558ffdc786b362eb632595d"),
    );
}

#[test]
fn mainnet_20612842_from_partial_tries() {
    check(
        "mainnet-raiko-guest-input/ethereum-20612842.json.zst",
        Format::PartialTries,
        20_612_842,
        b256!("a4464a2f95c187d0b202115b59f4dee5bac0f1762c7f7604630f976d7bb71d06"),
    );
}

#[test]
fn every_eest_prague_block_with_a_reth_witness() {
    let mut count = 0;
    let mut failures = Vec::new();
    for_each_file(&fixtures().join("eest-prague-reth-stateless-input.tar.zst"), &mut |name, text| {
        let result = parse(text.as_bytes(), None).map_err(|e| e.to_string()).and_then(|loaded| {
            assert_eq!(loaded.format, Format::StatelessInput);
            let expected = loaded.input.blocks[0].header.state_root;
            let output = execute_input(&loaded.input).map_err(|e| e.to_string())?;
            (output.final_state_root == expected).then_some(()).ok_or_else(|| "wrong root".to_string())
        });
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
        count += 1;
    })
    .expect("archive readable");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(count >= 20, "only {count} blocks in the archive");
}

/// What `debug_dbGet` and `eth_getBlockByNumber` would answer, from a complete witness.
struct Node {
    nodes: std::collections::HashMap<B256, alloy_primitives::Bytes>,
    headers: Vec<alloy_consensus::Header>,
    /// A node without `debug_dbGet` still serves headers.
    db_get: bool,
}

impl bp_witness::PreStateFetcher for Node {
    fn node(&mut self, hash: B256) -> Option<alloy_primitives::Bytes> {
        self.nodes.get(&hash).filter(|_| self.db_get).cloned()
    }
    fn header(&mut self, number: u64) -> Option<alloy_consensus::Header> {
        self.headers.iter().find(|h| h.number == number).cloned()
    }
}

/// The build loop behind case 2: a node the pre-state lacks is fetched by hash and the run
/// repeated; with nothing to fetch from, the error names exactly that node.
#[test]
fn nodes_missing_from_proofs_are_fetched_by_hash_or_named() {
    use alloy_rlp::Decodable;
    use bp_witness::{BuildError, ProofWitnessBuilder};

    let input = load(
        &fixtures().join("hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst"),
        None,
        DEFAULT_MAX_INPUT_BYTES,
    )
    .expect("loads")
    .input;
    let headers: Vec<alloy_consensus::Header> = input
        .witness
        .headers
        .iter()
        .map(|h| alloy_consensus::Header::decode(&mut h.as_ref()).expect("header"))
        .collect();
    let builder = |skip: Option<B256>| {
        let mut builder = ProofWitnessBuilder::new(input.parent_header.clone());
        for node in &input.witness.state {
            if Some(alloy_primitives::keccak256(node)) != skip {
                builder.add_node(node.clone());
            }
        }
        for code in &input.witness.codes {
            builder.add_code(code.clone());
        }
        builder
    };
    let mut node = Node {
        nodes: input.witness.state.iter().map(|n| (alloy_primitives::keccak256(n), n.clone())).collect(),
        headers,
        db_get: true,
    };

    // Ancestor headers for BLOCKHASH come through the fetcher too.
    let complete = builder(None).build(&input.blocks, &input.chain, &mut node).expect("complete");
    let root = input.parent_header.state_root;
    let needed = complete
        .witness
        .state
        .iter()
        .map(alloy_primitives::keccak256)
        .find(|h| *h != root)
        .expect("the block needs nodes below the root");

    node.db_get = false;
    match builder(Some(needed)).build(&input.blocks, &input.chain, &mut node) {
        Err(BuildError::MissingNode { hash, .. }) => assert_eq!(hash, needed),
        other => panic!("expected the missing node to be named, got {other:?}"),
    }
    node.db_get = true;
    let fetched = builder(Some(needed)).build(&input.blocks, &input.chain, &mut node).expect("fetched");
    assert_eq!(fetched.fetched, vec![needed]);
    assert_eq!(fetched.output, complete.output);
    assert_eq!(fetched.witness, complete.witness);
}

/// Executed under another chain's rules a block fails for a reason that hides the real one
/// (Hoodi's block 1281069 under mainnet's is a pre-merge block without a difficulty): the
/// override is refused, naming the chain the input is for.
#[test]
fn a_chain_given_that_is_not_the_inputs_is_refused_naming_the_inputs_chain() {
    use bp_formats::{ChainEvidence, FormatError};
    use bp_input::ChainConfig;
    let load_as = |path: &str, chain: &ChainConfig| load(&fixtures().join(path), Some(chain), DEFAULT_MAX_INPUT_BYTES);
    let hoodi = "hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst";
    match load_as(hoodi, &ChainConfig::mainnet()) {
        Err(FormatError::ChainMismatch { input: 560_048, given: 1, evidence: ChainEvidence::Named }) => {}
        other => panic!("expected a chain mismatch, got {other:?}"),
    }
    // A format that names no chain: its transactions do.
    let mainnet = "mainnet-zeth-rpc-cache/1-21230867.json.gz";
    let refused = load_as(mainnet, &ChainConfig::hoodi()).unwrap_err();
    assert!(
        matches!(
            refused,
            FormatError::ChainMismatch { input: 1, given: 560_048, evidence: ChainEvidence::Transaction(_) }
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("the input is for chain 1"), "{refused}");
    // The input's own chain, or rules that keep its chain id, are taken.
    load_as(hoodi, &ChainConfig::hoodi()).expect("its own chain");
    load_as(mainnet, &ChainConfig::mainnet()).expect("its own chain");
    let binary = load_as(hoodi, &ChainConfig::hoodi()).unwrap().input.to_binary();
    assert!(matches!(parse(&binary, Some(&ChainConfig::mainnet())), Err(FormatError::ChainMismatch { .. })));
}

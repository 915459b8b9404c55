//! Single-block inputs joined into one batch input execute to the last block's root.

use bp_conformance::{for_each_file, stateless_inputs};
use bp_input::ProgramInput;
use bp_witness::{join_inputs, JoinError};

fn multi_block_tests(wanted: usize) -> Vec<Vec<ProgramInput>> {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/fork_transitions.tar.zst");
    let mut found = Vec::new();
    for_each_file(&archive, &mut |_, text| {
        if found.len() >= wanted {
            return;
        }
        let tests: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        for fixture in tests.as_object().expect("object").values() {
            match stateless_inputs(fixture) {
                Ok(inputs) if inputs.len() >= 3 && inputs.iter().any(|i| !i.blocks[0].body.transactions.is_empty()) => {
                    found.push(inputs)
                }
                _ => {}
            }
        }
    })
    .expect("archive readable");
    found.truncate(wanted);
    found
}

#[test]
fn joined_batches_reach_the_last_root() {
    let tests = multi_block_tests(5);
    assert_eq!(tests.len(), 5, "the suite has multi-block tests with transactions");
    for inputs in tests {
        let last = inputs.last().unwrap().blocks[0].header.clone();
        let parent_root = inputs[0].parent_header.state_root;
        let union: usize = inputs.iter().map(|i| i.witness.state.len()).sum();
        let joined = join_inputs(inputs).expect("consecutive inputs join");
        assert!(joined.witness.state.len() <= union);
        let output = bp_program::execute_input(&joined).expect("the joined input executes");
        assert_eq!(output.initial_state_root, parent_root);
        assert_eq!(output.final_state_root, last.state_root);
        assert_eq!(output.last_block_hash, last.hash_slow());
    }
}

#[test]
fn gaps_and_empty_lists_are_refused() {
    let mut inputs = multi_block_tests(1).pop().unwrap();
    assert!(matches!(join_inputs(Vec::new()), Err(JoinError::Empty)));
    inputs.remove(1);
    assert!(matches!(join_inputs(inputs), Err(JoinError::NotConsecutive { index: 1, .. })));
}

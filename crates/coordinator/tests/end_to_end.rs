//! A coordinator over a directory of real-block and conformance inputs, three exec provers:
//! every batch is proved exactly once, and the stored outputs are the headers' roots.

mod common;

use std::time::Duration;

use bp_backend::{Proof, ProofType};
use bp_input::ProgramInput;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_provers_prove_every_batch_once() {
    let inputs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let real = link_real_blocks(inputs.path());
    let conformance = conformance_inputs(12);
    write_inputs(inputs.path(), &conformance);
    let total = (real + conformance.len()) as u64;
    // Not inputs: ignored, and the coordinator keeps going.
    std::fs::write(inputs.path().join("notes.txt"), "not an input").unwrap();

    let running = start(config(data.path()), inputs.path(), total).await;
    let endpoint = running.addr.to_string();
    let stop = tokio_util::sync::CancellationToken::new();
    let provers: Vec<_> = (0..3)
        .map(|i| {
            spawn_prover(
                prover_config(&endpoint, data.path().join(format!("prover{i}")), &format!("p{i}")),
                stop.clone(),
            )
        })
        .collect();
    let store = running.coordinator().store();
    wait_for(Duration::from_secs(300), || store.counts(ProofType::Exec, 0).unwrap().proved == total).await;
    stop.cancel();
    let mut proved = 0;
    let mut busy = 0;
    for prover in provers {
        let stats = prover.await.unwrap();
        assert_eq!((stats.rejected, stats.failed), (0, 0));
        assert_eq!(stats.proved, stats.acknowledged);
        proved += stats.proved;
        busy += u64::from(stats.proved > 0);
    }
    assert_eq!(proved, total, "no batch proved twice");
    assert!(busy >= 2, "work is shared between provers");

    let proofs = store.proofs().unwrap();
    assert_eq!(proofs.len() as u64, total);
    for (stored, batch) in proofs.iter().zip(store.batches().unwrap()) {
        assert_eq!(stored.batch, batch.number);
        let input = ProgramInput::from_binary(&batch.input).unwrap();
        let last = &input.blocks.last().unwrap().header;
        let outputs = Proof::from_bytes(&stored.proof).unwrap().outputs().unwrap();
        assert_eq!(outputs.initial_state_root, input.parent_header.state_root, "batch {}", batch.source);
        assert_eq!(outputs.final_state_root, last.state_root, "batch {}", batch.source);
        assert_eq!(outputs.last_block_hash, last.hash_slow());
        assert_eq!(store.times_assigned(batch.number, ProofType::Exec).unwrap(), 1, "assigned once");
    }

    let metrics = http_get(running.metrics_addr.unwrap(), "/metrics").await;
    assert!(
        metrics.contains(&format!("blockprover_batches{{proof_type=\"exec\",state=\"proved\"}} {total}")),
        "{metrics}"
    );
    assert!(metrics.contains("blockprover_batch_proving_seconds_count{proof_type=\"exec\"}"), "{metrics}");
    for limit in ["max_connections\"} 1024", "listen_backlog\"} 4096", "handshake_timeout_seconds\"} 10"] {
        assert!(metrics.contains(&format!("blockprover_limit{{name=\"{limit}")), "{limit} in {metrics}");
    }
    let health = http_get(running.metrics_addr.unwrap(), "/health").await;
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    running.shutdown().await;
}

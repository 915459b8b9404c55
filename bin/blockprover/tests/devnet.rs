//! The devnet end to end with the real binary: 3 batches of 4 L2 blocks built, proved by two
//! provers and every proof checked against the builder's own roots, withdrawals root,
//! deposits hash and state-diff hash; then a second run resumes from the data dir.

use std::process::Command;

fn devnet(dir: &std::path::Path, batches: usize) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["devnet", "--batches", &batches.to_string(), "--blocks-per-batch", "4", "--provers", "2", "--data-dir"])
        .arg(dir)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), stdout)
}

#[test]
fn devnet_proves_batches_that_match_the_builder_and_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, stdout) = devnet(dir.path(), 3);
    assert!(ok, "devnet failed");
    assert!(stdout.contains("3 of 3 batches proved with exec, 0 mismatching"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.trim_end().ends_with(" ok")).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    // Every batch carries deposits and withdrawals, so its commitments are not zero.
    for row in &rows {
        let zero = "0x00000000…0000";
        assert_eq!(row.matches(zero).count(), 0, "{row}");
    }

    let (ok, stdout) = devnet(dir.path(), 4);
    assert!(ok, "resumed devnet failed");
    assert!(stdout.contains("4 of 4 batches proved with exec, 0 mismatching"), "{stdout}");
    // The first three batches are the same ones (same final roots) as in the first run.
    let again: Vec<&str> = stdout.lines().filter(|l| l.trim_end().ends_with(" ok")).take(3).collect();
    assert_eq!(again, rows);
}

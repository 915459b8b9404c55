//! A decompression bomb: a small `.zst` that inflates to 2 GiB of zeros is refused at the input
//! size limit, with the process's peak memory near the limit, not near the bomb.

use std::{io::Write, process::Command};

/// Runs `command` to its end; returns its exit success, its stderr and its peak resident memory
/// in bytes (`wait4`'s `ru_maxrss`; wait4 reaps the child, so `Child::wait` is not called).
#[allow(clippy::zombie_processes)]
fn run_measured(command: &mut Command) -> (bool, String, u64) {
    let child = command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct that wait4 fills in; `pid` is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (success, reader.join().unwrap(), usage.ru_maxrss as u64 * 1024)
}

#[test]
fn a_decompression_bomb_is_refused_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.json.zst");
    let mut encoder = zstd::stream::write::Encoder::new(std::fs::File::create(&bomb).unwrap(), 3).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap();
    let compressed = std::fs::metadata(&bomb).unwrap().len();

    let limit_mib = 64u64;
    let (ok, stderr, peak) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["execute", "--max-input-mib", &limit_mib.to_string()])
            .arg(&bomb),
    );
    println!(
        "bomb: {compressed} bytes inflating to 2 GiB, limit {limit_mib} MiB: refused, peak resident {:.1} MB",
        peak as f64 / 1e6
    );
    assert!(!ok, "refused");
    assert!(stderr.contains(&bomb.display().to_string()), "names the file: {stderr}");
    assert!(stderr.contains(&(limit_mib << 20).to_string()), "names the limit: {stderr}");
    assert!(peak < (limit_mib << 20) + (64 << 20), "peak memory {peak} near the limit");
}

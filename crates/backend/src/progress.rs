//! How far a proof has got, shared between the thread that proves and whoever reports on it
//! (a log line, a heartbeat to the coordinator).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// Units of a proof done of the total: RISC Zero's segments. A backend that cannot tell (exec,
/// SP1, whose prover cuts its shards internally) leaves both at 0. Clones share the counts.
#[derive(Debug, Default, Clone)]
pub struct Progress(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// The proof has `total` units, none of them done yet.
    pub fn start(&self, total: u64) {
        self.0.done.store(0, Ordering::Relaxed);
        self.0.total.store(total, Ordering::Relaxed);
    }

    /// One more unit is done.
    pub fn advance(&self) {
        self.0.done.fetch_add(1, Ordering::Relaxed);
    }

    /// `done` of `total` units are done (what another process reported).
    pub fn set(&self, done: u64, total: u64) {
        self.0.total.store(total, Ordering::Relaxed);
        self.0.done.store(done, Ordering::Relaxed);
    }

    /// (done, total); (0, 0) while unknown.
    pub fn get(&self) -> (u64, u64) {
        (self.0.done.load(Ordering::Relaxed), self.0.total.load(Ordering::Relaxed))
    }

    /// The time still needed at the rate so far, once a unit is done.
    pub fn remaining(&self, elapsed: Duration) -> Option<Duration> {
        let (done, total) = self.get();
        (done > 0 && total >= done).then(|| elapsed.mul_f64((total - done) as f64 / done as f64))
    }

    /// A line for logs: "segments 3/12, 1m 20s elapsed, about 4m 40s left".
    pub fn describe(&self, elapsed: Duration) -> String {
        let (done, total) = self.get();
        let elapsed_text = minutes(elapsed);
        match (total, self.remaining(elapsed)) {
            (0, _) => format!("{elapsed_text} elapsed"),
            (_, None) => format!("segments {done}/{total}, {elapsed_text} elapsed"),
            (_, Some(left)) => format!("segments {done}/{total}, {elapsed_text} elapsed, about {} left", minutes(left)),
        }
    }
}

/// "42s", "3m 05s", "2h 01m".
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_the_rest_at_the_rate_so_far() {
        let progress = Progress::default();
        assert_eq!(progress.describe(Duration::from_secs(5)), "5s elapsed");
        progress.start(4);
        assert_eq!(progress.remaining(Duration::from_secs(5)), None);
        assert_eq!(progress.describe(Duration::from_secs(5)), "segments 0/4, 5s elapsed");
        progress.advance();
        assert_eq!(progress.remaining(Duration::from_secs(60)), Some(Duration::from_secs(180)));
        assert_eq!(progress.describe(Duration::from_secs(60)), "segments 1/4, 1m 00s elapsed, about 3m 00s left");
        for _ in 0..3 {
            progress.advance();
        }
        assert_eq!(progress.get(), (4, 4));
        assert_eq!(progress.describe(Duration::from_secs(7300)), "segments 4/4, 2h 01m elapsed, about 0s left");
    }
}

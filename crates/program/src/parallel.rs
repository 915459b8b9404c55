//! Independent work spread over the machine's cores natively; in order on one core in a zkVM
//! guest, which builds the program without `std` (it has one hart and no threads).

use alloc::vec;
#[cfg(feature = "std")]
use alloc::vec::Vec;
use core::{iter::Enumerate, slice};

/// `f(index, item)` for every item, results in order. With `std` and at least
/// `min_per_thread` items for each thread, the slice is cut into one run per core and each run
/// goes to a scoped thread; otherwise (a small batch, where a thread would cost more than it
/// saves, or a guest) `f` runs lazily as the results are taken, with nothing buffered.
pub(crate) fn map<'a, T: Sync, R: Send, F: Fn(usize, &'a T) -> R + Sync>(
    items: &'a [T],
    min_per_thread: usize,
    f: F,
) -> Mapped<'a, T, R, F> {
    #[cfg(feature = "std")]
    {
        let threads = cores().min(items.len() / min_per_thread.max(1));
        if threads > 1 {
            let done = on_threads(items, threads, &f);
            return Mapped { done: Some(done.into_iter()), rest: [].iter().enumerate(), f };
        }
    }
    #[cfg(not(feature = "std"))]
    let _ = min_per_thread;
    Mapped { done: None, rest: items.iter().enumerate(), f }
}

/// The results of [`map`]: computed already, or computed as they are taken.
pub(crate) struct Mapped<'a, T, R, F> {
    done: Option<vec::IntoIter<R>>,
    rest: Enumerate<slice::Iter<'a, T>>,
    f: F,
}

impl<'a, T, R, F: Fn(usize, &'a T) -> R> Iterator for Mapped<'a, T, R, F> {
    type Item = R;

    fn next(&mut self) -> Option<R> {
        match &mut self.done {
            Some(done) => done.next(),
            None => self.rest.next().map(|(i, item)| (self.f)(i, item)),
        }
    }
}

#[cfg(feature = "std")]
fn on_threads<'a, T: Sync, R: Send>(items: &'a [T], threads: usize, f: &(impl Fn(usize, &'a T) -> R + Sync)) -> Vec<R> {
    let run = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(run)
            .enumerate()
            .map(|(i, part)| {
                scope.spawn(move || part.iter().enumerate().map(|(j, item)| f(i * run + j, item)).collect::<Vec<R>>())
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for worker in workers {
            match worker.join() {
                Ok(results) => out.extend(results),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// The cores available to this process, asked once (it reads cgroup limits).
#[cfg(feature = "std")]
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_and_indices() {
        let items: Vec<u64> = (0..10_000).collect();
        let out: Vec<_> = map(&items, 16, |i, item| (i as u64, item * 3)).collect();
        assert_eq!(out.len(), items.len());
        assert!(out.iter().enumerate().all(|(i, &(index, value))| index == i as u64 && value == 3 * i as u64));
        assert_eq!(map(&items[..3], 16, |_, item| *item).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(map(&[] as &[u64], 16, |_, item| *item).count(), 0);
    }
}

//! How many threads kiln's kernels may use. Work is split over outputs only (never over a sum),
//! so results are bit-identical whatever the count.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of worker threads and returns the number used: 0 means one per core, and
/// more than the cores are capped to them (a thread beyond the cores could only take a core
/// from one that works). Call it before training; the thread pool is created once per process.
pub fn set_num_threads(n: usize) -> Result<usize> {
    let n = capped(n, std::thread::available_parallelism().map_or(1, |c| c.get()));
    match rayon::ThreadPoolBuilder::new().num_threads(n).build_global() {
        Ok(()) => {}
        Err(_) if rayon::current_num_threads() == n => {}
        Err(_) => {
            return Err(Error::value(format!(
                "the thread pool already runs {} threads; set the thread count once, before training",
                rayon::current_num_threads()
            )))
        }
    }
    THREADS.store(n, Ordering::Relaxed);
    Ok(n)
}

/// `n` threads on `cores` cores: 0 and anything above `cores` give `cores`.
fn capped(n: usize, cores: usize) -> usize {
    if n == 0 {
        cores
    } else {
        n.min(cores)
    }
}

/// The number of threads kernels may use.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => rayon::current_num_threads(),
        n => n,
    }
}

/// Runs `f` on a pool of its own of `n` threads: tests that compare the bits of 1 and 2 threads.
#[cfg(test)]
pub(crate) fn on_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("a thread pool").install(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_more_than_the_cores_give_the_cores() {
        assert_eq!(capped(0, 2), 2);
        assert_eq!(capped(1, 2), 1);
        assert_eq!(capped(2, 2), 2);
        assert_eq!(capped(3, 2), 2);
        assert_eq!(capped(usize::MAX, 16), 16);
    }
}

//! How many threads kiln's kernels may use. Work is split over outputs only (never over a sum),
//! so results are bit-identical whatever the count.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of worker threads (0: one per logical core). Call it before training; the
/// thread pool is created once per process.
pub fn set_num_threads(n: usize) -> Result<()> {
    let n = if n == 0 { std::thread::available_parallelism().map_or(1, |c| c.get()) } else { n };
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
    Ok(())
}

/// The number of threads kernels may use.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => rayon::current_num_threads(),
        n => n,
    }
}

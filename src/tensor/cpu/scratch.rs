//! Scratch buffers for the tasks of a parallel loop: one per pool thread, each taken whole by
//! whichever task runs, so a loop over many chunks needs buffers for as many chunks as run at
//! once, not one per chunk. Sized once; a steady-state step allocates nothing.

use std::sync::Mutex;

/// One buffer per pool thread (after [`Scratch::ensure`]). A task takes a free one for as long as it runs.
#[derive(Default)]
pub struct Scratch {
    slots: Vec<Mutex<Vec<f32>>>,
}

impl Scratch {
    /// Makes sure there is a buffer of at least `len` floats for each thread of the current
    /// pool. Allocates only when the pool or `len` grew since the last call.
    pub fn ensure(&mut self, len: usize) {
        let threads = rayon::current_num_threads();
        if self.slots.len() < threads {
            self.slots.resize_with(threads, Default::default);
        }
        for slot in &mut self.slots {
            let buf = slot.get_mut().unwrap_or_else(|e| e.into_inner());
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
        }
    }

    /// Runs `f` on the first `len` floats of a free buffer. Tasks that make no parallel calls
    /// while they hold it never find all buffers taken; should that happen anyway, `f` gets a
    /// buffer of its own (correct, but allocated).
    pub fn with<R>(&self, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
        for slot in &self.slots {
            if let Ok(mut buf) = slot.try_lock() {
                if buf.len() >= len {
                    return f(&mut buf[..len]);
                }
            }
        }
        f(&mut vec![0.0; len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_task_gets_a_whole_buffer_of_its_own() {
        let mut scratch = Scratch::default();
        scratch.ensure(5);
        use rayon::prelude::*;
        let sums: Vec<f32> = (0..64)
            .into_par_iter()
            .map(|i| {
                scratch.with(5, |buf| {
                    buf.iter_mut().for_each(|v| *v = i as f32);
                    std::thread::yield_now();
                    buf.iter().sum()
                })
            })
            .collect();
        assert_eq!(sums, (0..64).map(|i| 5.0 * i as f32).collect::<Vec<_>>());
        // Longer than the buffers: still correct, from a buffer of its own.
        assert_eq!(scratch.with(9, |buf| buf.len()), 9);
    }
}

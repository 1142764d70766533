//! The CPU backend: how and where `tensor::ops` compute on the host. It owns the threads (a
//! rayon pool, [`set_num_threads`]), their waiting policy while a training loop runs
//! ([`with_workers`]), the split policy (which products and updates are worked on in two
//! halves), the scratch and packing buffers (grown once, so a steady-state step allocates
//! nothing), and the kernels: a blocked GEMM, im2col, Winograd's F(2×2, 3×3), the poolings.
//!
//! Work is split over outputs, in parts fixed by the shapes, never over the thread count, so the
//! results are the same bits on 1 thread or many. Denormal numbers are flushed to zero, as
//! TensorFlow's kernels do ([`FlushDenormals`]).

mod buffers;
pub(crate) mod conv;
mod denormals;
mod gemm;
mod im2col;
mod loss;
mod matmul;
mod pool;
pub(crate) mod pooling;
pub(crate) mod rows;
mod run_delay;
mod scratch;
mod small_gemm;
mod threads;
mod transpose;
mod update;
mod winograd;
mod winograd_tiles;

pub use denormals::FlushDenormals;
pub(crate) use loss::{sigmoid_crossentropy, softmax_crossentropy};
pub(crate) use matmul::{matmul, matmul_bias};
pub(crate) use rows::{all_finite, col_sums, copy_row, gather_rows, scatter_add_rows, scatter_add_rows_and_squares};
pub(crate) use small_gemm::{small_matmul, SMALL_B_MAX};
#[cfg(test)]
pub(crate) use threads::on_threads;
pub use threads::{num_threads, set_num_threads};
pub(crate) use transpose::transpose;
pub(crate) use update::elementwise_update;

/// Runs a training loop `f` on a worker of the pool while the pool's other threads wait for the
/// work it hands out (polling while the cores are kiln's alone, parked while they are shared),
/// and grows the threads' packing buffers between steps ([`between_steps`]).
pub fn with_workers<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool::run_with_helpers(|| {
        let _flush = FlushDenormals::on(); // on the worker that runs the loop (and the pool, once)
        f()
    })
}

/// Runs `main` and, on another worker when one is free (otherwise after it, on this thread),
/// `side`: the next batch's gather while this one trains.
pub fn alongside<A: Send, B: Send>(main: impl FnOnce() -> A + Send, side: impl FnOnce() -> B + Send) -> (A, B) {
    rayon::join(main, side)
}

/// Grows every pool thread's packing buffers to what the products so far have needed, once: a
/// training step calls it before its products, so that no product allocates on a later step.
pub fn between_steps() {
    gemm::grow_pool_buffers();
}

//! Denormal numbers (below 2^-126 in f32) flushed to zero, as TensorFlow's CPU kernels do, so
//! Keras's numbers are: TensorFlow runs its ops with the x86 MXCSR's flush-to-zero (FTZ) and
//! denormals-are-zero (DAZ) flags set (`tf.constant(1e-10) * 1e-30` is 0, not 1e-40; PyTorch
//! keeps denormals). Besides matching Keras this keeps the speed: a recurrent layer's gradient
//! fades through 100 time steps into denormals, and each denormal operand or result costs the
//! processor a microcode assist of a hundred cycles or more (a GRU(8) step was 17% slower).
//!
//! [`FlushDenormals`] sets both flags on the calling thread and restores the old ones when
//! dropped; the first one also sets them on every thread of the pool, once (its threads are
//! kiln's compute threads), so a result does not depend on which thread computed it. Other
//! architectures keep their default (no flag is set there).

use std::sync::atomic::{AtomicBool, Ordering};

/// FTZ (bit 15) and DAZ (bit 6) of MXCSR; none elsewhere.
const FLAGS: u32 = if cfg!(target_arch = "x86_64") { 0x8040 } else { 0 };

/// The flags set on this thread until dropped (see the module's documentation).
pub struct FlushDenormals {
    saved: u32,
}

/// Whether the pool's threads were given the flags (or are being given them).
static POOL: AtomicBool = AtomicBool::new(false);

impl FlushDenormals {
    /// Sets FTZ and DAZ on this thread (and, the first time, on the pool's threads).
    pub fn on() -> FlushDenormals {
        // Not a `Once`: a caller that waited for another's broadcast while being a pool thread
        // that broadcast needs (a `fit` inside a user's `par_iter`) would never return. A
        // second caller goes on at once instead; only a first call racing the broadcast could
        // see a pool thread without the flags yet.
        if !POOL.swap(true, Ordering::AcqRel) {
            rayon::broadcast(|_| set(read() | FLAGS));
        }
        let saved = read();
        set(saved | FLAGS);
        FlushDenormals { saved }
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        set(self.saved);
    }
}

/// This thread's MXCSR.
#[cfg(target_arch = "x86_64")]
fn read() -> u32 {
    let mut csr = 0u32;
    // SAFETY: `stmxcsr` stores the 32-bit MXCSR into the local it is given; SSE is part of x86_64.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
    csr
}

/// Sets this thread's MXCSR.
#[cfg(target_arch = "x86_64")]
fn set(csr: u32) {
    // SAFETY: `ldmxcsr` loads MXCSR from the local it is given; `csr` comes from `stmxcsr` with
    // only the FTZ and DAZ bits added, which are valid on every x86_64 processor with SSE2.
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly)) };
}

#[cfg(not(target_arch = "x86_64"))]
fn read() -> u32 {
    0
}

#[cfg(not(target_arch = "x86_64"))]
fn set(_: u32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denormals_are_flushed_while_on_and_kept_after() {
        let tiny = std::hint::black_box(1e-10f32);
        let scale = std::hint::black_box(1e-30f32);
        assert!(tiny * scale > 0.0, "a denormal by default");
        {
            let _on = FlushDenormals::on();
            #[cfg(target_arch = "x86_64")]
            assert_eq!(std::hint::black_box(tiny) * std::hint::black_box(scale), 0.0);
            let on_pool: Vec<f32> = rayon::broadcast(|_| std::hint::black_box(tiny) * std::hint::black_box(scale));
            #[cfg(target_arch = "x86_64")]
            assert!(on_pool.iter().all(|&v| v == 0.0), "{on_pool:?}");
            let _ = on_pool;
        }
        assert!(std::hint::black_box(tiny) * std::hint::black_box(scale) > 0.0, "restored");
    }
}

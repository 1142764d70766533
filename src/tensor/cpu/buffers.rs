//! Buffers the CPU backend lends itself for the length of one operation (a split product's
//! second partial sum, a transposed result), kept per thread and grown once: a steady-state
//! step allocates nothing.
//!
//! Each thread keeps a stack: an operation takes a buffer off it for as long as it runs and
//! pushes it back after. While it waits for the pool inside that time, rayon may run another
//! operation on the same thread, which then takes (once, and keeps) a buffer of its own.

use std::cell::RefCell;

thread_local! {
    static STACK: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of a buffer of this thread's (contents unspecified).
pub(crate) fn with_buffer<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = STACK.with(|s| s.borrow_mut().pop().unwrap_or_default());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    STACK.with(|s| s.borrow_mut().push(buf));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_reused_and_a_nested_call_gets_its_own() {
        let first = with_buffer(8, |b| b.as_ptr() as usize);
        let (outer, inner) = with_buffer(8, |b| (b.as_ptr() as usize, with_buffer(4, |c| c.as_ptr() as usize)));
        assert_eq!(first, outer, "the same buffer again");
        assert_ne!(outer, inner, "a nested call does not share it");
    }
}

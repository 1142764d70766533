//! Everything kiln prints goes through here ([`outln!`](crate::outln), [`errln!`](crate::errln)).
//!
//! A closed or full standard output (`kiln train | head -1`) must not end a run: the first write
//! that fails turns printing off for good, quietly, and training and saving go on. `println!`
//! would panic there instead. [`set_quiet`] silences all output but errors (`--quiet`).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Silences (or brings back) everything [`out`] and [`err`] print.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` (or [`set_quiet`]) is in force.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether printing to standard output still happens: not quiet, and no write to it has failed.
pub fn stdout_enabled() -> bool {
    !is_quiet() && !STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Prints to standard output; after a failed write (EPIPE, a full disk), prints nothing more.
pub fn out(args: fmt::Arguments) {
    if stdout_enabled() {
        write_or_close(&mut std::io::stdout().lock(), args, &STDOUT_CLOSED);
    }
}

/// Prints a warning or a note to standard error, with the same quiet stop on failure.
pub fn err(args: fmt::Arguments) {
    if !is_quiet() && !STDERR_CLOSED.load(Ordering::Relaxed) {
        write_or_close(&mut std::io::stderr().lock(), args, &STDERR_CLOSED);
    }
}

/// Prints an error to standard error even under `--quiet` (the exit status alone says too little).
pub fn error(args: fmt::Arguments) {
    if !STDERR_CLOSED.load(Ordering::Relaxed) {
        write_or_close(&mut std::io::stderr().lock(), args, &STDERR_CLOSED);
    }
}

fn write_or_close(w: &mut impl Write, args: fmt::Arguments, closed: &AtomicBool) {
    if w.write_fmt(args).and_then(|_| w.flush()).is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// `println!` through [`console::out`](crate::console::out): never panics on a closed stdout.
#[macro_export]
macro_rules! outln {
    () => { $crate::console::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`console::out`](crate::console::out).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::out(format_args!($($arg)*)) };
}

/// `eprintln!` through [`console::err`](crate::console::err) (silenced by `--quiet`).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::console::err(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Broken(usize);

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_closes_the_stream_without_panicking() {
        let closed = AtomicBool::new(false);
        let mut w = Broken(0);
        write_or_close(&mut w, format_args!("Epoch {}/{}\n", 1, 5), &closed);
        assert!(closed.load(Ordering::Relaxed));
        let mut ok = Vec::new();
        let open = AtomicBool::new(false);
        write_or_close(&mut ok, format_args!("{}", 42), &open);
        assert_eq!((ok.as_slice(), open.load(Ordering::Relaxed)), (b"42".as_slice(), false));
    }
}

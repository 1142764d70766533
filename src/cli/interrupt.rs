//! Ctrl-C (SIGINT) and SIGTERM during `kiln train`: the first asks `fit` to stop after the
//! current batch, so the run ends as usual and writes its files; a second ends kiln at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use kiln::{Error, Result};

/// Set by the first signal; `fit` reads it after each batch.
static STOP: AtomicBool = AtomicBool::new(false);
/// Which signal that was.
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers; returns the flag to hand to `fit`.
pub fn install() -> Result<&'static AtomicBool> {
    for signal in [SIGINT, SIGTERM] {
        let failed = |e: std::io::Error| Error::value(format!("cannot handle signal {signal}: {e}"));
        // Registered first, so it runs before STOP is set: the second signal exits, 128 + its
        // number as a shell reports a killed process, without unwinding or writing anything.
        flag::register_conditional_shutdown(signal, 128 + signal, &STOP).map_err(failed)?;
        flag::register(signal, &STOP).map_err(failed)?;
        flag::register_usize(signal, &SIGNAL, signal as usize).map_err(failed)?;
    }
    Ok(&STOP)
}

/// The exit status for the signal that stopped the run (130 for Ctrl-C), if one came.
pub fn exit_status() -> Option<u8> {
    STOP.load(Ordering::SeqCst).then(|| 128 + SIGNAL.load(Ordering::SeqCst).min(127) as u8)
}

//! How long a thread has waited, runnable, for a core: the second field of Linux's
//! `/proc/thread-self/schedstat` ("time on a core, time waiting for one, timeslices", in ns).
//! It grows only while the thread wants to run and another one holds its core, so it tells
//! the pool's waiting threads whether the cores are kiln's alone.

use std::fs::File;

/// The run-queue wait of the thread that opened it; it may be read from any thread.
pub(crate) struct RunDelay(File);

impl RunDelay {
    /// The calling thread's counter; `None` where the kernel does not offer it (not Linux).
    pub(crate) fn of_this_thread() -> Option<RunDelay> {
        File::open("/proc/thread-self/schedstat").ok().map(RunDelay)
    }

    /// Nanoseconds waited so far. Reads into a stack buffer: no allocation.
    pub(crate) fn read(&self) -> Option<u64> {
        let mut buf = [0u8; 96];
        let n = read_at_start(&self.0, &mut buf)?;
        parse_run_delay(&buf[..n])
    }
}

#[cfg(unix)]
fn read_at_start(file: &File, buf: &mut [u8]) -> Option<usize> {
    use std::os::unix::fs::FileExt;
    // The kernel writes the file afresh on each read from offset 0.
    file.read_at(buf, 0).ok()
}

#[cfg(not(unix))]
fn read_at_start(_: &File, _: &mut [u8]) -> Option<usize> {
    None
}

/// The second of the whitespace-separated numbers.
fn parse_run_delay(text: &[u8]) -> Option<u64> {
    let field = text.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).nth(1)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_field_is_the_wait() {
        assert_eq!(parse_run_delay(b"5125420 3341365 17\n"), Some(3341365));
        assert_eq!(parse_run_delay(b"0 0 1"), Some(0));
        assert_eq!(parse_run_delay(b"5125420\n"), None);
        assert_eq!(parse_run_delay(b"5125420 -3 1\n"), None);
        assert_eq!(parse_run_delay(b""), None);
    }

    /// More spinning threads than cores: together they must have waited for a core, and each
    /// counter is read from a thread other than its own.
    #[cfg(target_os = "linux")]
    #[test]
    fn threads_that_outnumber_the_cores_wait_for_them() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let waited: u64 = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            for _ in 0..=cores {
                let (tx, stop) = (tx.clone(), &stop);
                s.spawn(move || {
                    tx.send(RunDelay::of_this_thread().expect("Linux has schedstat")).unwrap();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            let delays: Vec<RunDelay> = (0..=cores).map(|_| rx.recv().unwrap()).collect();
            let start: Vec<u64> = delays.iter().map(|d| d.read().unwrap()).collect();
            std::thread::sleep(std::time::Duration::from_millis(50));
            let waited = delays.iter().zip(&start).map(|(d, s)| d.read().unwrap() - s).sum();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            waited
        });
        assert!(waited > 0, "{} spinning threads on {cores} cores never waited", cores + 1);
    }
}

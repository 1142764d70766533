//! The thread pool while a training loop runs. The loop runs on one worker; the pool's other
//! threads (at most one per core) wait for the jobs it hands out: the halves of a split Dense
//! layer, a convolution's chunks, the next batch's gather. How they wait decides the speed.
//!
//! - A thread that sleeps takes over 20 µs to wake on a VM, longer than many of those jobs.
//!   So while the cores are kiln's alone, the waiting threads poll for work (as OpenMP's
//!   active wait does).
//! - On a core that another program also wants, a polling thread takes half of that core
//!   from the loop or from the program, and a job it has picked up waits for its next
//!   timeslice (milliseconds) while the loop waits for the job. So a waiting thread that sees
//!   itself or the loop's thread wait for a core (their run-queue waits, `run_delay.rs`) for
//!   more than a quarter of the time parks. The loop then finds its jobs unclaimed and runs
//!   them itself, as on one thread. A parked thread comes back after a pause to look again:
//!   16 ms, doubled while the contention lasts, up to 1 s.
//!
//! A program that takes a core now and then (a compiler's short jobs, a daemon) costs the
//! loop less than losing the second core would: waits up to a quarter of the time, summed
//! over 32 ms, do not park.
//!
//! Who runs a job never changes its result (work is split over outputs, in fixed parts), so
//! the weights are the same bits however the threads wait. Where the kernel does not report
//! run-queue waits (not Linux), the threads always poll.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::run_delay::RunDelay;
use super::threads::num_threads;

/// How often a polling thread reads the waits.
const CHECK_EVERY: Duration = Duration::from_millis(2);
/// The waits are summed over windows of this length...
const WINDOW: Duration = Duration::from_millis(32);
/// ... and a thread that waited for a core longer than this within one (a quarter of it)
/// shares it. Sharing a core with a busy program, a thread waits about half of the time.
const MAX_WAIT: Duration = Duration::from_millis(8);
const FIRST_PAUSE: Duration = Duration::from_millis(16);
const LONGEST_PAUSE: Duration = Duration::from_millis(1024);
/// Polling this long without contention starts the pauses again from the first.
const CLEAN_RESET: Duration = Duration::from_secs(1);

/// Runs `f` on a worker of the pool while the pool's other threads, at most one per core,
/// wait for the jobs it hands out (see the module doc). Kernels called from `f` then queue
/// their parallel work locally, which allocates nothing (queueing from outside the pool does).
pub fn run_with_helpers<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let shared = Shared::default();
    rayon::scope(|s| {
        let shared = &shared;
        // Opened here: the scope's body runs on the worker that runs `f`.
        let _ = shared.caller.set(RunDelay::of_this_thread());
        // Never more waiting threads than cores: a thread polling on a core of its own kind
        // would only take it from the one doing the work.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for _ in 1..num_threads().min(cores) {
            // A thread that runs a loop (this one, or another's on the same pool) and picks
            // this job up while it waits in a join returns at once: its loop must go on, or
            // two loops could each wait inside the other's waiting job.
            s.spawn(move |_| {
                if !IN_LOOP.get() {
                    help(shared)
                }
            });
        }
        let _stop = StopOnDrop(shared);
        let _in_loop = InLoop::enter();
        f()
    })
}

/// Wakes the parked waiting threads, for a job that every thread of the pool must run
/// (`rayon::broadcast`): a parked thread would hold it up until its pause ends.
pub fn wake_waiting_threads() {
    *PARKING.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    UNPARK.notify_all();
}

/// What the loop and its waiting threads share.
#[derive(Default)]
struct Shared {
    /// Set when the loop ends (returns, fails or panics).
    done: AtomicBool,
    /// The loop's thread's wait for a core.
    caller: OnceLock<Option<RunDelay>>,
    /// The loop's wait when a waiting thread last parked because of it: another thread parks
    /// for the loop's wait only if it grew after that, so not all of them park at once.
    caller_mark: AtomicU64,
}

impl Shared {
    fn caller_waited(&self) -> Option<u64> {
        self.caller.get().and_then(Option::as_ref).and_then(RunDelay::read)
    }
}

/// A waiting thread: runs the pool's jobs as they come, polling, until the loop ends; parks
/// while the cores are shared.
fn help(shared: &Shared) {
    let own = RunDelay::of_this_thread();
    let own_waited = || own.as_ref().and_then(RunDelay::read);
    let mut pause = Pause::default();
    let mut clean_since = Instant::now();
    let mut checked = clean_since;
    let mut window = Window::start(clean_since, own_waited(), shared.caller_waited());
    while !shared.done.load(Ordering::Relaxed) {
        if rayon::yield_now() != Some(rayon::Yield::Executed) {
            (0..64).for_each(|_| std::hint::spin_loop());
        }
        let now = Instant::now();
        if now - checked < CHECK_EVERY {
            continue;
        }
        checked = now;
        let (own_now, caller_now) = (own_waited(), shared.caller_waited());
        if window.shared_core(own_now, caller_now, &shared.caller_mark) {
            park(shared, pause.next(now - clean_since));
            clean_since = Instant::now();
            checked = clean_since;
            window = Window::start(clean_since, own_waited(), shared.caller_waited());
        } else if now - window.since >= WINDOW {
            window = Window::start(now, own_now, caller_now);
        }
    }
}

/// The waits (ns) of this thread and of the loop's thread at the start of a window.
struct Window {
    since: Instant,
    own: Option<u64>,
    caller: Option<u64>,
}

impl Window {
    fn start(since: Instant, own: Option<u64>, caller: Option<u64>) -> Window {
        Window { since, own, caller }
    }

    /// Whether this thread or the loop's has waited for a core longer than [`MAX_WAIT`] since
    /// the window began. A wait of the loop's counts for one waiting thread only: the first to
    /// claim it in `mark`.
    fn shared_core(&self, own: Option<u64>, caller: Option<u64>, mark: &AtomicU64) -> bool {
        let limit = MAX_WAIT.as_nanos() as u64;
        let grew = |from: Option<u64>, to: Option<u64>| match (from, to) {
            (Some(a), Some(b)) => b.saturating_sub(a) > limit,
            _ => false,
        };
        let own_waited = grew(self.own, own);
        let caller_waited = grew(self.caller, caller) && {
            let (from, to) = (self.caller.unwrap_or(0), caller.unwrap_or(0));
            let seen = mark.load(Ordering::Relaxed);
            seen <= from && mark.compare_exchange(seen, to, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        };
        own_waited || caller_waited
    }
}

/// How long a waiting thread parks: [`FIRST_PAUSE`], doubled each time while the contention
/// lasts, up to [`LONGEST_PAUSE`], and from the first again after [`CLEAN_RESET`] without it.
#[derive(Default)]
struct Pause {
    last: Option<Duration>,
}

impl Pause {
    fn next(&mut self, clean_for: Duration) -> Duration {
        let next = match self.last {
            Some(last) if clean_for < CLEAN_RESET => (last * 2).min(LONGEST_PAUSE),
            _ => FIRST_PAUSE,
        };
        self.last = Some(next);
        next
    }
}

/// Counts the wake-ups of [`wake_waiting_threads`]; parked threads wait on [`UNPARK`].
static PARKING: Mutex<u64> = Mutex::new(0);
static UNPARK: Condvar = Condvar::new();

/// Parks for `pause`, or until the loop ends or [`wake_waiting_threads`] is called.
fn park(shared: &Shared, pause: Duration) {
    let deadline = Instant::now() + pause;
    let mut wakes = PARKING.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = *wakes;
    while !shared.done.load(Ordering::Relaxed) && *wakes == seen {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        wakes = UNPARK.wait_timeout(wakes, left).unwrap_or_else(PoisonError::into_inner).0;
    }
}

thread_local! {
    /// Whether this thread runs a loop (the waiting jobs must not run on it).
    static IN_LOOP: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running a loop until dropped, restoring the old mark: a training loop
/// may run inside another's callback.
struct InLoop(bool);

impl InLoop {
    fn enter() -> InLoop {
        InLoop(IN_LOOP.replace(true))
    }
}

impl Drop for InLoop {
    fn drop(&mut self) {
        IN_LOOP.set(self.0);
    }
}

/// Ends the waiting when dropped, even if the loop returns early or panics: sets the flag,
/// then wakes the parked threads (after the flag, so none parks again unaware of it).
struct StopOnDrop<'a>(&'a Shared);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Relaxed);
        wake_waiting_threads();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pauses_double_while_contention_lasts_and_start_again_after_a_clean_second() {
        let mut pause = Pause::default();
        let got: Vec<u64> = (0..9).map(|_| pause.next(3 * MS).as_millis() as u64).collect();
        assert_eq!(got, [16, 32, 64, 128, 256, 512, 1024, 1024, 1024]);
        assert_eq!(pause.next(CLEAN_RESET), FIRST_PAUSE);
        assert_eq!(pause.next(999 * MS), 2 * FIRST_PAUSE);
    }

    #[test]
    fn a_core_is_shared_when_a_wait_passes_a_quarter_of_the_window() {
        let since = Instant::now();
        let mark = AtomicU64::new(0);
        let w = Window::start(since, Some(5_000_000), Some(7_000_000));
        assert!(!w.shared_core(Some(13_000_000), Some(15_000_000), &mark), "exactly 8 ms");
        assert!(w.shared_core(Some(13_000_001), Some(7_000_000), &mark), "own wait");
        assert_eq!(mark.load(Ordering::Relaxed), 0, "the loop's wait is not claimed");
        // No counters (not Linux): never shared.
        assert!(!Window::start(since, None, None).shared_core(None, None, &mark));
        assert!(!Window::start(since, None, Some(0)).shared_core(Some(99_000_000), Some(0), &mark));
    }

    #[test]
    fn the_loops_wait_parks_one_waiting_thread_per_window() {
        let since = Instant::now();
        let mark = AtomicU64::new(0);
        // Two waiting threads saw the loop's wait grow from 7 to 16 ms in the same window.
        let (a, b) = (Window::start(since, Some(0), Some(7_000_000)), Window::start(since, Some(0), Some(7_000_000)));
        assert!(a.shared_core(Some(0), Some(16_000_000), &mark));
        assert_eq!(mark.load(Ordering::Relaxed), 16_000_000);
        assert!(!b.shared_core(Some(0), Some(16_000_000), &mark), "already answered by the first");
        // The next window: the loop still waits, so one more parks.
        let c = Window::start(since, Some(0), Some(16_000_000));
        assert!(c.shared_core(Some(0), Some(25_000_000), &mark));
    }

    #[test]
    fn a_parked_thread_returns_when_woken_or_when_the_loop_ends() {
        let shared = Shared::default();
        std::thread::scope(|s| {
            let t = s.spawn(|| park(&shared, Duration::from_secs(3600)));
            while !t.is_finished() {
                wake_waiting_threads();
                std::thread::yield_now();
            }
            let t = s.spawn(|| park(&shared, Duration::from_secs(3600)));
            drop(StopOnDrop(&shared));
            t.join().unwrap();
        });
        // Once the loop has ended, parking returns at once.
        park(&shared, Duration::from_secs(3600));
    }

    #[test]
    fn the_loop_runs_on_the_pool_and_its_helpers_stop_with_it() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let sums = pool.install(|| {
                run_with_helpers(|| {
                    assert!(rayon::current_thread_index().is_some());
                    assert!(IN_LOOP.get());
                    // A loop inside the loop (fit in a callback): waits and ends the same way.
                    let inner = run_with_helpers(|| rayon::join(|| 1, || 2));
                    assert!(IN_LOOP.get(), "restored after the inner loop");
                    (0..64).map(|i| rayon::join(|| i, || 2 * i)).fold(inner.0 + inner.1, |s, (a, b)| s + a + b)
                })
            });
            assert_eq!(sums, 3 + 3 * (63 * 64 / 2), "{threads} threads");
            let panicked = pool.install(|| std::panic::catch_unwind(|| run_with_helpers(|| panic!("in the loop"))));
            assert!(panicked.is_err(), "{threads} threads");
        }
    }
}

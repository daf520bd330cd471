//! Running one job on every target of a fleet, a bounded number at a time.
//!
//! Each target runs in a session of its own (its connection, its lock, its ledger), so one
//! target's failure is that target's result and the others go on, unless the run is told to
//! stop at the first failure. A stop (SIGINT, SIGTERM) starts no new target; those already
//! running see the signal in their own sessions, end their current migration as the session's
//! protocol says, and report it. A second run applies only what is still pending: the ledger
//! of each target says what is done.
//!
//! Jobs run as futures of one task, `parallel` at once, so a fleet of thousands holds no more
//! than `parallel` connections and sessions at any time, and its memory is that of `parallel`
//! targets plus one small result for each.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use sea_orm::DbBackend;

/// How a fleet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetOptions {
    /// At most this many targets at once (and so this many connections, plus each session's
    /// lock connection).
    pub parallel: usize,
    /// Start no new target after the first failure.
    pub fail_fast: bool,
}

/// The default number of targets run at once on `backend`: enough to hide each target's
/// round trips, few enough that a server's default connection limit (100 on PostgreSQL, 151
/// on MariaDB) is far away with two connections a target. SQLite files are written by the
/// machine itself, so its cores bound it.
pub fn default_parallel(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
            .clamp(2, 8),
        _ => 8,
    }
}

/// What happened to one target.
#[derive(Debug)]
pub enum TargetRun<T, E> {
    /// The job ran to its end, with this result.
    Ran {
        /// What the job returned.
        result: Result<T, E>,
        /// How long it took.
        duration: Duration,
    },
    /// The fleet stopped (a signal, or `fail_fast` after another target failed) before this
    /// target started.
    NotStarted,
}

impl<T, E> TargetRun<T, E> {
    /// Whether the job ran and failed.
    pub fn failed(&self) -> bool {
        matches!(self, TargetRun::Ran { result: Err(_), .. })
    }
}

/// A change in a fleet's progress, for a progress bar or a log line.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The target at this index started.
    Started(usize),
    /// The target at this index finished; `ok` unless its job failed.
    Finished {
        /// Its index in the list.
        index: usize,
        /// Whether its job succeeded.
        ok: bool,
        /// How long it took.
        duration: Duration,
    },
}

/// The result of a whole fleet, one entry a target in the list's order.
#[derive(Debug)]
pub struct FleetRun<T, E> {
    /// Each target's run, in the order of the list.
    pub targets: Vec<TargetRun<T, E>>,
    /// The signal that stopped the fleet, if one did.
    pub interrupted: Option<&'static str>,
    /// How long the whole fleet took.
    pub duration: Duration,
}

impl<T, E> FleetRun<T, E> {
    /// How many targets ran and failed.
    pub fn failed(&self) -> usize {
        self.targets.iter().filter(|t| t.failed()).count()
    }

    /// How many targets never started.
    pub fn not_started(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| matches!(t, TargetRun::NotStarted))
            .count()
    }
}

/// Runs `job(i)` for every index `i < count`, at most `options.parallel` at once, in the list's
/// order of starting. `stop` resolves with a signal's name to end the fleet: no target starts
/// after it (those running finish on their own, each in its session). `progress` hears every
/// start and end.
pub async fn run<T, E, F, Fut, S>(
    count: usize,
    options: FleetOptions,
    stop: S,
    mut progress: impl FnMut(Progress),
    job: F,
) -> FleetRun<T, E>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    S: Future<Output = &'static str>,
{
    let started = Instant::now();
    let parallel = options.parallel.max(1);
    let mut results: Vec<TargetRun<T, E>> = (0..count).map(|_| TargetRun::NotStarted).collect();
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    let mut interrupted = None;
    let mut halted = false;
    let mut stop = pin!(stop);
    loop {
        while !halted && interrupted.is_none() && running.len() < parallel && next < count {
            let index = next;
            next += 1;
            progress(Progress::Started(index));
            let job = job(index);
            running.push(async move {
                let began = Instant::now();
                let result = job.await;
                (index, result, began.elapsed())
            });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((index, result, duration)) = running.next() => {
                let ok = result.is_ok();
                progress(Progress::Finished { index, ok, duration });
                halted |= !ok && options.fail_fast;
                results[index] = TargetRun::Ran { result, duration };
            }
            signal = &mut stop, if interrupted.is_none() => interrupted = Some(signal),
        }
    }
    FleetRun {
        targets: results,
        interrupted,
        duration: started.elapsed(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn options(parallel: usize, fail_fast: bool) -> FleetOptions {
        FleetOptions {
            parallel,
            fail_fast,
        }
    }

    #[tokio::test]
    async fn never_more_than_parallel_targets_run_at_once() {
        let (now, peak) = (Cell::new(0), Cell::new(0));
        let run = run(
            20,
            options(3, false),
            std::future::pending(),
            |_| {},
            |i| {
                let (now, peak) = (&now, &peak);
                async move {
                    now.set(now.get() + 1);
                    peak.set(peak.get().max(now.get()));
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    now.set(now.get() - 1);
                    if i == 7 { Err("seven") } else { Ok(i) }
                }
            },
        )
        .await;
        assert_eq!(peak.get(), 3);
        assert_eq!(run.failed(), 1);
        assert_eq!(run.not_started(), 0);
        assert!(matches!(
            run.targets[8],
            TargetRun::Ran { result: Ok(8), .. }
        ));
    }

    #[tokio::test]
    async fn fail_fast_starts_nothing_after_a_failure() {
        let run = run(
            10,
            options(1, true),
            std::future::pending(),
            |_| {},
            |i| async move { if i == 2 { Err(()) } else { Ok(()) } },
        )
        .await;
        assert_eq!(run.failed(), 1);
        assert_eq!(run.not_started(), 7);
    }

    #[tokio::test]
    async fn a_stop_lets_running_targets_finish_and_starts_no_more() {
        let run = run(
            10,
            options(2, false),
            async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                "SIGINT"
            },
            |_| {},
            |_| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, ()>(())
            },
        )
        .await;
        assert_eq!(run.interrupted, Some("SIGINT"));
        let ran = run.targets.len() - run.not_started();
        assert_eq!(
            ran, 4,
            "two rounds of two, the second running when the stop came"
        );
    }
}

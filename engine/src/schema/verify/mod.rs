//! `migrate verify`: proof, on a scratch database, that every `down` undoes exactly its `up`.
//!
//! For each migration in order: snapshot the schema, apply the migration, snapshot, revert it,
//! snapshot and compare with the schema before it was applied, then apply it again and compare
//! with the first application. It also checks that the `down` SQL stored in the ledger when the
//! migration was applied (what `down` would run once the migration's code is gone) is what the
//! code renders now. Applying and reverting go through the same executor (`up` and `down`) with
//! a count of one, exactly as `migrate up -n 1` and `migrate down` would.
//!
//! The scratch database is made for the run and dropped after it on every path, errors and
//! interruptions included: a new database on the target's server (PostgreSQL, MySQL/MariaDB),
//! reached with the target's credentials, or a file in a new temporary directory (SQLite). The
//! target database itself is never changed, and on SQLite never opened.
//!
//! After a migration shows a difference the scratch database is rebuilt (dropped, created, and
//! migrated through that migration), so every later migration is checked from the schema it
//! would really start from, and one broken `down` does not hide or cause others.
//!
//! Migrations are checked one by one. Then each consolidated migration ([`crate::model::consolidated`]) is
//! checked on a database rebuilt for it: both paths, the consolidated migration on a database
//! where none of the migrations it replaces is applied and those migrations one by one, must end
//! in the same schema, and its `down` must restore the schema from before it.

mod consolidated;
mod report;
mod round_trip;
mod rows;
mod scratch;

use std::future::Future;
use std::time::Duration;
use tracing::info;

pub use report::{Difference, RowChange, VerifyReport};
use scratch::{Scratches, Stop};

use crate::backend;
use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::model::set::{MigrationId, MigrationSet};

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Check from this version on; earlier migrations are applied without checks (`--from`).
    pub from: Option<String>,
    /// How long to wait for the server and the scratch database.
    pub connect_timeout: Duration,
}

/// Verifies every migration of `set` (from `options.from` on) on a scratch database next to
/// `target`.
///
/// # Errors
/// [`EngineError::UnknownVersion`] for a `--from` not in the code; [`EngineError::Scratch`] when
/// the scratch database cannot be created or dropped; [`EngineError::MigrationFailed`] when a
/// migration's first `up` fails (a broken `down` is a [`Difference`], not an error).
pub async fn verify(
    target: &Target,
    set: &MigrationSet,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    verify_until(target, set, options, std::future::pending()).await
}

/// [`verify`], stopped early when `stop` resolves (to the name of the signal that stopped it),
/// still dropping the scratch database. The CLI passes SIGINT/SIGTERM here; a library caller
/// keeps its own signal handling.
///
/// # Errors
/// As [`verify`], and [`EngineError::Interrupted`] when stopped.
pub async fn verify_until(
    target: &Target,
    set: &MigrationSet,
    options: &VerifyOptions,
    stop: impl Future<Output = &'static str>,
) -> Result<VerifyReport> {
    let mut reports = verify_sets_until(&[SetToVerify { target, set }], options, stop).await?;
    // One set checked gives one report.
    reports.pop().ok_or_else(|| EngineError::Config {
        message: "verify checked no set".to_owned(),
    })
}

/// One set to verify across sets: its migrations and where it runs.
#[derive(Debug, Clone, Copy)]
pub struct SetToVerify<'a> {
    /// Where the set runs; its scratch database is made beside it.
    pub target: &'a Target,
    /// Its migrations.
    pub set: &'a MigrationSet,
}

/// [`verify_until`] for several sets in run order: one scratch database per database they run
/// on, each set checked there after the sets before it on the same database are applied, as
/// they are when the sets are migrated. One report per set, in order; every scratch database is
/// dropped, whatever happens.
///
/// # Errors
/// As [`verify_until`]; `options.from` counts in the first set.
pub async fn verify_sets_until(
    sets: &[SetToVerify<'_>],
    options: &VerifyOptions,
    stop: impl Future<Output = &'static str>,
) -> Result<Vec<VerifyReport>> {
    let start = match (&options.from, sets.first()) {
        (Some(typed), Some(first)) => {
            let unknown = || EngineError::UnknownVersion {
                version: typed.clone(),
            };
            let version = MigrationId::normalise_version(typed).ok_or_else(unknown)?;
            first
                .set
                .iter()
                .position(|m| m.id.version == version)
                .ok_or_else(unknown)?
        }
        _ => 0,
    };
    // Polled once before anything is created, so a signal-handling `stop` is listening from
    // here on: a signal while the scratch databases are being created stops the run after it,
    // and they are still dropped.
    tokio::pin!(stop);
    if let Some(signal) = tokio::select! {
        biased;
        signal = &mut stop => Some(signal),
        () = std::future::ready(()) => None,
    } {
        return Err(EngineError::Interrupted {
            signal,
            cleanup: "nothing had been created yet".to_owned(),
        });
    }
    let scratches = Scratches::create(sets, options.connect_timeout).await?;
    let mut reports: Vec<VerifyReport> = Vec::with_capacity(sets.len());
    let outcome = tokio::select! {
        result = check_sets(sets, &scratches, options, start, &mut reports) => result.map_err(Stop::Failed),
        signal = &mut stop => Err(Stop::Signal(signal)),
    };
    scratches.finish(sets, outcome, reports).await
}

/// Checks each of `sets` on the scratch database beside its own, the first from migration
/// `start` on, after the sets before it there are applied; each set's report goes to `reports`,
/// the one being checked when a check fails too.
async fn check_sets<'a>(
    sets: &[SetToVerify<'a>],
    scratches: &Scratches<'a>,
    options: &VerifyOptions,
    start: usize,
    reports: &mut Vec<VerifyReport>,
) -> Result<()> {
    for (n, chosen) in sets.iter().enumerate() {
        let Some(scratch) = scratches.of(chosen.target) else {
            continue;
        };
        let prelude = scratches.sets_on(scratch, &sets[..n], chosen.target);
        let first = if n == 0 { start } else { 0 };
        let mut report = VerifyReport {
            backend: backend::name(chosen.target.backend()),
            scratch: scratch.target.redacted(),
            from: options
                .from
                .as_ref()
                .filter(|_| n == 0)
                .and_then(|_| chosen.set.iter().nth(first))
                .map(|m| m.id.version.clone()),
            verified: Vec::new(),
            squashes: Vec::new(),
            differences: Vec::new(),
            data: Vec::new(),
        };
        info!("verifying on the scratch database {}", report.scratch);
        let outcome = round_trip::check_all(
            scratch,
            chosen.set,
            &scratches.ledger(scratch, chosen.target),
            &prelude,
            first,
            &mut report,
        )
        .await;
        reports.push(report);
        outcome?;
    }
    Ok(())
}

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

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;
use tracing::{info, warn};

use crate::backend;
use crate::backend::scratch::Scratch;
use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::exec::{Engine, RunOptions};
use crate::model::consolidated::SquashGroup;
use crate::model::set::{Migration, MigrationId, MigrationSet};
use crate::plan::{DownTarget, UpTarget};
use crate::schema::diff::{self, Change};
use crate::schema::snapshot;
use crate::store::ledger::Ledger;
use crate::store::render::{self, Direction};

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Check from this version on; earlier migrations are applied without checks (`--from`).
    pub from: Option<String>,
    /// How long to wait for the server and the scratch database.
    pub connect_timeout: Duration,
}

/// One way in which a migration's `down` does not undo its `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// After `up` then `down`, the schema differs from the one before `up`.
    Down {
        /// The migration's module name.
        migration: String,
        /// From the schema before `up` to the schema after `down`.
        change: Change,
    },
    /// `up` run again after `down` gives a schema other than its first run did.
    Reapply {
        /// The migration's module name.
        migration: String,
        /// From the schema after the first `up` to the schema after the second.
        change: Change,
    },
    /// `down` failed.
    DownFailed {
        /// The migration's module name.
        migration: String,
        /// The database's error.
        error: String,
    },
    /// The migration has no `down`.
    Irreversible {
        /// The migration's module name.
        migration: String,
        /// What its `down` returned.
        reason: String,
    },
    /// `up` failed when run again after `down`.
    ReapplyFailed {
        /// The migration's module name.
        migration: String,
        /// The database's error.
        error: String,
    },
    /// A consolidated migration ends in another schema than the migrations it replaces.
    Squash {
        /// The consolidated migration's module name.
        migration: String,
        /// From the schema the replaced migrations give to the one it gives.
        change: Change,
    },
    /// After a consolidated migration's `up` then `down`, the schema differs from before.
    SquashDown {
        /// The consolidated migration's module name.
        migration: String,
        /// From the schema before its `up` to the schema after its `down`.
        change: Change,
    },
    /// A consolidated migration's `up` or `down` failed, or it was not used where it should be.
    SquashFailed {
        /// The consolidated migration's module name.
        migration: String,
        /// What failed.
        error: String,
    },
    /// After `up` then `down`, a table holds another number of rows than before `up`: the
    /// `down` of a data migration does not take back the rows its `up` wrote (or takes more).
    Rows {
        /// The migration's module name.
        migration: String,
        /// The table.
        table: String,
        /// Its rows before `up`.
        before: i64,
        /// Its rows after `down`.
        after_down: i64,
    },
    /// The `down` SQL stored at apply time is not what the code renders now: a `down` that
    /// renders differently each time cannot be trusted to revert the migration once its code is
    /// gone.
    StoredDown {
        /// The migration's module name.
        migration: String,
        /// The statements stored in the ledger.
        stored: Vec<String>,
        /// The statements the code renders.
        rendered: Vec<String>,
    },
}

impl Difference {
    /// The module name of the migration it is about.
    pub fn migration(&self) -> &str {
        match self {
            Difference::Down { migration, .. }
            | Difference::Reapply { migration, .. }
            | Difference::DownFailed { migration, .. }
            | Difference::Irreversible { migration, .. }
            | Difference::ReapplyFailed { migration, .. }
            | Difference::Squash { migration, .. }
            | Difference::SquashDown { migration, .. }
            | Difference::SquashFailed { migration, .. }
            | Difference::Rows { migration, .. }
            | Difference::StoredDown { migration, .. } => migration,
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A consolidated migration's down is judged like any other down.
            Difference::Down { migration, change }
            | Difference::SquashDown { migration, change } => match change {
                Change::Added { object } => write!(f, "down of {migration} leaves {object}"),
                Change::Removed { object } => write!(
                    f,
                    "down of {migration} drops {object} that existed before up"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "down of {migration} changes {object}: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::Reapply { migration, change } => match change {
                Change::Added { object } => write!(
                    f,
                    "up of {migration} run again after its down creates {object}, which its first run did not"
                ),
                Change::Removed { object } => write!(
                    f,
                    "up of {migration} run again after its down does not create {object}, which its first run did"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "up of {migration} run again after its down leaves {object} unlike its first run: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::Squash { migration, change } => match change {
                Change::Added { object } => write!(
                    f,
                    "{migration} creates {object}, which the migrations it replaces do not"
                ),
                Change::Removed { object } => write!(
                    f,
                    "{migration} does not create {object}, which the migrations it replaces do"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "{migration} leaves {object} unlike the migrations it replaces: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::SquashFailed { migration, error } => {
                write!(f, "{migration}: {}", one_line(error))
            }
            Difference::DownFailed { migration, error } => {
                write!(f, "down of {migration} fails: {}", one_line(error))
            }
            Difference::Irreversible { migration, reason } => write!(
                f,
                "{migration} has no down ({}): it cannot be reverted or verified",
                one_line(reason)
            ),
            Difference::ReapplyFailed { migration, error } => write!(
                f,
                "up of {migration} fails when run again after its down: {}",
                one_line(error)
            ),
            Difference::Rows {
                migration,
                table,
                before,
                after_down,
            } => write!(
                f,
                "down of {migration} leaves {after_down} row(s) in table {table}, which held {before} before up"
            ),
            Difference::StoredDown {
                migration,
                stored,
                rendered,
            } => {
                write!(
                    f,
                    "the down SQL stored when {migration} was applied is not what its code renders now"
                )?;
                let first = (0..stored.len().max(rendered.len()))
                    .find(|&i| stored.get(i) != rendered.get(i));
                if let Some(i) = first {
                    let show = |s: Option<&String>| {
                        s.map_or_else(|| "nothing".to_owned(), |s| format!("`{}`", one_line(s)))
                    };
                    write!(
                        f,
                        ": statement {} was stored as {} and renders as {}",
                        i + 1,
                        show(stored.get(i)),
                        show(rendered.get(i))
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: &'static str,
    /// The scratch database it worked in (dropped since), password redacted.
    pub scratch: String,
    /// The version checking started at, when `--from` was given.
    pub from: Option<String>,
    /// Module names of the migrations checked, in order.
    pub verified: Vec<String>,
    /// Module names of the consolidated migrations checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub squashes: Vec<String>,
    /// Every difference found, in the order found; empty when every migration is reversible.
    #[serde(serialize_with = "with_messages")]
    pub differences: Vec<Difference>,
    /// The migrations whose `up` changed the number of rows of a table, and what their `down`
    /// made of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<RowChange>,
}

/// A table whose number of rows a migration's `up` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowChange {
    /// The migration's module name.
    pub migration: String,
    /// The table.
    pub table: String,
    /// Its rows before `up`; `None` when `up` created it.
    pub before: Option<i64>,
    /// Its rows after `up`; `None` when `up` dropped it.
    pub after_up: Option<i64>,
    /// Its rows after `down`; `None` when `down` dropped it (or `down` did not run).
    pub after_down: Option<i64>,
}

impl RowChange {
    /// Whether `down` put the count back as it was before `up`.
    pub fn restored(&self) -> bool {
        self.before == self.after_down
    }
}

impl fmt::Display for RowChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count =
            |n: Option<i64>| n.map_or_else(|| "no table".to_owned(), |n| format!("{n} row(s)"));
        write!(
            f,
            "{} changed rows on the way up: table {} went from {} to {}; ",
            self.migration,
            self.table,
            count(self.before),
            count(self.after_up)
        )?;
        if self.restored() {
            write!(f, "its down put the row count back")
        } else {
            write!(f, "its down left {}", count(self.after_down))
        }
    }
}

impl VerifyReport {
    /// Whether every checked migration's `down` undoes its `up`.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Each difference with its sentence, so JSON readers need not rebuild it.
fn with_messages<S: Serializer>(
    differences: &[Difference],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Reported<'a> {
        message: String,
        #[serde(flatten)]
        difference: &'a Difference,
    }
    serializer.collect_seq(differences.iter().map(|difference| Reported {
        message: difference.to_string(),
        difference,
    }))
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.differences {
            writeln!(f, "{d}")?;
        }
        for change in &self.data {
            writeln!(f, "{change}")?;
        }
        let checked = self.verified.len();
        if self.is_clean() {
            writeln!(
                f,
                "Verified {checked} migration(s): each down restores the schema its up started from, and each up runs again to the same schema."
            )?;
            if !self.squashes.is_empty() {
                writeln!(
                    f,
                    "Verified {} consolidated migration(s): each ends in the schema of the migrations it replaces, and its down restores the schema before it.",
                    self.squashes.len()
                )?;
            }
            return Ok(());
        }
        let mut migrations: Vec<&str> = self.differences.iter().map(|d| d.migration()).collect();
        migrations.dedup();
        writeln!(
            f,
            "{} difference(s) in {} of {checked} migration(s) checked: make each down undo exactly what its up does.",
            self.differences.len(),
            migrations.len()
        )
    }
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
    let start = match &options.from {
        Some(typed) => {
            let unknown = || EngineError::UnknownVersion {
                version: typed.clone(),
            };
            let version = MigrationId::normalise_version(typed).ok_or_else(unknown)?;
            set.iter()
                .position(|m| m.id.version == version)
                .ok_or_else(unknown)?
        }
        None => 0,
    };
    // Polled once before anything is created, so a signal-handling `stop` is listening from
    // here on: a signal while the scratch database is being created stops the run after it, and
    // the database is still dropped.
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
    let scratch = Scratch::create(target, options.connect_timeout).await?;
    let mut report = VerifyReport {
        backend: backend::name(target.backend()),
        scratch: scratch.target.redacted(),
        from: options
            .from
            .as_ref()
            .and_then(|_| set.iter().nth(start))
            .map(|m| m.id.version.clone()),
        verified: Vec::new(),
        squashes: Vec::new(),
        differences: Vec::new(),
        data: Vec::new(),
    };
    info!("verifying on the scratch database {}", report.scratch);
    let ledger = scratch_ledger(&scratch);
    let outcome = tokio::select! {
        result = check_all(&scratch, set, &ledger, &[], start, &mut report) => result.map_err(Stop::Failed),
        signal = &mut stop => Err(Stop::Signal(signal)),
    };
    if !matches!(outcome, Err(Stop::Signal(_))) {
        tear_down(&scratch, &[(set, ledger)]).await;
    }
    let dropped = scratch.destroy().await;
    match (outcome, dropped) {
        (Ok(()), Ok(())) => Ok(report),
        (Ok(()), Err(e)) => Err(e),
        (Err(Stop::Signal(signal)), dropped) => Err(EngineError::Interrupted {
            signal,
            cleanup: match dropped {
                Ok(()) => format!("the scratch database {} was dropped", report.scratch),
                Err(e) => e.to_string(),
            },
        }),
        (Err(Stop::Failed(e)), dropped) => {
            // The run's own error is what the user must act on first; the rest goes to the log.
            for d in &report.differences {
                warn!("{d}");
            }
            if let Err(drop_error) = dropped {
                warn!("{drop_error}");
            }
            Err(e)
        }
    }
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
    tokio::pin!(stop);
    let mut scratches: Vec<(&Target, Scratch)> = Vec::new();
    let mut reports: Vec<VerifyReport> = Vec::with_capacity(sets.len());
    let work = async {
        for (n, chosen) in sets.iter().enumerate() {
            let shared = |t: &Target| {
                t.url() == chosen.target.url() && t.database_schema == chosen.target.database_schema
            };
            if !scratches.iter().any(|(t, _)| shared(t)) {
                let scratch = Scratch::create(chosen.target, options.connect_timeout).await?;
                scratches.push((chosen.target, scratch));
            }
            let Some((_, scratch)) = scratches.iter().find(|(t, _)| shared(t)) else {
                continue;
            };
            let siblings: Vec<String> = sets
                .iter()
                .map(|s| s.target.migration_table.clone())
                .collect();
            let on_scratch = |t: &Target| scratch_ledger_for(scratch, t, &siblings);
            let prelude: Vec<(&MigrationSet, Ledger)> = sets[..n]
                .iter()
                .filter(|p| shared(p.target))
                .map(|p| (p.set, on_scratch(p.target)))
                .collect();
            let first = if n == 0 { start } else { 0 };
            let mut report = VerifyReport {
                backend: backend::name(chosen.target.backend()),
                scratch: scratch.target.redacted(),
                from: (first > 0)
                    .then(|| chosen.set.iter().nth(first).map(|m| m.id.version.clone()))
                    .flatten(),
                verified: Vec::new(),
                squashes: Vec::new(),
                differences: Vec::new(),
                data: Vec::new(),
            };
            info!("verifying on the scratch database {}", report.scratch);
            let outcome = check_all(
                scratch,
                chosen.set,
                &on_scratch(chosen.target),
                &prelude,
                first,
                &mut report,
            )
            .await;
            reports.push(report);
            outcome?;
        }
        Ok::<(), EngineError>(())
    };
    let outcome = tokio::select! {
        result = work => result.map_err(Stop::Failed),
        signal = &mut stop => Err(Stop::Signal(signal)),
    };
    if !matches!(outcome, Err(Stop::Signal(_))) {
        let siblings: Vec<String> = sets
            .iter()
            .map(|s| s.target.migration_table.clone())
            .collect();
        for (target, scratch) in &scratches {
            let applied: Vec<(&MigrationSet, Ledger)> = sets
                .iter()
                .filter(|s| {
                    s.target.url() == target.url()
                        && s.target.database_schema == target.database_schema
                })
                .map(|s| (s.set, scratch_ledger_for(scratch, s.target, &siblings)))
                .collect();
            tear_down(scratch, &applied).await;
        }
    }
    let mut dropped = Ok(());
    let names: Vec<String> = scratches.iter().map(|(_, s)| s.target.redacted()).collect();
    for (_, scratch) in scratches {
        if let Err(e) = scratch.destroy().await {
            dropped = Err(e);
        }
    }
    match (outcome, dropped) {
        (Ok(()), Ok(())) => Ok(reports),
        (Ok(()), Err(e)) => Err(e),
        (Err(Stop::Signal(signal)), dropped) => Err(EngineError::Interrupted {
            signal,
            cleanup: match dropped {
                Ok(()) => format!("the scratch databases {} were dropped", names.join(", ")),
                Err(e) => e.to_string(),
            },
        }),
        (Err(Stop::Failed(e)), dropped) => {
            for d in reports.iter().flat_map(|r| &r.differences) {
                warn!("{d}");
            }
            if let Err(drop_error) = dropped {
                warn!("{drop_error}");
            }
            Err(e)
        }
    }
}

/// Why a run ended before checking every migration.
enum Stop {
    /// An error other than a difference.
    Failed(EngineError),
    /// A signal, by name.
    Signal(&'static str),
}

/// What to do after checking one migration.
enum Next {
    /// The scratch schema is as the migration's `up` leaves it.
    Continue,
    /// The scratch schema is not to be trusted: build it again.
    Rebuild,
}

/// The number of rows of every table of `schema`.
async fn row_counts(
    conn: &DatabaseConnection,
    schema: &snapshot::SchemaSnapshot,
) -> Result<BTreeMap<String, i64>> {
    use sea_orm::sea_query::{Alias, Asterisk, Expr, Func, Query};
    let mut counts = BTreeMap::new();
    for table in schema.tables.keys() {
        let mut count = Query::select()
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .to_owned();
        match schema.split_name(table) {
            (Some(in_schema), name) => count.from((Alias::new(in_schema), Alias::new(name))),
            (None, name) => count.from(Alias::new(name)),
        };
        let n = conn
            .query_one(&count)
            .await
            .and_then(|row| match row {
                Some(row) => row.try_get::<i64>("", "n"),
                None => Ok(0),
            })
            .map_err(EngineError::db("counting the rows of the scratch database"))?;
        counts.insert(table.clone(), n);
    }
    Ok(counts)
}

/// Records the tables whose rows a migration's `up` changed, and a difference for every table
/// whose rows its `down` did not put back: `[before up, after up, after down]`.
fn compare_rows(report: &mut VerifyReport, label: &str, rows: [&BTreeMap<String, i64>; 3]) {
    let [before, up, down] = rows;
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(up.keys()).collect();
    for table in tables {
        // A table created or dropped empty holds no data that changed.
        let rows = |counts: &BTreeMap<String, i64>| counts.get(table).copied().unwrap_or(0);
        if rows(before) == rows(up) {
            continue;
        }
        report.data.push(RowChange {
            migration: label.to_owned(),
            table: table.clone(),
            before: before.get(table).copied(),
            after_up: up.get(table).copied(),
            after_down: down.get(table).copied(),
        });
    }
    for (table, &n) in before {
        if let Some(&after_down) = down.get(table)
            && after_down != n
        {
            report.differences.push(Difference::Rows {
                migration: label.to_owned(),
                table: table.clone(),
                before: n,
                after_down,
            });
        }
    }
}

fn one_step() -> UpTarget {
    UpTarget {
        steps: Some(1),
        ..UpTarget::default()
    }
}

/// The sets applied before the one checked, on the same scratch database, each with its ledger.
type Prelude<'p> = [(&'p MigrationSet, Ledger)];

/// Applies every set of `prelude` whole, in order.
async fn apply_prelude(conn: &DatabaseConnection, prelude: &Prelude<'_>) -> Result<()> {
    for (set, ledger) in prelude {
        apply_first(conn, set, ledger, set.len()).await?;
    }
    Ok(())
}

async fn check_all(
    scratch: &Scratch,
    set: &MigrationSet,
    ledger: &Ledger,
    prelude: &Prelude<'_>,
    start: usize,
    report: &mut VerifyReport,
) -> Result<()> {
    if !prelude.is_empty() {
        scratch.reset().await?;
    }
    let mut conn = scratch.connect().await?;
    apply_prelude(&conn, prelude).await?;
    if start > 0 {
        apply_first(&conn, set, ledger, start).await?;
    }
    for (index, migration) in set.iter().enumerate().skip(start) {
        let label = migration.id.module_name();
        let found = report.differences.len();
        let next = check_one(&conn, set, ledger, migration, report).await?;
        report.verified.push(label.clone());
        match report.differences.len() - found {
            0 => info!("{label}: its down undoes its up"),
            n => info!("{label}: {n} difference(s)"),
        }
        if let Next::Rebuild = next {
            let _ = conn.close_by_ref().await;
            scratch.reset().await?;
            conn = scratch.connect().await?;
            apply_prelude(&conn, prelude).await?;
            apply_first(&conn, set, ledger, index + 1).await?;
        }
    }
    let _ = conn.close_by_ref().await;
    for group in set.squashes().iter().filter(|g| g.last >= start) {
        scratch.reset().await?;
        check_squash(scratch, set, ledger, prelude, group, report).await?;
        report.squashes.push(group.name());
    }
    Ok(())
}

/// Checks one consolidated migration on a rebuilt scratch database: its `up` where none of the
/// migrations it replaces is applied, its `down`, and the migrations it replaces one by one.
async fn check_squash(
    scratch: &Scratch,
    set: &MigrationSet,
    ledger: &Ledger,
    prelude: &Prelude<'_>,
    group: &SquashGroup,
    report: &mut VerifyReport,
) -> Result<()> {
    let name = group.name();
    let count = group.last - group.first + 1;
    let steps = |n: usize| UpTarget {
        steps: Some(u32::try_from(n).unwrap_or(u32::MAX)),
        ..UpTarget::default()
    };
    let failed = |error: String| Difference::SquashFailed {
        migration: name.clone(),
        error,
    };
    let options = RunOptions::default();
    let conn = scratch.connect().await?;
    let read = || snapshot::read_beside_ledger(&conn, ledger.schema(), ledger.table_name());
    apply_prelude(&conn, prelude).await?;
    apply_first(&conn, set, ledger, group.first).await?;
    let before = read().await?;
    let engine = Engine::new(conn.clone(), set, ledger.clone());
    let consolidated = match engine.up(&steps(count), &options).await {
        Ok(run) if run.steps.first().is_some_and(|s| s.source == "squash") => {
            let after = read().await?;
            match engine.down(&DownTarget::Steps(1), &options).await {
                Ok(_) => {
                    let changes = diff::diff(&before, &read().await?);
                    report.differences.extend(changes.into_iter().map(|change| {
                        Difference::SquashDown {
                            migration: name.clone(),
                            change,
                        }
                    }));
                }
                Err(EngineError::MigrationFailed { source, .. }) => {
                    report
                        .differences
                        .push(failed(format!("its down fails: {source}")));
                }
                Err(e) => return Err(e),
            }
            Some(after)
        }
        Ok(_) => {
            report.differences.push(failed(
                "it was not used on a database where none of the migrations it replaces is applied"
                    .to_owned(),
            ));
            None
        }
        Err(EngineError::MigrationFailed { source, .. }) => {
            report
                .differences
                .push(failed(format!("its up fails: {source}")));
            None
        }
        Err(e) => return Err(e),
    };
    let _ = conn.close_by_ref().await;
    let Some(consolidated) = consolidated else {
        return Ok(());
    };

    scratch.reset().await?;
    let conn = scratch.connect().await?;
    apply_prelude(&conn, prelude).await?;
    apply_first(&conn, set, ledger, group.last + 1).await?;
    let individual =
        snapshot::read_beside_ledger(&conn, ledger.schema(), ledger.table_name()).await?;
    let _ = conn.close_by_ref().await;
    report.differences.extend(
        diff::diff(&individual, &consolidated)
            .into_iter()
            .map(|change| Difference::Squash {
                migration: name.clone(),
                change,
            }),
    );
    Ok(())
}

/// Applies the first `count` migrations one by one (never through a consolidated migration),
/// without checking them.
async fn apply_first(
    conn: &DatabaseConnection,
    set: &MigrationSet,
    ledger: &Ledger,
    count: usize,
) -> Result<()> {
    let target = UpTarget {
        steps: Some(u32::try_from(count).unwrap_or(u32::MAX)),
        ..UpTarget::default()
    };
    Engine::new(conn.clone(), set, ledger.clone())
        .without_squashes()
        .up(&target, &RunOptions::default())
        .await
        .map(drop)
}

async fn check_one(
    conn: &DatabaseConnection,
    set: &MigrationSet,
    ledger: &Ledger,
    migration: &Migration,
    report: &mut VerifyReport,
) -> Result<Next> {
    let label = migration.id.module_name();
    let engine = Engine::new(conn.clone(), set, ledger.clone()).without_squashes();
    let options = RunOptions::default();
    let read = || snapshot::read_beside_ledger(conn, ledger.schema(), ledger.table_name());

    let before = read().await?;
    let rows_before = row_counts(conn, &before).await?;
    engine.up(&one_step(), &options).await?;
    let after_up = read().await?;
    let rows_up = row_counts(conn, &after_up).await?;

    let rendering = render::render(migration, ledger.backend(), Direction::Down).await;
    if let Some(reason) = rendering.irreversible() {
        report.differences.push(Difference::Irreversible {
            migration: label,
            reason: reason.to_owned(),
        });
        // Nothing was reverted: the schema is as this `up` left it, ready for the next.
        return Ok(Next::Continue);
    }
    // A `down` that reads data is stored only when it renders completely.
    let rendered = rendering.is_complete().then_some(rendering.statements);
    let stored = ledger
        .read(conn)
        .await
        .map_err(EngineError::db("reading the scratch ledger"))?
        .unwrap_or_default()
        .into_iter()
        .find(|row| row.version == migration.id.version)
        .and_then(|row| row.down_statements());
    if stored != rendered {
        report.differences.push(Difference::StoredDown {
            migration: label.clone(),
            stored: stored.unwrap_or_default(),
            rendered: rendered.unwrap_or_default(),
        });
    }

    match engine.down(&DownTarget::Steps(1), &options).await {
        Ok(_) => {}
        Err(EngineError::MigrationFailed { source, .. }) => {
            report.differences.push(Difference::DownFailed {
                migration: label,
                error: source.to_string(),
            });
            return Ok(Next::Rebuild);
        }
        Err(e) => return Err(e),
    }
    let after_down = read().await?;
    let rows_down = row_counts(conn, &after_down).await?;
    compare_rows(report, &label, [&rows_before, &rows_up, &rows_down]);
    let changes = diff::diff(&before, &after_down);
    if !changes.is_empty() {
        report
            .differences
            .extend(changes.into_iter().map(|change| Difference::Down {
                migration: label.clone(),
                change,
            }));
        return Ok(Next::Rebuild);
    }

    match engine.up(&one_step(), &options).await {
        Ok(_) => {}
        Err(EngineError::MigrationFailed { source, .. }) => {
            report.differences.push(Difference::ReapplyFailed {
                migration: label,
                error: source.to_string(),
            });
            return Ok(Next::Rebuild);
        }
        Err(e) => return Err(e),
    }
    let again = read().await?;
    let changes = diff::diff(&after_up, &again);
    if changes.is_empty() {
        return Ok(Next::Continue);
    }
    report
        .differences
        .extend(changes.into_iter().map(|change| Difference::Reapply {
            migration: label.clone(),
            change,
        }));
    Ok(Next::Rebuild)
}

/// A ledger in the scratch database, named as the target's.
fn scratch_ledger(scratch: &Scratch) -> Ledger {
    Ledger::of(&scratch.target)
}

/// The ledger on `scratch` of the set that runs on `target`, beside `siblings`, every set's
/// ledger table (a set's ledger is named for the set, on the scratch database as on its own).
fn scratch_ledger_for(scratch: &Scratch, target: &Target, siblings: &[String]) -> Ledger {
    Ledger::placed(
        scratch.target.backend(),
        scratch.target.database_schema.as_deref(),
        scratch.target.migration_schema.as_deref(),
        &target.migration_table,
    )
    .with_siblings(siblings.to_vec())
}

/// Reverts what the checks left applied on `scratch`, newest set first, before it is dropped:
/// a migration may create what outlives a database (PostgreSQL and MariaDB roles belong to the
/// server), and only its `down` removes that. Best effort: a `down` that fails here was
/// reported by the checks already.
async fn tear_down(scratch: &Scratch, applied: &[(&MigrationSet, Ledger)]) {
    let Ok(conn) = scratch.connect().await else {
        return;
    };
    let options = RunOptions {
        confirmed_missing: true,
        ..RunOptions::default()
    };
    for (set, ledger) in applied.iter().rev() {
        let engine = Engine::new(conn.clone(), set, ledger.clone()).without_squashes();
        if let Err(e) = engine.down(&DownTarget::All, &options).await {
            info!("reverting on the scratch database before dropping it: {e}");
            break;
        }
    }
    let _ = conn.close_by_ref().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::diff::{Aspect, Object};

    #[test]
    fn differences_read_as_sentences_naming_the_migration_and_the_object() {
        let m = "m20240813_000010_create_indexes".to_owned();
        let index = Object::Index {
            table: "bookings".to_owned(),
            name: "idx_bookings_status".to_owned(),
        };
        let cases = [
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Added {
                        object: index.clone(),
                    },
                },
                "down of m20240813_000010_create_indexes leaves index idx_bookings_status on bookings",
            ),
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Removed {
                        object: Object::Table {
                            name: "accounts".to_owned(),
                        },
                    },
                },
                "down of m20240813_000010_create_indexes drops table accounts that existed before up",
            ),
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Altered {
                        object: Object::Column {
                            table: "users".to_owned(),
                            name: "email".to_owned(),
                        },
                        aspect: Aspect::Nullability,
                        before: "nullable".to_owned(),
                        after: "not null".to_owned(),
                    },
                },
                "down of m20240813_000010_create_indexes changes column users.email: nullable -> not null",
            ),
            (
                Difference::StoredDown {
                    migration: m.clone(),
                    stored: vec!["DROP TABLE a".to_owned()],
                    rendered: vec!["DROP TABLE a".to_owned(), "SELECT 2".to_owned()],
                },
                "the down SQL stored when m20240813_000010_create_indexes was applied is not what its code renders now: statement 2 was stored as nothing and renders as `SELECT 2`",
            ),
        ];
        for (difference, sentence) in cases {
            assert_eq!(difference.to_string(), sentence);
        }
    }

    #[test]
    fn the_json_of_a_difference_carries_its_sentence_and_its_parts() {
        let report = VerifyReport {
            backend: "sqlite",
            scratch: "sqlite://scratch.db".to_owned(),
            from: None,
            verified: vec!["m20240101_000001_a".to_owned()],
            data: Vec::new(),
            squashes: Vec::new(),
            differences: vec![Difference::Down {
                migration: "m20240101_000001_a".to_owned(),
                change: Change::Added {
                    object: Object::View {
                        name: "v_x".to_owned(),
                    },
                },
            }],
        };
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(
            json["differences"][0],
            serde_json::json!({
                "message": "down of m20240101_000001_a leaves view v_x",
                "kind": "down",
                "migration": "m20240101_000001_a",
                "change": {"type": "added", "object": {"kind": "view", "name": "v_x"}},
            })
        );
    }
}

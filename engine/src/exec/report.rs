//! What a command did or found, for people (`Display`) and machines (`serde`, a documented and
//! snapshot-tested shape).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

use crate::plan::State;

/// One migration applied or reverted.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// `up` or `down`.
    pub direction: &'static str,
    /// `code`; `squash` for a consolidated migration run in place of the migrations in
    /// `replaces`; or `stored` for a migration no longer in the code, reverted with the SQL kept
    /// when it was applied.
    pub source: &'static str,
    /// Wall time of the migration and its ledger writes.
    pub duration_ms: i64,
    /// For a consolidated migration: `version_name` of each migration it applied or reverted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// The attempts that gave up waiting for a table lock before the one that completed
    /// (`--lock-timeout-ddl` with retries).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<crate::exec::retry::Retry>,
}

impl Step {
    /// How many migrations of the list it applied or reverted.
    pub fn migrations(&self) -> usize {
        self.replaces.len().max(1)
    }
}

/// The result of `up`, `down` and the commands built on them.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RunReport {
    /// Migrations carried over from `seaql_migrations` before running, if any.
    pub adopted: Vec<String>,
    /// The batch number of an `up` run.
    pub batch: Option<i32>,
    /// What ran, in order.
    pub steps: Vec<Step>,
    /// The plan run or rolled back, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Why a consolidated migration was or was not used, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl RunReport {
    /// Whether nothing was applied or reverted (a success, not an error).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Appends another run's steps (for `redo` and `refresh`).
    pub fn extend(&mut self, other: RunReport) {
        self.adopted.extend(other.adopted);
        self.batch = other.batch.or(self.batch);
        self.steps.extend(other.steps);
        self.notes.extend(other.notes);
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.adopted.is_empty() {
            writeln!(
                f,
                "Adopted {} migration(s) from seaql_migrations without re-running them.",
                self.adopted.len()
            )?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        if self.steps.is_empty() {
            return writeln!(
                f,
                "Nothing to do: the database is up to date with the request."
            );
        }
        let total: i64 = self.steps.iter().map(|s| s.duration_ms).sum();
        let count = |direction: &str| -> usize {
            self.steps
                .iter()
                .filter(|s| s.direction == direction)
                .map(Step::migrations)
                .sum()
        };
        let (applied, reverted) = (count("up"), count("down"));
        let mut parts = Vec::new();
        if reverted > 0 {
            parts.push(format!("reverted {reverted} migration(s)"));
        }
        if applied > 0 {
            let batch = self
                .batch
                .map(|b| format!(" in batch {b}"))
                .unwrap_or_default();
            parts.push(format!("applied {applied} migration(s){batch}"));
        }
        let mut sentence = parts.join(", then ");
        if let Some(plan) = &self.plan {
            sentence = format!("plan `{plan}`: {sentence}");
        }
        if let Some(first) = sentence.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        writeln!(f, "{sentence} ({total} ms):")?;
        for s in &self.steps {
            let how = match (s.source, s.replaces.len()) {
                ("stored", 0) => " (from stored SQL)".to_owned(),
                ("stored", n) => format!(" (consolidated, from stored SQL: {n} migrations)"),
                (_, 0) => String::new(),
                (_, n) => format!(" (consolidated: {n} migrations in one step)"),
            };
            writeln!(
                f,
                "  {:<4} {}_{}{how} ({} ms)",
                s.direction, s.version, s.name, s.duration_ms
            )?;
            for replaced in &s.replaces {
                writeln!(f, "         {replaced}")?;
            }
            for r in &s.retries {
                writeln!(
                    f,
                    "         attempt {} gave up waiting for a table lock after {} ms; retried after {} ms",
                    r.attempt, r.lock_timeout_ms, r.paused_ms
                )?;
            }
        }
        Ok(())
    }
}

/// Where a set of migrations (a release, a plan) stands on a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Every one of them is applied (directly or through a consolidated migration).
    Applied,
    /// Some are applied, some not.
    Partly,
    /// None is applied.
    Pending,
}

impl Progress {
    /// The word used everywhere.
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::Applied => "applied",
            Progress::Partly => "partly",
            Progress::Pending => "pending",
        }
    }

    /// From how many of `total` are applied; `None` for an empty set.
    pub fn of(applied: usize, total: usize) -> Option<Self> {
        match (applied, total) {
            (_, 0) => None,
            (a, t) if a >= t => Some(Progress::Applied),
            (0, _) => Some(Progress::Pending),
            _ => Some(Progress::Partly),
        }
    }
}

/// Whether a migration in `state` has its effects in the database.
pub fn is_in_effect(state: State) -> bool {
    matches!(state, State::Applied | State::Squashed | State::Modified)
}

/// One line of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusLine {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// See [`State`].
    pub state: State,
    /// The batch that applied it.
    pub batch: Option<i32>,
    /// When it was applied.
    pub applied_at: Option<DateTime<Utc>>,
    /// How long it took.
    pub execution_ms: Option<i64>,
    /// Its position in the code's list (what plan selections count), when the code has it.
    pub number: Option<usize>,
    /// The release that shipped it, when the project declares releases.
    pub release: Option<String>,
    /// The plan whose run applied it.
    pub plan: Option<String>,
    /// The consolidated migration that applied it (state `squashed`).
    pub via: Option<String>,
    /// For a migration that reads data: where rendering its `up` stopped. Its checksum covers
    /// the statements before that point, so edits past it are not detected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partly_rendered: Option<String>,
    /// Whether `migrate baseline` recorded it as applied without running it.
    pub baseline: bool,
    /// Who is applying it now, for a `running` migration: the holder of the table lock its
    /// row was marked with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<Runner>,
}

/// A runner at work on a migration, as `status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Runner {
    /// Its host.
    pub host: Option<String>,
    /// Its process id.
    pub pid: Option<String>,
    /// What it runs (`migrate up`, `run_pending`).
    pub command: Option<String>,
    /// Since when it holds the lock.
    pub since: Option<DateTime<Utc>>,
    /// Until when its lease lasts unless renewed.
    pub lease_until: Option<DateTime<Utc>>,
    /// `running on <host> pid <pid> (...)`, as the text status says it.
    pub text: String,
}

impl From<&crate::backend::lock::Holder> for Runner {
    fn from(holder: &crate::backend::lock::Holder) -> Self {
        Self {
            host: holder.host.clone(),
            pid: holder.pid.clone(),
            command: holder.command.clone(),
            since: holder.since,
            lease_until: holder.lease_until,
            text: holder.running_on(),
        }
    }
}

/// The result of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: &'static str,
    /// Whether the ledger table exists yet.
    pub ledger_exists: bool,
    /// Whether a `seaql_migrations` table will be adopted on the next write (its rows are shown
    /// as applied).
    pub adoptable: bool,
    /// Every migration from the code and the ledger, in version order.
    pub migrations: Vec<StatusLine>,
    /// The consolidated migrations of the code and how this database relates to each.
    pub squashes: Vec<SquashStatus>,
}

/// How a database relates to one consolidated migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SquashPath {
    /// The migrations it replaces were applied through it.
    Used,
    /// Some of the migrations it replaces were applied one by one; the rest will be too.
    Bypassed,
    /// None of them is applied: an `up` through all of them will run it instead.
    Available,
}

/// One consolidated migration in `status`.
#[derive(Debug, Clone, Serialize)]
pub struct SquashStatus {
    /// Its fourteen-digit version.
    pub version: String,
    /// Its snake-case name.
    pub name: String,
    /// `version_name` of each migration it replaces.
    pub replaces: Vec<String>,
    /// See [`SquashPath`].
    pub path: SquashPath,
}

impl fmt::Display for SquashStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.replaces.len();
        let (first, last) = (
            self.replaces.first().map_or("", String::as_str),
            self.replaces.last().map_or("", String::as_str),
        );
        let how = match self.path {
            SquashPath::Used => "they were applied through it",
            SquashPath::Bypassed => "they are applied one by one on this database",
            SquashPath::Available => {
                "none is applied, so the next `up` through them runs it instead"
            }
        };
        write!(
            f,
            "{}_{} replaces {n} migrations ({first} .. {last}): {how}",
            self.version, self.name
        )
    }
}

impl StatusReport {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations.iter().filter(|m| m.state == state).count()
    }
}

/// A script of SQL that a command would run, for `--dry-run`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Script {
    /// Sections in execution order.
    pub sections: Vec<Section>,
    /// Why a consolidated migration would not be used, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One part of a [`Script`]: a migration, or the ledger's creation.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// What the statements are for.
    pub title: String,
    /// The statements, values inlined.
    pub statements: Vec<String>,
    /// For a migration that reads data: where rendering stopped and which read stopped it. The
    /// statements shown end there; the rest is decided by the data at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partly_rendered: Option<String>,
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "-- Dry run: nothing below was executed.")?;
        writeln!(f, "-- {}", crate::store::render::READS_NOTE)?;
        for note in &self.notes {
            writeln!(f, "-- {note}")?;
        }
        if self.sections.is_empty() {
            writeln!(
                f,
                "-- Nothing to do: the database is up to date with the request."
            )?;
        }
        for section in &self.sections {
            writeln!(f, "\n-- {}", section.title)?;
            if let Some(stop) = &section.partly_rendered {
                writeln!(
                    f,
                    "-- Partly rendered: {stop}. Only the statements before it are shown and checksummed."
                )?;
            }
            for statement in &section.statements {
                let s = statement.trim_end();
                if s.ends_with(';') {
                    writeln!(f, "{s}")?;
                } else {
                    writeln!(f, "{s};")?;
                }
            }
        }
        Ok(())
    }
}

/// What `repair` changed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RepairReport {
    /// One sentence per change.
    pub changes: Vec<String>,
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(
                f,
                "Nothing to repair: every applied migration matches its code."
            );
        }
        for change in &self.changes {
            writeln!(f, "{change}")?;
        }
        Ok(())
    }
}

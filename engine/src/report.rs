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
    /// `code`, or `stored` for a missing migration reverted with the SQL kept at apply time.
    pub source: &'static str,
    /// Wall time of the migration and its ledger writes.
    pub duration_ms: i64,
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
        if self.steps.is_empty() {
            return writeln!(
                f,
                "Nothing to do: the database is up to date with the request."
            );
        }
        let total: i64 = self.steps.iter().map(|s| s.duration_ms).sum();
        let applied = self.steps.iter().filter(|s| s.direction == "up").count();
        let reverted = self.steps.len() - applied;
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
        if let Some(first) = sentence.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        writeln!(f, "{sentence} ({total} ms):")?;
        for s in &self.steps {
            let stored = if s.source == "stored" {
                " (from stored SQL)"
            } else {
                ""
            };
            writeln!(
                f,
                "  {:<4} {}_{}{stored} ({} ms)",
                s.direction, s.version, s.name, s.duration_ms
            )?;
        }
        Ok(())
    }
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
}

/// One part of a [`Script`]: a migration, or the ledger's creation.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// What the statements are for.
    pub title: String,
    /// The statements, values inlined.
    pub statements: Vec<String>,
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "-- Dry run: nothing below was executed.")?;
        writeln!(f, "-- {}", crate::render::READS_RETURN_NOTHING)?;
        if self.sections.is_empty() {
            writeln!(
                f,
                "-- Nothing to do: the database is up to date with the request."
            )?;
        }
        for section in &self.sections {
            writeln!(f, "\n-- {}", section.title)?;
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

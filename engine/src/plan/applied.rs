//! What the ledger records about each applied migration: the planner's input, read and written
//! by [`crate::store::ledger`].

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The state of a ledger row. `Running` and `Failed` occur only where DDL is not transactional
/// (MySQL/MariaDB, or a migration that opted out of its transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    /// Completed.
    Applied,
    /// Started and not finished: the process died, or is still running.
    Running,
    /// Stopped with an error after part of it may have been committed.
    Failed,
}

impl RowState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RowState::Applied => "applied",
            RowState::Running => "running",
            RowState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "applied" => RowState::Applied,
            "running" => RowState::Running,
            _ => RowState::Failed,
        }
    }
}

/// One applied (or dirty) migration as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// Checksum of the rendered `up` SQL when it ran.
    pub checksum: String,
    /// See [`RowState`].
    pub state: RowState,
    /// The `up` run that applied it.
    pub batch: i32,
    /// When it was applied.
    pub applied_at: DateTime<Utc>,
    /// How long it took.
    pub execution_ms: i64,
    /// `user@host` of whoever ran it.
    pub applied_by: String,
    /// The rendered `down` statements, as a JSON array; `None` when it has no `down`.
    #[serde(skip)]
    pub down_sql: Option<String>,
    /// The error that stopped it, for failed rows.
    pub error: Option<String>,
    /// `APP_ENV` of the run that applied it: the oldest row's tells which environment the
    /// database belongs to, so destructive commands can refuse a production database.
    pub environment: Option<String>,
    /// The plan whose run applied it (`migrate plan run`), if any.
    pub plan: Option<String>,
    /// The consolidated migration that applied it together with the rest of its run, if any:
    /// such a row is `squashed`, and is reverted with the others through that migration's
    /// `down`.
    pub via: Option<String>,
    /// Where rendering of the `up` stopped, for a migration that reads data: its checksum covers
    /// only the statements before that point, so edits past it are not detected. `None` when
    /// the `up` rendered completely.
    pub render_stop: Option<String>,
    /// Why no `down` SQL is stored ([`LedgerRow::down_sql`] is `None`): the `down` reads data and
    /// rendered only in part, or the migration has no `down`. Such a migration can be reverted
    /// only from its code.
    pub down_stop: Option<String>,
    /// The token of the table lock its runner held when it marked the row `running`: while
    /// that lock's lease lasts, the runner is at work; once it has run out, the runner is gone.
    /// `None` under a session lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
}

impl LedgerRow {
    /// The stored `down` statements.
    pub fn down_statements(&self) -> Option<Vec<String>> {
        self.down_sql
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
}

/// What rendering a migration puts in its ledger row: the checksum and how far it reaches, and
/// the `down` SQL or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// [`LedgerRow::checksum`].
    pub checksum: String,
    /// [`LedgerRow::render_stop`].
    pub render_stop: Option<String>,
    /// [`LedgerRow::down_sql`].
    pub down_sql: Option<String>,
    /// [`LedgerRow::down_stop`].
    pub down_stop: Option<String>,
}

/// Encodes `down` statements for [`LedgerRow::down_sql`].
pub fn encode_statements(statements: &[String]) -> String {
    serde_json::to_string(statements).unwrap_or_else(|_| "[]".to_owned())
}

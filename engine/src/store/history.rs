//! The append-only history of every apply, revert, repair, adoption and baseline. The ledger says what is
//! applied now; the history says how it got there, including failures and reverted migrations,
//! with the plan whose run did it, the release that shipped the migration, and the consolidated
//! migration it went through.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, InsertStatement, Order, Query, Table, TableCreateStatement, Value,
};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use crate::backend;
use crate::store::ledger::Ledger;

/// What was done to a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Ran `up`.
    Apply,
    /// Ran `down` (from code, or from the SQL stored at apply time).
    Revert,
    /// Changed the ledger by hand through `migrate repair`.
    Repair,
    /// Carried over from SeaORM's `seaql_migrations`.
    Adopt,
    /// Recorded as applied without running, by `migrate baseline`.
    Baseline,
    /// A backup of the database was taken before a destructive command (`reason` says where).
    Backup,
    /// The database was restored from a backup (`reason` says which).
    Restore,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Revert => "revert",
            Action::Repair => "repair",
            Action::Adopt => "adopt",
            Action::Baseline => "baseline",
            Action::Backup => "backup",
            Action::Restore => "restore",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "apply" => Action::Apply,
            "revert" => Action::Revert,
            "adopt" => Action::Adopt,
            "baseline" => Action::Baseline,
            "backup" => Action::Backup,
            "restore" => Action::Restore,
            _ => Action::Repair,
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It completed.
    Success,
    /// It stopped with an error.
    Failed,
    /// It gave up waiting for a table lock, was rolled back (or had changed nothing), and was
    /// tried again (see [`crate::exec::retry`]).
    Retried,
}

/// One history row.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// See [`Action`].
    pub action: Action,
    /// The batch the migration belongs to.
    pub batch: Option<i32>,
    /// When it started.
    pub at: DateTime<Utc>,
    /// `user@host`.
    pub performed_by: String,
    /// How long it took.
    pub duration_ms: i64,
    /// See [`Outcome`].
    pub outcome: Outcome,
    /// The error, when it failed.
    pub error: Option<String>,
    /// `--reason`, or what `repair` did.
    pub reason: Option<String>,
    /// The plan being run or rolled back, if any.
    pub plan: Option<String>,
    /// The release that shipped the migration, if the project declares releases.
    pub release: Option<String>,
    /// The consolidated migration that applied or reverted it together with the rest of its
    /// run, if any.
    pub via: Option<String>,
    /// The statements the migration's code sent on the real connection during this apply or
    /// revert, in order, with their values inlined (the failing one last, for a failure):
    /// an exact audit of the run, whether or not the migration could be rendered beforehand.
    /// Empty for entries that ran no code (repairs, adoptions).
    pub statements: Vec<String>,
}

const COLUMNS: [&str; 14] = [
    "version",
    "name",
    "action",
    "batch",
    "at",
    "performed_by",
    "duration_ms",
    "outcome",
    "error",
    "reason",
    "plan",
    "release",
    "via",
    "statements",
];

/// `CREATE TABLE IF NOT EXISTS` for the history, named `<ledger>_history`.
pub fn create_table(ledger: &Ledger) -> TableCreateStatement {
    let b = ledger.backend();
    let text = |name: &'static str| ColumnDef::new(Alias::new(name)).text().to_owned();
    Table::create()
        .table(ledger.companion("history"))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("id"))
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Alias::new("version"))
                .string_len(32)
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("name"))
                .string_len(255)
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("action"))
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("batch")).integer())
        .col(backend::timestamp_column(b, "at"))
        .col(
            ColumnDef::new(Alias::new("performed_by"))
                .string_len(255)
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("duration_ms"))
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("outcome"))
                .string_len(16)
                .not_null(),
        )
        .col(text("error"))
        .col(text("reason"))
        .col(ColumnDef::new(Alias::new("plan")).string_len(100).null())
        .col(ColumnDef::new(Alias::new("release")).string_len(64).null())
        .col(ColumnDef::new(Alias::new("via")).string_len(255).null())
        .col(text("statements"))
        .to_owned()
}

/// Adds the columns a history created by an earlier version lacks (the statements each run
/// sent); see [`Ledger::upgrade`].
///
/// # Errors
/// A database error other than the probe's missing column or table.
pub async fn upgrade<C: ConnectionTrait>(conn: &C, ledger: &Ledger) -> Result<Vec<String>, DbErr> {
    crate::store::ledger::add_missing_columns(conn, ledger.companion("history"), &["statements"])
        .await
}

/// Appends an entry.
pub fn insert(ledger: &Ledger, entry: &HistoryEntry) -> InsertStatement {
    Query::insert()
        .into_table(ledger.companion("history"))
        .columns(COLUMNS.map(Alias::new))
        .values_panic(<[Value; 14]>::map(
            [
                entry.version.clone().into(),
                entry.name.clone().into(),
                entry.action.as_str().into(),
                entry.batch.into(),
                backend::timestamp_value(ledger.backend(), entry.at),
                entry.performed_by.clone().into(),
                entry.duration_ms.into(),
                match entry.outcome {
                    Outcome::Success => "success",
                    Outcome::Failed => "failed",
                    Outcome::Retried => "retried",
                }
                .into(),
                entry.error.clone().into(),
                entry.reason.clone().into(),
                entry.plan.clone().into(),
                entry.release.clone().into(),
                entry.via.clone().into(),
                (!entry.statements.is_empty())
                    .then(|| crate::store::ledger::encode_statements(&entry.statements))
                    .into(),
            ],
            Expr::val,
        ))
        .to_owned()
}

/// Reads the newest `limit` entries, newest first; empty when nothing was ever recorded.
///
/// # Errors
/// Any database error other than the table being absent.
pub async fn read<C: ConnectionTrait>(
    conn: &C,
    ledger: &Ledger,
    limit: Option<u64>,
) -> Result<Vec<HistoryEntry>, DbErr> {
    let select = |columns: &[&str]| {
        let mut select = Query::select();
        // Qualified, so SQLite cannot take a missing column for a string literal.
        let t = || Alias::new("t");
        select
            .columns(columns.iter().map(|c| (t(), Alias::new(*c))))
            .from_as(ledger.companion("history"), t())
            .order_by((t(), Alias::new("id")), Order::Desc);
        if let Some(limit) = limit {
            select.limit(limit);
        }
        select
    };
    let rows = match conn.query_all(&select(&COLUMNS)).await {
        Ok(rows) => rows,
        Err(e) if backend::is_undefined_table(&e) => return Ok(Vec::new()),
        // A history from before the statements were kept.
        Err(e) if backend::is_undefined_column(&e) => {
            conn.query_all(&select(&COLUMNS[..COLUMNS.len() - 1]))
                .await?
        }
        Err(e) => return Err(e),
    };
    rows.iter()
        .map(|row| {
            let action: String = row.try_get("", "action")?;
            let outcome: String = row.try_get("", "outcome")?;
            Ok(HistoryEntry {
                version: row.try_get("", "version")?,
                name: row.try_get("", "name")?,
                action: Action::parse(&action),
                batch: row.try_get("", "batch")?,
                at: backend::read_timestamp(ledger.backend(), row, "at")?,
                performed_by: row.try_get("", "performed_by")?,
                duration_ms: row.try_get("", "duration_ms")?,
                outcome: match outcome.as_str() {
                    "success" => Outcome::Success,
                    "retried" => Outcome::Retried,
                    _ => Outcome::Failed,
                },
                error: row.try_get("", "error")?,
                reason: row.try_get("", "reason")?,
                plan: row.try_get("", "plan")?,
                release: row.try_get("", "release")?,
                via: row.try_get("", "via")?,
                statements: row
                    .try_get::<Option<String>>("", "statements")
                    .ok()
                    .flatten()
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

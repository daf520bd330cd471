//! Migrating at service start-up: one call that is safe from many replicas at once.
//!
//! [`run_pending`] does what `migrate up` does, with the same checks and the same lock, on a
//! session of its own opened from the application's connection settings. The application's pool
//! is never used for DDL, never waits on the lock, and never inherits the migration's session
//! timeouts. Replicas that start together queue on the lock; the first applies, the rest find
//! nothing pending.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::backend::lock::{DEFAULT_LEASE, LockStrategy};
use crate::backend::target::validate_identifier;
use crate::error::{EngineError, Result};
use crate::exec::RunOptions;
use crate::exec::operations::Operations;
use crate::exec::report::RunReport;
use crate::exec::session::{Session, SessionOptions};
use crate::model::set::MigrationSet;
use crate::plan::UpTarget;
use crate::store::ledger::Ledger;

/// How [`run_pending`] runs; [`StartupOptions::from_env`] reads the variables `migrate` reads.
#[derive(Debug, Clone)]
pub struct StartupOptions {
    /// The ledger table (`MIGRATION_TABLE`, default `schema_migrations`).
    pub migration_table: String,
    /// The PostgreSQL schema the migrations run in (`DATABASE_SCHEMA`), as `--database-schema`
    /// sets it: the search path of the migration session; the connection's when `None`.
    pub database_schema: Option<String>,
    /// The ledger's PostgreSQL schema (`MIGRATION_SCHEMA`), else the database schema, else the
    /// connection's.
    pub migration_schema: Option<String>,
    /// How long to wait for another runner (`MIGRATION_LOCK_TIMEOUT` seconds, default 60).
    pub lock_timeout: Duration,
    /// How the lock is held (`MIGRATION_LOCK_STRATEGY`: `auto`, the default, `session` or
    /// `table`): see [`LockStrategy`].
    pub lock_strategy: LockStrategy,
    /// The lease of a table lock (`MIGRATION_LOCK_LEASE` seconds, default 30).
    pub lock_lease: Duration,
    /// How long one DDL statement may wait for a table lock; the server's setting when `None`.
    pub lock_timeout_ddl: Option<Duration>,
    /// How long one statement may run; the server's setting when `None`.
    pub statement_timeout: Option<Duration>,
    /// With `lock_timeout_ddl`: retry a migration that timed out waiting for a table lock on
    /// this ladder, where that is safe ([`crate::exec::retry`]).
    pub lock_retry: Option<crate::exec::retry::LockRetry>,
    /// Recorded in the history as the reason of this run.
    pub reason: Option<String>,
}

impl Default for StartupOptions {
    fn default() -> Self {
        Self {
            migration_table: "schema_migrations".to_owned(),
            database_schema: None,
            migration_schema: None,
            lock_timeout: Duration::from_secs(60),
            lock_strategy: LockStrategy::Auto,
            lock_lease: DEFAULT_LEASE,
            lock_timeout_ddl: None,
            lock_retry: None,
            statement_timeout: None,
            reason: None,
        }
    }
}

impl StartupOptions {
    /// The defaults, overridden by `MIGRATION_TABLE`, `DATABASE_SCHEMA`, `MIGRATION_SCHEMA`,
    /// `MIGRATION_LOCK_TIMEOUT`, `MIGRATION_LOCK_STRATEGY` and `MIGRATION_LOCK_LEASE` when they
    /// are set.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a lock timeout or lease that is not a number of seconds, an
    /// unknown lock strategy, or a table or schema name that is not a plain identifier.
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut options = Self::default();
        if let Some(table) = var("MIGRATION_TABLE") {
            validate_identifier("MIGRATION_TABLE", &table)?;
            options.migration_table = table;
        }
        if let Some(schema) = var("DATABASE_SCHEMA") {
            validate_identifier("DATABASE_SCHEMA", &schema)?;
            options.database_schema = Some(schema);
        }
        if let Some(schema) = var("MIGRATION_SCHEMA") {
            validate_identifier("MIGRATION_SCHEMA", &schema)?;
            options.migration_schema = Some(schema);
        }
        if let Some(secs) = var("MIGRATION_LOCK_TIMEOUT") {
            let secs: u64 = secs.trim().parse().map_err(|_| EngineError::Config {
                message: format!(
                    "MIGRATION_LOCK_TIMEOUT is `{secs}`, not a number of seconds; set it to e.g. 60"
                ),
            })?;
            options.lock_timeout = Duration::from_secs(secs);
        }
        if let Some(strategy) = var("MIGRATION_LOCK_STRATEGY") {
            options.lock_strategy = strategy.parse()?;
        }
        if let Some(secs) = var("MIGRATION_LOCK_LEASE") {
            let secs: u64 = secs
                .trim()
                .parse()
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| EngineError::Config {
                    message: format!(
                        "MIGRATION_LOCK_LEASE is `{secs}`, not a positive number of seconds; set it to e.g. 30"
                    ),
                })?;
            options.lock_lease = Duration::from_secs(secs);
        }
        Ok(options)
    }
}

/// Applies every pending migration of `set` to the database `db` connects to, under the
/// migration lock, and reports what it applied (nothing, on all but the first replica).
///
/// Refuses, like `migrate up`, when an applied migration is modified, missing in the way,
/// failed, or out of order, and when the database holds a schema but no ledger (until
/// `migrate baseline` records what built it).
///
/// # Errors
/// Any [`EngineError`] `migrate up` would report; [`EngineError::LockTimeout`] when another
/// runner holds the lock past `lock_timeout`. The lock is released on every path.
pub async fn run_pending(
    db: &DatabaseConnection,
    set: &MigrationSet,
    options: &StartupOptions,
) -> Result<RunReport> {
    let ledger = Ledger::placed(
        db.get_database_backend(),
        options.database_schema.as_deref(),
        options.migration_schema.as_deref(),
        &options.migration_table,
    );
    let session_options = SessionOptions {
        lock_timeout: options.lock_timeout,
        lock_strategy: options.lock_strategy,
        lock_lease: options.lock_lease,
        lock_timeout_ddl: options.lock_timeout_ddl,
        statement_timeout: options.statement_timeout,
        lock_retry: options.lock_retry,
        ..SessionOptions::new("run_pending")
    };
    let session = Session::beside(
        db,
        options.database_schema.as_deref(),
        ledger,
        &session_options,
        |holder| tracing::info!("waiting for the migration lock, held by {holder}"),
    )
    .await?;
    let operations = Operations::new(session, set);
    let run = RunOptions {
        reason: options.reason.clone(),
        ..RunOptions::default()
    };
    let applied = operations.up(&UpTarget::default(), &run).await;
    operations.close(applied).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Services run the start-up migration on a multi-threaded runtime, often in a task of its
    /// own: the call must be a `Send` future, hooks and session included.
    #[test]
    fn the_start_up_run_can_be_spawned() {
        fn send<F: Send>(_: F) {}
        // Type-checked, never run: only the future's type matters.
        fn spawnable(db: &DatabaseConnection, set: &MigrationSet, options: &StartupOptions) {
            send(run_pending(db, set, options));
        }
        let _ = spawnable;
    }
}

//! What seeding can refuse or fail with, and the exit code each one means.

use migration_engine::EngineError;
use migration_engine::cli::exit::CliError;
use migration_engine::cli::exit_code::{FAILED, REFUSED, USAGE};
use sea_orm::DbErr;

/// The cause of a failed load: a SeaORM error, or the driver's own for PostgreSQL `COPY`.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Everything `seed` can refuse or fail with. The engine's errors (configuration, connection,
/// guard, confirmation) keep the engine's exit codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// A configuration, connection, guard or confirmation error from the engine.
    #[error(transparent)]
    Engine(Box<EngineError>),

    /// A run on a fleet failed on some of its targets; the others ran to their end.
    #[error(
        "{failed} of {total} target(s) failed: {targets}; the others completed; fix what the output says and re-run"
    )]
    Fleet {
        /// How many failed.
        failed: usize,
        /// How many the fleet holds.
        total: usize,
        /// The failed targets, passwords redacted.
        targets: String,
        /// The exit code of the first failed target.
        code: u8,
    },

    /// Options that do not go together.
    #[error("{message}")]
    Usage {
        /// What is wrong, with the fix.
        message: String,
    },

    /// Migrations are pending, modified, missing or failed: the tables may not be the ones the
    /// entities describe.
    #[error("the database is not fully migrated ({summary}): {fix}")]
    NotMigrated {
        /// How many migrations are in which state, e.g. `3 pending`.
        summary: String,
        /// What to run.
        fix: &'static str,
    },

    /// The tables hold rows that no recorded seeding wrote.
    #[error(
        "{tables} already hold {rows} row(s) that `seed` did not write; nothing was changed; run `seed truncate` to empty the tables, or pass `--reseed` to replace them"
    )]
    ForeignRows {
        /// How many rows.
        rows: u64,
        /// Which tables, comma-separated.
        tables: String,
    },

    /// Loading a table failed; its transaction was rolled back.
    #[error("loading {table} failed: {source}; the load was rolled back")]
    Load {
        /// The table being loaded.
        table: &'static str,
        /// The database's error.
        #[source]
        source: Cause,
    },

    /// Any other database error.
    #[error("database error while {context}: {source}")]
    Database {
        /// What the seeder was doing.
        context: String,
        /// The database's error.
        #[source]
        source: DbErr,
    },

    /// Seeding failed, and releasing the migration lock afterwards failed too: both are kept,
    /// seeding's error first, as it is the one to act on.
    #[error("{error}; releasing the migration lock failed too: {release}")]
    ReleaseFailed {
        /// What seeding ended with.
        #[source]
        error: Box<SeedError>,
        /// What releasing the lock ended with.
        release: Box<EngineError>,
    },
}

impl migration_engine::exec::session::WithRelease for SeedError {
    fn with_release(self, release: EngineError) -> Self {
        SeedError::ReleaseFailed {
            error: Box::new(self),
            release: Box::new(release),
        }
    }
}

impl From<EngineError> for SeedError {
    fn from(e: EngineError) -> Self {
        SeedError::Engine(Box::new(e))
    }
}

impl SeedError {
    /// Wraps a database error with what the seeder was doing.
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(DbErr) -> SeedError {
        let context = context.into();
        move |source| SeedError::Database { context, source }
    }

    /// The documented exit code: 1 failed while running, 2 usage, configuration or connection,
    /// 4 refused by validation, 5 refused by a guard; the engine's own errors keep its codes.
    pub fn exit_code(&self) -> u8 {
        match self {
            SeedError::Engine(e) => migration_engine::cli::exit::code(e),
            SeedError::Usage { .. } => USAGE,
            SeedError::NotMigrated { .. } | SeedError::ForeignRows { .. } => REFUSED,
            SeedError::Load { .. } | SeedError::Database { .. } => FAILED,
            SeedError::ReleaseFailed { error, .. } => error.exit_code(),
            SeedError::Fleet { code, .. } => *code,
        }
    }
}

impl CliError for SeedError {
    fn exit_code(&self) -> u8 {
        SeedError::exit_code(self)
    }

    /// The engine's errors say what the engine's command line says for them.
    fn message(&self) -> String {
        match self {
            SeedError::Engine(e) => e.message(),
            SeedError::ReleaseFailed { error, release } => format!(
                "{}; releasing the migration lock failed too: {release}",
                CliError::message(error.as_ref())
            ),
            other => other.to_string(),
        }
    }
}

/// The seeder's result type.
pub type Result<T, E = SeedError> = std::result::Result<T, E>;

//! The engine's typed errors. Every variant carries the context a user needs to act on it; the
//! CLI turns them into one-line messages and exit codes in a single place.

use sea_orm::DbErr;

/// Everything the engine can refuse or fail with.
///
/// Variants are grouped by the exit code family the CLI maps them to: configuration and
/// connection problems, validation refusals, guard refusals and failures while running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The migration list was refused.
    #[error(transparent)]
    Set(#[from] crate::model::set::SetError),

    /// The database URL is absent, unparsable or of an unknown kind.
    #[error("{message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The database could not be reached or refused the credentials.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// The redacted URL.
        target: String,
        /// Why, with the fix.
        reason: String,
    },

    /// Another runner held the migration lock for longer than the lock timeout.
    #[error(
        "the migration lock is held by {holder} and was not released within {}s; wait for it to finish, or raise `--lock-timeout` (MIGRATION_LOCK_TIMEOUT)",
        .waited.as_secs()
    )]
    LockTimeout {
        /// Who holds it, as far as the server can tell.
        holder: String,
        /// How long this runner waited.
        waited: std::time::Duration,
    },

    /// The migration lock could not be asked for (its connection or file failed).
    #[error(
        "cannot take the migration lock: {detail}; check that the database is reachable and writable"
    )]
    Lock {
        /// What failed.
        detail: String,
    },

    /// A version named on the command line is not known.
    #[error(
        "unknown version `{version}`: no migration in the code or the ledger has it; run `migrate status` to list versions"
    )]
    UnknownVersion {
        /// The version as typed.
        version: String,
    },

    /// More migrations were asked to be reverted than are applied.
    #[error(
        "cannot revert {requested} migration(s): only {applied} applied; use `migrate down --all` to revert everything"
    )]
    NotEnoughApplied {
        /// How many were asked for.
        requested: u32,
        /// How many are applied.
        applied: usize,
    },

    /// `down --batch N` named a batch with nothing applied.
    #[error(
        "no applied migration belongs to batch {batch}; `migrate status` shows each migration's batch"
    )]
    UnknownBatch {
        /// As typed.
        batch: i32,
    },

    /// Applied migrations whose code now renders different SQL.
    #[error(
        "applied migration(s) modified since they ran: {}; restore their code, or run `migrate repair` to accept the change",
        .versions.join(", ")
    )]
    Modified {
        /// `version_name` of each modified migration.
        versions: Vec<String>,
    },

    /// A migration is marked failed or still running in the ledger: it ran outside a
    /// transaction (MySQL/MariaDB, or `use_transaction() == Some(false)`) and did not complete.
    #[error(
        "migration {migration} {what}; inspect the schema, then run `migrate repair --mark-applied {version}` if it completed or `migrate repair --remove {version}` if it did not"
    )]
    Dirty {
        /// `version_name`.
        migration: String,
        /// The bare version.
        version: String,
        /// `failed` or `running`.
        state: String,
        /// What happened to it, as the ledger says: failed with an error, interrupted, or
        /// still running.
        what: String,
    },

    /// A migration is being applied right now by a runner that holds the table lock and whose
    /// lease is running: a command that reads without the lock (a dry run, `check`) found its
    /// row `running`. Not a failure: once it completes, the migration is applied.
    #[error("migration {migration} is {runner}; wait for it to finish, then run the command again")]
    Running {
        /// `version_name`.
        migration: String,
        /// Who is applying it: `running on <host> pid <pid> (…)`.
        runner: String,
    },

    /// Pending migrations older than the newest applied one.
    #[error(
        "pending migration(s) older than the newest applied one: {}; rename them with a newer timestamp, or pass `--allow-out-of-order`",
        .versions.join(", ")
    )]
    OutOfOrder {
        /// `version_name` of each one.
        versions: Vec<String>,
    },

    /// A migration in a `down` range has no `down`.
    #[error(
        "migration {migration} is irreversible (its `down` fails: {reason}); nothing was reverted; revert to a later version instead"
    )]
    Irreversible {
        /// `version_name`.
        migration: String,
        /// What `down` said.
        reason: String,
    },

    /// A migration applied in the database but absent from the code would be reverted from stored
    /// SQL without confirmation.
    #[error(
        "{} migration(s) to revert are not in the code ({}); they would be reverted with the SQL stored when they were applied; re-run with `--yes` after reading it with `--dry-run`",
        .versions.len(), .versions.join(", ")
    )]
    MissingNeedsConfirmation {
        /// `version_name` of each one.
        versions: Vec<String>,
    },

    /// A missing migration has no stored `down` SQL (adopted from `seaql_migrations`, a `down`
    /// that reads data and so rendered only in part, or irreversible).
    #[error(
        "migration {migration} is not in the code and no `down` SQL was stored for it{}; check out the branch that has it, or remove its row with `migrate repair --remove {version}`",
        .why.as_ref().map(|w| format!(" (its `down` {w})")).unwrap_or_default()
    )]
    MissingWithoutDown {
        /// `version_name`.
        migration: String,
        /// The bare version.
        version: String,
        /// Why nothing was stored, as the ledger recorded it.
        why: Option<String>,
    },

    /// The schema holds objects but no ledger: applying the migrations would run into them
    /// (`table "tenants" already exists`), so nothing runs until `baseline` records what built
    /// them.
    #[error(
        "the database holds {count} object(s) but no ledger `{ledger}` ({sample}); nothing was run or created; if this project's migrations built them, record those as applied without running them with `migrate baseline` (every migration) or `migrate baseline --to VERSION` (those up to VERSION), then `migrate up` applies the rest"
    )]
    Unledgered {
        /// How many objects there are besides migration bookkeeping.
        count: usize,
        /// The ledger table's name.
        ledger: String,
        /// A few of them, `table tenants, function set_updated_at(), …`.
        sample: String,
    },

    /// `baseline` cannot start a ledger on this database.
    #[error("{message}")]
    Baseline {
        /// Why, with the fix.
        message: String,
    },

    /// A destructive command was run without a terminal and without `--yes`.
    #[error("{action} needs confirmation: re-run with `--yes` to proceed")]
    NeedsConfirmation {
        /// What would happen.
        action: String,
    },

    /// The user answered no at a confirmation prompt.
    #[error("cancelled: nothing was changed")]
    Cancelled,

    /// A destructive operation was refused by the guard (production environment or a protected
    /// URL) and `--force` was not given.
    #[error(
        "refusing to {action} on {target}: {reason}; nothing was changed; re-run with `--force` if this is really intended"
    )]
    Guarded {
        /// What would have happened.
        action: String,
        /// The redacted URL.
        target: String,
        /// Why the guard refused.
        reason: String,
    },

    /// The seed step that follows `fresh --seed` failed after `fresh` completed.
    #[error(
        "`seed {profile}` failed (exit code {code}) after the schema was rebuilt: the database is migrated but not seeded; fix the error above, then run `seed {profile}`"
    )]
    SeedFailed {
        /// The profile that was being seeded.
        profile: String,
        /// The seed command's exit code, passed on as ours.
        code: u8,
    },

    /// `repair` was asked to act on a version that is not in the state it handles.
    #[error("{message}")]
    Repair {
        /// What is wrong, with the fix.
        message: String,
    },

    /// A migration failed while running.
    #[error(
        "migration {migration} failed during {direction}: {source}{}{}",
        rollback_note(.rolled_back),
        retry_note(.lock_wait)
    )]
    MigrationFailed {
        /// `version_name`.
        migration: String,
        /// `up` or `down`.
        direction: &'static str,
        /// Whether the failed migration left nothing behind.
        rolled_back: bool,
        /// Whether it failed waiting for a table lock another session held past the DDL lock
        /// timeout: such a failure changed nothing and can be retried.
        lock_wait: bool,
        /// Migrations completed before it in the same run.
        completed: Vec<String>,
        /// The database error.
        #[source]
        source: DbErr,
    },

    /// A migration's code panicked while running. It is treated as any failure: rolled back
    /// where its transaction allows, marked failed where it ran outside one.
    #[error("migration {migration} panicked during {direction}: {message}{}", rollback_note(.rolled_back))]
    MigrationPanicked {
        /// `version_name`.
        migration: String,
        /// `up` or `down`.
        direction: &'static str,
        /// Whether the migration left nothing behind.
        rolled_back: bool,
        /// Migrations completed before it in the same run.
        completed: Vec<String>,
        /// The panic's message.
        message: String,
    },

    /// Creating a new migration module failed.
    #[error("{message}")]
    Scaffold {
        /// What is wrong, with the fix.
        message: String,
    },

    /// `verify` could not create, reset or drop its scratch database.
    #[error("cannot {action} the scratch database {database}: {reason}")]
    Scratch {
        /// `create`, `reset` or `drop`.
        action: &'static str,
        /// The scratch database's redacted URL or name.
        database: String,
        /// Why, with the fix.
        reason: String,
    },

    /// The command was stopped by a signal after cleaning up what it had created.
    #[error("interrupted by {signal}; {cleanup}")]
    Interrupted {
        /// `SIGINT` or `SIGTERM`.
        signal: &'static str,
        /// What was cleaned up before stopping.
        cleanup: String,
    },

    /// A session's work failed, and releasing the session (its lock) afterwards failed too:
    /// both are kept, the work's error first, as it is the one to act on.
    #[error("{error}; releasing the migration lock failed too: {release}")]
    ReleaseFailed {
        /// What the work ended with.
        #[source]
        error: Box<EngineError>,
        /// What releasing the session ended with.
        release: Box<EngineError>,
    },

    /// A releases file that does not fit the code, or a release that is not in it.
    #[error(transparent)]
    Release(#[from] crate::model::releases::ReleaseError),

    /// A consolidated migration that does not fit the list, or cannot be generated.
    #[error(transparent)]
    Squash(#[from] crate::model::consolidated::SquashError),

    /// A dependency declaration that does not fit the migration list.
    #[error(transparent)]
    Dependency(#[from] crate::model::deps::DependencyError),

    /// A backup could not be taken or restored.
    #[error("backup failed: {message}")]
    Backup {
        /// What went wrong and what to do.
        message: String,
    },

    /// A cached copy for `fresh --seed` could not be listed, taken or copied back.
    #[error("reset cache: {message}")]
    ResetCache {
        /// What went wrong and what to do.
        message: String,
    },

    /// The sets of a project of several that do not fit together.
    #[error(transparent)]
    Sets(#[from] crate::model::sets::SetsError),

    /// A set would be applied before something of another set that it needs.
    #[error(
        "cannot apply set `{set}`: it needs {needed}, and {missing} is not applied; run `migrate up --set {needed_set}` first, or `migrate up` for every set"
    )]
    SetNeedsUnapplied {
        /// The set that was to be applied.
        set: String,
        /// What it needs, in words.
        needed: String,
        /// The needed set's name.
        needed_set: String,
        /// The first needed migration that is not applied.
        missing: String,
    },

    /// A set's migration would be reverted while an applied migration of another set needs it.
    #[error(
        "cannot revert {migration} of set `{set}`: set `{dependent}` needs it and has {applied} applied (newest {newest}); revert set `{dependent}` first (`migrate down --all --set {dependent}`), or include it"
    )]
    NeededBySet {
        /// The set to be reverted.
        set: String,
        /// The first of its migrations that would go.
        migration: String,
        /// The set that needs it.
        dependent: String,
        /// How many of the dependent's migrations are applied.
        applied: usize,
        /// The newest of them.
        newest: String,
    },

    /// A plan run would apply a migration before one it needs.
    #[error(
        "plan `{plan}` cannot run: {}; add what is needed to the plan, or apply it first",
        unmet_list(.culprits)
    )]
    UnmetDependencies {
        /// The plan's name.
        plan: String,
        /// Each selected migration and the need that is neither applied nor selected.
        culprits: Vec<crate::model::deps::Culprit>,
    },

    /// A rollback would revert a migration that one staying applied needs.
    #[error(
        "cannot revert {what}: {}; revert those first, or include them",
        dependents_list(.culprits)
    )]
    DependentsApplied {
        /// What was to be reverted: `batch 3`, `plan auth-hotfix`.
        what: String,
        /// Each migration staying applied and the need that would be reverted.
        culprits: Vec<crate::model::deps::Culprit>,
    },

    /// A revert would split migrations applied together through a consolidated migration.
    #[error(
        "cannot revert {what}: {} went in together through the consolidated migration {squash}, whose down reverts them only all at once; {fix}",
        .migrations.join(", ")
    )]
    SplitsSquash {
        /// What was to be reverted.
        what: String,
        /// The consolidated migration.
        squash: String,
        /// `version_name` of the migrations it applied.
        migrations: Vec<String>,
        /// What to do instead.
        fix: String,
    },

    /// A database error outside any migration (reading or writing the ledger).
    #[error("database error while {context}: {source}")]
    Database {
        /// What the engine was doing.
        context: String,
        /// The database error.
        #[source]
        source: DbErr,
    },
}

fn rollback_note(rolled_back: &bool) -> &'static str {
    if *rolled_back {
        " (rolled back: nothing of it remains)"
    } else {
        ""
    }
}

fn retry_note(lock_wait: &bool) -> &'static str {
    if *lock_wait {
        "; another session held a lock on a table it needed past the DDL lock timeout: the \
         database is unchanged, and it is safe to retry when that session is done"
    } else {
        ""
    }
}

/// Culprits grouped by the migration that needs the others, in the order first seen.
fn grouped(culprits: &[crate::model::deps::Culprit]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in culprits {
        match groups.iter_mut().find(|(m, _)| *m == c.migration) {
            Some((_, needs)) => needs.push(&c.needs),
            None => groups.push((&c.migration, vec![&c.needs])),
        }
    }
    groups
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn unmet_list(culprits: &[crate::model::deps::Culprit]) -> String {
    grouped(culprits)
        .iter()
        .map(|(m, needs)| {
            let which = if needs.len() == 1 {
                "which is"
            } else {
                "which are"
            };
            format!(
                "{m} needs {}, {which} neither applied nor in the plan",
                and_list(needs)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn dependents_list(culprits: &[crate::model::deps::Culprit]) -> String {
    grouped(culprits)
        .iter()
        .map(|(m, needs)| format!("{m}, which stays applied, needs {}", and_list(needs)))
        .collect::<Vec<_>>()
        .join("; ")
}

impl EngineError {
    /// Wraps a database error with what the engine was doing at the time.
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(DbErr) -> EngineError {
        let context = context.into();
        move |source| EngineError::Database { context, source }
    }
}

impl From<crate::model::ModelError> for EngineError {
    fn from(e: crate::model::ModelError) -> Self {
        use crate::model::ModelError;
        match e {
            ModelError::Set(e) => e.into(),
            ModelError::Dependency(e) => e.into(),
            ModelError::Release(e) => e.into(),
            ModelError::Squash(e) => e.into(),
            ModelError::Sets(e) => e.into(),
        }
    }
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

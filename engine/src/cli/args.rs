//! The command line, as clap types. Names follow sea-orm-cli's migrator so SeaORM users feel at
//! home; everything else is ours.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

use crate::backend::lock::LockStrategy;
use crate::backend::target::{DEFAULT_DATABASE_URL, Target};
use crate::error::EngineError;
use crate::exec::session::SessionOptions;

/// Versioned, reversible SeaORM migrations with checksums, history and dry-runs.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    after_help = super::exit_code::TABLE,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Where and how to connect, what to print, what to allow
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Per migration: seconds a DDL statement may wait for a table lock (PostgreSQL
    /// lock_timeout, MySQL/MariaDB lock_wait_timeout); the server's setting when omitted
    #[arg(long, value_name = "SECS", global = true)]
    pub lock_timeout_ddl: Option<u64>,

    /// With --lock-timeout-ddl: how many times a migration whose DDL timed out waiting for a
    /// table lock is tried in all, each attempt waiting twice as long, where a retry is safe
    /// (rolled back; on MySQL/MariaDB only if nothing of it committed); 1 turns retries off
    #[arg(
        long,
        value_name = "N",
        env = "MIGRATION_LOCK_ATTEMPTS",
        default_value_t = 3,
        global = true,
        hide_env_values = true
    )]
    pub lock_attempts: u32,

    /// Seconds to pause before the first retry of --lock-attempts (doubling, jittered)
    #[arg(long, value_name = "SECS", default_value_t = 1.0, global = true)]
    pub lock_retry_pause: f64,

    /// Per migration: seconds a statement may run (PostgreSQL statement_timeout,
    /// MariaDB max_statement_time); the server's setting when omitted
    #[arg(long, value_name = "SECS", global = true)]
    pub statement_timeout: Option<u64>,

    /// Log every step and statement to stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Whether to back up before destructive work
    #[command(flatten)]
    pub backups: BackupArgs,

    /// In a project of several migration sets: work on this set only (repeatable; every set,
    /// in their order, when omitted). Set NAME runs on NAME_DATABASE_URL when that is set
    #[arg(long = "set", value_name = "NAME", global = true)]
    pub sets: Vec<String>,

    /// Which targets to run on, when more than one
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// What to do; `up` when omitted, as with SeaORM's migrator
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A fleet of targets (tenant schemas, databases, files): where the list comes from, how many
/// run at once, and which part of it this machine takes.
#[derive(Debug, Clone, Args, Default)]
pub struct FleetArgs {
    /// Run on every target listed in FILE (`-` for stdin): one URL, or URL and schema, a line;
    /// blank lines and lines starting with `#` are skipped
    #[arg(
        long = "targets",
        value_name = "FILE",
        global = true,
        conflicts_with_all = ["schemas", "targets_query"]
    )]
    pub targets: Option<PathBuf>,

    /// Run on every schema of the database whose name matches GLOB (`*`, `?`), e.g.
    /// 'tenant_*'; on MySQL/MariaDB every database of the server
    #[arg(
        long,
        value_name = "GLOB",
        global = true,
        conflicts_with = "targets_query"
    )]
    pub schemas: Option<String>,

    /// Run on the targets the rows of SQL name, read from the database of --database-url: a
    /// URL or a schema name in the first column, and optionally a schema in the second
    #[arg(long, value_name = "SQL", global = true)]
    pub targets_query: Option<String>,

    /// How many targets run at once (each holds a connection and its lock's); 8 on a server,
    /// the machine's cores (2 to 8) on SQLite
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: Option<u16>,

    /// Take part K of N of the targets (1-based), split by a digest of each target, so that N
    /// machines given the same list share it with no coordinator
    #[arg(long, value_name = "K/N", global = true)]
    pub shard: Option<crate::backend::fleet::Shard>,

    /// Start no further target after the first one fails
    #[arg(long, global = true)]
    pub fail_fast: bool,
}

impl FleetArgs {
    /// Whether the command runs on a fleet rather than on the one database URL.
    pub fn requested(&self) -> bool {
        self.targets.is_some() || self.schemas.is_some() || self.targets_query.is_some()
    }
}

impl Cli {
    /// The ladder of lock retries `--lock-attempts` and `--lock-retry-pause` describe, when
    /// `--lock-timeout-ddl` bounds the waits.
    pub fn lock_retry(&self) -> Option<crate::exec::retry::LockRetry> {
        self.lock_timeout_ddl?;
        Some(crate::exec::retry::LockRetry {
            attempts: self.lock_attempts.max(1),
            pause: Duration::try_from_secs_f64(self.lock_retry_pause.max(0.0)).unwrap_or_default(),
            ..crate::exec::retry::LockRetry::default()
        })
    }
}

/// The global options of `migrate` and of every other command line built on the engine (such as
/// a project's `seed`), flattened into each, so that they read and hide the same environment.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database URL; defaults to the SQLite file `sqlite://dev.db?mode=rwc`
    #[arg(
        short = 'u',
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Database schema (PostgreSQL search path) for the migrations
    #[arg(
        short = 's',
        long,
        env = "DATABASE_SCHEMA",
        global = true,
        hide_env_values = true
    )]
    pub database_schema: Option<String>,

    /// Name of the ledger table; its companions take it as prefix
    #[arg(long, env = "MIGRATION_TABLE", global = true, hide_env_values = true)]
    pub migration_table: Option<String>,

    /// Schema of the ledger tables (PostgreSQL); defaults to the database schema
    #[arg(long, env = "MIGRATION_SCHEMA", global = true, hide_env_values = true)]
    pub migration_schema: Option<String>,

    /// Output format of results on stdout
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,

    /// Run a destructive command where the guard refuses: APP_ENV=production, a database first
    /// migrated in production or in another environment, a URL in MIGRATION_PROTECTED_URLS
    #[arg(long, global = true)]
    pub force: bool,

    /// Answer yes to confirmations (required for destructive commands without a terminal)
    #[arg(long, global = true)]
    pub yes: bool,

    /// Seconds to wait for the database connection
    #[arg(long, value_name = "SECS", default_value_t = 10, global = true)]
    pub connect_timeout: u64,

    /// Seconds to wait for another run's migration lock before giving up (exit 3)
    #[arg(
        long,
        value_name = "SECS",
        env = "MIGRATION_LOCK_TIMEOUT",
        default_value_t = 60,
        global = true,
        hide_env_values = true
    )]
    pub lock_timeout: u64,

    /// How the migration lock is held: `session` (PostgreSQL advisory lock, MySQL GET_LOCK,
    /// SQLite lock file), `table` (a row in <migration table>_lock with a lease, which
    /// replicates), or `auto`: table on a Galera cluster, session elsewhere
    #[arg(
        long,
        value_name = "STRATEGY",
        env = "MIGRATION_LOCK_STRATEGY",
        default_value = "auto",
        value_parser = parse_lock_strategy,
        global = true,
        hide_env_values = true
    )]
    pub lock_strategy: LockStrategy,

    /// Seconds a table lock's lease lasts; renewed every third of it while held, so a runner
    /// killed while holding it is taken over once it has run out
    #[arg(
        long,
        value_name = "SECS",
        env = "MIGRATION_LOCK_LEASE",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true,
        hide_env_values = true
    )]
    pub lock_lease: u64,
}

/// `--lock-strategy` and `MIGRATION_LOCK_STRATEGY`: the error names the accepted words.
fn parse_lock_strategy(s: &str) -> Result<LockStrategy, EngineError> {
    s.parse()
}

impl GlobalArgs {
    /// The options of a session running `command` (`migrate up`, `seed demo`): these
    /// timeouts, the lock strategy and lease, and `--force`; no statement timeouts.
    pub fn session_options(&self, command: impl Into<String>) -> SessionOptions {
        SessionOptions {
            connect_timeout: Duration::from_secs(self.connect_timeout),
            lock_timeout: Duration::from_secs(self.lock_timeout),
            lock_strategy: self.lock_strategy,
            lock_lease: Duration::from_secs(self.lock_lease),
            force: self.force,
            ..SessionOptions::new(command)
        }
    }

    /// The target these options name: the database URL (the SQLite default when none is given),
    /// its schema and the ledger's table and schema.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a malformed URL, an unknown scheme or an invalid identifier.
    pub fn target(&self) -> Result<Target, EngineError> {
        let url = self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
        Target::new(
            url,
            self.database_schema.clone(),
            self.migration_schema.clone(),
            self.migration_table.clone(),
        )
    }
}

/// `--backup` and `--no-backup`, shared by `migrate` and every other command line built on the
/// engine that destroys data (a project's `seed`).
#[derive(Debug, Clone, Args, Default)]
pub struct BackupArgs {
    /// Back up the database before destroying anything (pg_dump, mariadb-dump, or a copy of
    /// the SQLite file, into MIGRATION_BACKUP_DIR, default ./backups/); MIGRATION_BACKUP=auto
    /// (the default) does so where the guard protects the database, =required always
    #[arg(long, global = true, conflicts_with = "no_backup")]
    pub backup: bool,

    /// Take no backup before destroying anything, whatever MIGRATION_BACKUP says
    #[arg(long, global = true)]
    pub no_backup: bool,
}

impl BackupArgs {
    /// The backup policy of this run: `MIGRATION_BACKUP`, `MIGRATION_BACKUP_DIR`, and these
    /// flags.
    ///
    /// # Errors
    /// [`EngineError::Config`] for an unknown `MIGRATION_BACKUP`.
    pub fn policy(&self) -> Result<crate::exec::backup::BackupPolicy, EngineError> {
        let asked = match (self.backup, self.no_backup) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        crate::exec::backup::BackupPolicy::from_env(asked)
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and sentences for people.
    Text,
    /// One JSON document with a stable shape.
    Json,
}

/// Options shared by every command that changes the schema.
#[derive(Debug, Clone, Args, Default)]
pub struct Change {
    /// Why: recorded in the history with each step
    #[arg(long)]
    pub reason: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations
    Up {
        /// Apply at most N migrations
        #[arg(short = 'n', long = "num", value_name = "N")]
        num: Option<u32>,
        /// Apply up to and including this version
        #[arg(long, value_name = "VERSION", conflicts_with = "num")]
        to: Option<String>,
        /// Apply every pending migration of this release and the releases before it
        #[arg(long, value_name = "RELEASE", conflicts_with_all = ["num", "to"])]
        to_release: Option<String>,
        /// Print the SQL, transaction boundaries and ledger writes; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Apply pending migrations older than the newest applied one
        #[arg(long)]
        allow_out_of_order: bool,
        /// Apply every pending migration in one transaction, all or none (PostgreSQL, SQLite)
        #[arg(long)]
        single_transaction: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
        /// Lint the pending migrations first: `deny` (the default of a bare --lint) refuses to
        /// apply anything when an error-level finding remains (exit 4), `warn` prints the
        /// findings and applies, `off` skips linting
        #[arg(
            long,
            value_enum,
            value_name = "MODE",
            env = "MIGRATION_LINT",
            num_args = 0..=1,
            default_missing_value = "deny",
            hide_env_values = true
        )]
        lint: Option<LintMode>,
    },
    /// Revert applied migrations, newest first (one by default)
    Down {
        /// Revert the last N migrations
        #[arg(short = 'n', long = "num", value_name = "N", conflicts_with_all = ["to", "all"])]
        num: Option<u32>,
        /// Revert every migration applied after this version
        #[arg(long, value_name = "VERSION", conflicts_with = "all")]
        to: Option<String>,
        /// Revert every migration released after this release (and every unreleased one)
        #[arg(long, value_name = "RELEASE", conflicts_with_all = ["num", "to", "all"])]
        to_release: Option<String>,
        /// Revert the migrations of the last batch (one `up` or plan run), or of batch N if
        /// nothing applied later needs them
        #[arg(
            long,
            value_name = "N",
            num_args = 0..=1,
            conflicts_with_all = ["num", "to", "all", "to_release"]
        )]
        batch: Option<Option<i32>>,
        /// Revert everything
        #[arg(long)]
        all: bool,
        /// Print the SQL, transaction boundaries and ledger writes; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Show each migration's state: applied, pending, modified, missing, failed, squashed
    Status,
    /// Exit 6 when something is pending, 4 when something is modified, missing or failed
    Check,
    /// Show every apply, revert, repair, adoption, baseline and plan run, newest first
    History {
        /// Show at most N entries
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Drop every object in the schema, then apply all migrations
    ///
    /// Lists what it drops (tables, views, routines; on PostgreSQL also types, sequences and
    /// extensions), marking what no migration of this project creates, in its confirmation, its
    /// dry run and its output.
    Fresh {
        /// Then seed the database with this profile of the project's seeder, in the same session
        ///
        /// The result is kept as a cached copy (PostgreSQL: a template database; SQLite: a file in
        /// .migrate-cache/), and the next `fresh` with the same migrations, profile, seed and day
        /// copies it back instead of rebuilding. See `migrate cache`.
        #[arg(long, value_name = "PROFILE")]
        seed: Option<String>,
        /// With --seed: the seeder's random seed, instead of its default
        #[arg(long, value_name = "N", requires = "seed")]
        random_seed: Option<u64>,
        /// With --seed: the day the data is generated around (YYYY-MM-DD), instead of today
        #[arg(long, value_name = "DATE", requires = "seed")]
        today: Option<chrono::NaiveDate>,
        /// With --seed: rebuild and seed the ordinary way, neither using nor saving a cached copy
        #[arg(long, requires = "seed")]
        no_cache: bool,
        /// Print what would be dropped and applied; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Revert all migrations, then apply them again
    Refresh {
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Revert all migrations
    Reset {
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Revert the last N migrations and apply them again
    Redo {
        /// How many
        #[arg(short = 'n', long = "num", value_name = "N", default_value_t = 1)]
        num: u32,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Write a new migration module and register it in lib.rs
    #[command(alias = "generate")]
    Create {
        /// Snake-case name, e.g. add_email_to_users
        name: String,
        /// Directory holding lib.rs and the migration modules
        #[arg(short = 'd', long, value_name = "DIR")]
        migration_dir: Option<PathBuf>,
        /// Accepted for sea-orm-cli compatibility; timestamps are always UTC
        #[arg(long, hide = true)]
        universal_time: bool,
    },
    /// Accept deliberate changes (re-record checksums) or resolve a failed migration
    Repair {
        /// Mark a failed migration as applied after completing it by hand
        #[arg(long, value_name = "VERSION", conflicts_with = "remove")]
        mark_applied: Option<String>,
        /// Remove a failed or missing migration's row after undoing it by hand
        #[arg(long, value_name = "VERSION")]
        remove: Option<String>,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Carry SeaORM's seaql_migrations into the ledger without re-running anything
    Adopt,
    /// Record migrations as applied without running them, on a schema without a ledger
    ///
    /// For a database restored from a dump, built before this tool was used, or whose ledger was
    /// dropped, where `up` refuses to run: records every migration up to VERSION (all of them
    /// without --to) as applied in one batch, with the checksums and `down` SQL an `up` records,
    /// and a `baseline` entry for each in the history; later ones stay pending. Lists them and
    /// asks first (--yes without a terminal). Refused where the ledger already records
    /// migrations, and where seaql_migrations is there to adopt.
    Baseline {
        /// Record up to and including this version; the later ones stay pending
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Print what would be recorded; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Print the schema: tables, columns, keys, indexes, views, triggers, functions, types
    Schema,
    /// Back up this database now, under the migration lock, as destructive commands do first
    Backup,
    /// List the backups of this database: when, at which version, how big, taken by which
    /// command
    Backups,
    /// List or remove the cached copies `fresh --seed` resets this database from
    Cache {
        /// What to do with them
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Drop every object, then restore a backup into this database (or into --into URL)
    ///
    /// Guarded and confirmed like `fresh`: lists what it drops, asks first (--yes without a
    /// terminal). Afterwards the ledger is as it was when the backup was taken, and the history
    /// records the restore.
    Restore {
        /// The backup file, as `migrate backups` lists it
        file: PathBuf,
        /// Restore into this database instead (its schema is emptied first)
        #[arg(long, value_name = "URL")]
        into: Option<String>,
    },
    /// Show each release with its state: applied, partly or pending
    Releases,
    /// Print release notes as Markdown, with the state of each migration
    ///
    /// Per release: its description, features, migrations and their state, breaking changes and
    /// upgrade notes; then the migrations not released yet. With --format json, the same as
    /// `releases --format json`.
    Report,
    /// Save, list, show, run and roll back plans of hand-picked migrations
    Plan(PlanArgs),
    /// Print what each migration needs, and what needs it
    Deps,
    /// Write a consolidated migration of the releases up to one, for fresh databases
    ///
    /// The new module runs, on a database where none of them is applied, the SQL every migration
    /// of those releases renders on each backend; it is registered in `Migrator::squashes()` (in
    /// the module beside lib.rs that defines it, such as project.rs), and each migration it
    /// replaces notes it. Check it with `migrate verify`.
    Squash {
        /// The last release it covers
        #[arg(long, value_name = "RELEASE")]
        to_release: String,
        /// Snake-case name of the new module, e.g. baseline_1_2_0
        name: String,
        /// Directory holding lib.rs and the migration modules
        #[arg(short = 'd', long, value_name = "DIR")]
        migration_dir: Option<PathBuf>,
    },
    /// Check migrations for dangerous operations, on each backend's rendered SQL; exit 4 on an
    /// error-level finding
    ///
    /// Needs no database unless --pending is given. Each rule knows whether a table existed
    /// before the migration; a migration allows a rule with a reason in its code
    /// (`LINT_ALLOW`). `--rules` lists the rules with their documentation.
    Lint(LintArgs),
    /// Prove on a scratch database that every down undoes its up; exit 4 on any difference
    Verify {
        /// Check from this version on; earlier migrations are applied without checks
        #[arg(long, value_name = "VERSION")]
        from: Option<String>,
    },
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish
    ///
    /// Needs no database. Write it where the shell looks, e.g. for bash
    /// `migrate completions bash > ~/.local/share/bash-completion/completions/migrate`, for zsh
    /// `migrate completions zsh > ~/.zfunc/_migrate` (with ~/.zfunc in fpath).
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `migrate cache`: the reset cache of this database.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CacheAction {
    /// List the cached copies: name, size, seed profile, when each was made
    List,
    /// Remove every cached copy of this database
    Clear,
    /// Drop the databases earlier resets replaced (a reset starts this in the background)
    #[command(hide = true)]
    Sweep,
}

/// Whether `migrate up` lints the pending migrations first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintMode {
    /// Do not lint.
    Off,
    /// Print the findings on stderr and apply anyway.
    Warn,
    /// Refuse to apply anything when an error-level finding remains (exit 4).
    Deny,
}

/// The backends `migrate lint` renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintBackend {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
    /// All three.
    All,
}

/// CI formats of `migrate lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Annotate {
    /// GitHub workflow commands (`::error file=…,title=rule::…`), one a line.
    Github,
    /// A SARIF 2.1.0 log, for code scanning.
    Sarif,
}

/// `migrate lint ...`.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// Versions to lint; every migration when none is given
    #[arg(value_name = "VERSION", conflicts_with_all = ["pending", "all"])]
    pub versions: Vec<String>,
    /// Lint the migrations the database has not applied yet (reads its ledger)
    #[arg(long, conflicts_with = "all")]
    pub pending: bool,
    /// Lint every migration (the default)
    #[arg(long)]
    pub all: bool,
    /// Whose rendered SQL to lint; the database URL's backend when omitted
    #[arg(long, value_enum)]
    pub backend: Option<LintBackend>,
    /// The MariaDB/MySQL server whose online DDL rules apply, e.g. mariadb-10.11 or mysql-8.0
    #[arg(
        long,
        value_name = "SERVER",
        env = "MIGRATION_LINT_SERVER",
        default_value = "mariadb-10.6",
        hide_env_values = true
    )]
    pub server_version: String,
    /// Print the findings as GitHub annotations or a SARIF log instead of text or JSON
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub annotate: Option<Annotate>,
    /// List the rules with their level and documentation, and lint nothing
    #[arg(long)]
    pub rules: bool,
}

/// `migrate plan ...`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Directory of plan files; defaults to the migration crate's plans/
    #[arg(
        long,
        value_name = "DIR",
        env = "MIGRATION_PLANS_DIR",
        global = true,
        hide_env_values = true
    )]
    pub plans_dir: Option<PathBuf>,

    /// What to do with plans
    #[command(subcommand)]
    pub command: PlanCommand,
}

/// The plan subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Save a plan: migrations picked by number (on a terminal, interactively without --select)
    Create {
        /// The plan's name, also its file name: lowercase letters, digits, - and _
        name: String,
        /// Which migrations, by their number in `migrate status`: 1,3-7,9, or all
        #[arg(long, value_name = "NUMBERS")]
        select: Option<String>,
        /// What the plan is for
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List the saved plans with their state
    List,
    /// Show a plan's migrations and their state
    Show {
        /// The plan's name
        name: String,
    },
    /// Apply the plan's pending migrations as one batch, if everything they need is applied or
    /// in the plan
    Run {
        /// The plan's name
        name: String,
        /// Print the SQL, transaction boundaries and ledger writes; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
    /// Revert the plan's applied migrations, if nothing staying applied needs them
    Rollback {
        /// The plan's name
        name: String,
        /// Print the SQL, transaction boundaries and ledger writes; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Options of every schema change
        #[command(flatten)]
        change: Change,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_sound() {
        Cli::command().debug_assert();
    }
}

//! The `seed` command line: `seed [PROFILE]`, `seed truncate`, `seed status`.
//!
//! It reads its configuration as `migrate` does (flag, environment, `.env`, then the SQLite
//! default) and uses the engine's target, guard and confirmation code, so URLs are redacted and
//! refusals worded the same way. Results go to stdout, progress and errors to stderr; every
//! error is one line and one of the exit codes in [`EXIT_CODES`].

use std::process::ExitCode;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use migration::MigratorTrait;
use migration_engine::MigrationSet;
use migration_engine::cli::args::Format;
use migration_engine::cli::seed::LOCK_HOLDER_PID_VAR;
use migration_engine::guard::{self, Guard};
use migration_engine::ledger::Ledger;
use migration_engine::lock::{Identity, MigrationLock};
use migration_engine::target::{DEFAULT_DATABASE_URL, Target, redact_url};
use serde::Serialize;

use crate::error::SeedError;
use crate::profile::{DEFAULT_SEED, Params, Profile};
use crate::progress::Progress;
use crate::seeder::{Request, Seeder};

/// The exit codes, as `--help` and the README give them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success, including \"already seeded: nothing to do\"
  1  seeding failed while running (the load is rolled back)
  2  usage, configuration or connection error
  4  refused by validation: migrations pending, modified, missing or failed, or the tables hold
     rows the seeder did not write
  5  refused by a guard: APP_ENV=production, a database first migrated in production or in
     another environment, or a URL in MIGRATION_PROTECTED_URLS, without --force; a destructive
     run without --yes; or a cancelled confirmation";

/// Deterministic test data: seed a profile, empty the seeded tables, or show what is seeded.
#[derive(Debug, Parser)]
#[command(
    name = "seed",
    version,
    after_help = EXIT_CODES,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Database URL; defaults to the SQLite file `sqlite://dev.db?mode=rwc`
    #[arg(
        short = 'u',
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Database schema (PostgreSQL search path)
    #[arg(short = 's', long, env = "DATABASE_SCHEMA", global = true)]
    pub database_schema: Option<String>,

    /// Name of the migration ledger; seedings are recorded in `<name>_seeds`
    #[arg(long, env = "MIGRATION_TABLE", global = true)]
    pub migration_table: Option<String>,

    /// Schema of the ledger tables (PostgreSQL); defaults to the database schema
    #[arg(long, env = "MIGRATION_SCHEMA", global = true)]
    pub migration_schema: Option<String>,

    /// Output format of results on stdout
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,

    /// Run even where the guard refuses (APP_ENV=production, MIGRATION_PROTECTED_URLS)
    #[arg(long, global = true)]
    pub force: bool,

    /// Answer yes to confirmations (required for destructive runs without a terminal)
    #[arg(long, global = true)]
    pub yes: bool,

    /// Seconds to wait for the database connection
    #[arg(long, value_name = "SECS", default_value_t = 10, global = true)]
    pub connect_timeout: u64,

    /// Seconds to wait for the migration lock held by another run
    #[arg(
        long,
        value_name = "SECS",
        env = "MIGRATION_LOCK_TIMEOUT",
        default_value_t = 60,
        global = true
    )]
    pub lock_timeout: u64,

    /// What to seed
    #[command(flatten)]
    pub seed: SeedArgs,

    /// Another command instead of seeding
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `seed [PROFILE] ...`
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// The profile to seed
    #[arg(value_enum, default_value_t = Profile::Demo)]
    pub profile: Profile,

    /// How many times the demo shape the `load` profile generates (100: over a million
    /// timeslots)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub scale: Option<u32>,

    /// Seed of the random generator: the same seed, profile and date give the same rows
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// The day the data is generated around; defaults to today (UTC)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,

    /// Seed again even if already seeded, replacing whatever the seeded tables hold
    #[arg(long)]
    pub reseed: bool,
}

/// Commands other than seeding.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Empty the seeded tables (children first) and restart their ids; the schema, the
    /// migration ledger and its history stay
    Truncate,
    /// Show the newest recorded seeding and the rows per table now
    Status,
}

/// Parses the command line, runs it for migrator `M`, and returns the exit code.
pub fn main<M: MigratorTrait>() -> ExitCode {
    let env_error = migration_engine::cli::read_dotenv().err();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(e) = env_error {
        return fail(&e.into(), None);
    }
    migration_engine::cli::exit::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(run::<M>(cli))
    }));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(failure)) => fail(&failure.0, failure.1.as_ref()),
        Err(_) => ExitCode::from(1),
    }
}

/// Prints `error: …` on one line, without any password, and returns its exit code.
fn fail(error: &SeedError, target: Option<&Target>) -> ExitCode {
    let message = error.to_string();
    let message = match target {
        Some(t) => t.scrub(&message),
        None => redact_url(&message),
    };
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("error: {one_line}");
    ExitCode::from(error.exit_code())
}

type Failure = Box<(SeedError, Option<Target>)>;

async fn run<M: MigratorTrait>(cli: Cli) -> Result<(), Failure> {
    let url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let target = Target::new(
        &url,
        cli.database_schema.clone(),
        cli.migration_schema.clone(),
        cli.migration_table.clone(),
    )
    .map_err(|e| Box::new((SeedError::from(e), None)))?;
    let fail = |e: SeedError| Box::new((e, Some(target.clone())));
    let set = MigrationSet::from_migrator::<M>().map_err(|e| fail(e.into()))?;
    let ctx = Ctx {
        cli: &cli,
        target: &target,
        set: &set,
    };
    match &cli.command {
        None => ctx.seed().await,
        Some(Command::Truncate) => ctx.truncate().await,
        Some(Command::Status) => ctx.status().await,
    }
    .map_err(fail)
}

struct Ctx<'a> {
    cli: &'a Cli,
    target: &'a Target,
    set: &'a MigrationSet,
}

impl Ctx<'_> {
    async fn connect(&self) -> Result<Seeder, SeedError> {
        let conn = self
            .target
            .connect(Duration::from_secs(self.cli.connect_timeout))
            .await?;
        let ledger = Ledger::new(
            self.target.backend(),
            self.target
                .migration_schema
                .clone()
                .or(self.target.database_schema.clone()),
            self.target.migration_table.clone(),
        );
        Ok(Seeder::new(conn, ledger))
    }

    /// Takes the migration lock for `command`, unless the `migrate fresh --seed` that started
    /// this process holds it for us.
    async fn lock(
        &self,
        seeder: &Seeder,
        command: &str,
    ) -> Result<Option<MigrationLock>, SeedError> {
        if lock_held_by_parent() {
            return Ok(None);
        }
        let lock = MigrationLock::acquire(
            seeder.connection(),
            seeder.ledger(),
            &Identity::current(command),
            Duration::from_secs(self.cli.lock_timeout),
            |holder| eprintln!("waiting for the migration lock, held by {holder}"),
        )
        .await?;
        Ok(Some(lock))
    }

    /// The guard's verdict from what is known before connecting: `APP_ENV` and the URL.
    fn guard(&self, action: &str) -> Result<(), SeedError> {
        Ok(Guard::from_env(self.target, self.cli.force).check(action)?)
    }

    /// The guard's verdict once connected: also the environment the ledger recorded.
    async fn guard_database(&self, seeder: &Seeder, action: &str) -> Result<(), SeedError> {
        let stored = seeder.stored_environment(self.set).await?;
        Ok(Guard::from_env(self.target, self.cli.force)
            .with_stored_environment(stored)
            .check(action)?)
    }

    /// Writes a result to stdout. A reader that went away (`seed status | head`) is not this
    /// command's failure: the work is done, so the rest of the output is dropped quietly.
    fn print<T: Serialize + std::fmt::Display>(&self, result: &T) {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let _ = match self.cli.format {
            Format::Json => match serde_json::to_string_pretty(result) {
                Ok(text) => writeln!(stdout, "{text}"),
                Err(e) => {
                    eprintln!("error: cannot encode the result as JSON: {e}");
                    Ok(())
                }
            },
            Format::Text => write!(stdout, "{result}"),
        };
    }

    async fn seed(&self) -> Result<(), SeedError> {
        let args = &self.cli.seed;
        if args.scale.is_some() && args.profile != Profile::Load {
            return Err(SeedError::Usage {
                message: format!(
                    "--scale applies to the `load` profile only; run `seed load --scale N`, or `seed {}` without it",
                    args.profile
                ),
            });
        }
        let request = Request {
            params: Params {
                profile: args.profile,
                seed: args.seed.unwrap_or(DEFAULT_SEED),
                scale: args.scale.unwrap_or(1),
                today: args
                    .today
                    .unwrap_or_else(|| chrono::Utc::now().date_naive()),
            },
            reseed: args.reseed,
            today_given: args.today.is_some(),
        };
        let action = format!("seed the `{}` profile", args.profile);
        self.guard(&action)?;
        let seeder = self.connect().await?;
        let lock = self
            .lock(&seeder, &format!("seed {}", args.profile))
            .await?;
        let seeded = self.seed_locked(&seeder, &request, &action).await;
        released(lock, seeded).await
    }

    async fn seed_locked(
        &self,
        seeder: &Seeder,
        request: &Request,
        action: &str,
    ) -> Result<(), SeedError> {
        let args = &self.cli.seed;
        self.guard_database(seeder, action).await?;
        seeder.check_migrated(self.set).await?;
        let plan = seeder.plan(request).await?;
        if args.reseed && plan.replaces() > 0 {
            guard::confirm(
                &format!(
                    "--reseed replaces the {} rows of the seeded tables with the `{}` profile",
                    plan.replaces(),
                    args.profile
                ),
                self.target,
                self.cli.yes,
            )?;
        }
        let report = seeder.execute(request, plan, &Progress::auto()).await?;
        self.print(&report);
        Ok(())
    }

    async fn truncate(&self) -> Result<(), SeedError> {
        self.guard("empty the seeded tables")?;
        let seeder = self.connect().await?;
        let lock = self.lock(&seeder, "seed truncate").await?;
        let truncated = self.truncate_locked(&seeder).await;
        released(lock, truncated).await
    }

    async fn truncate_locked(&self, seeder: &Seeder) -> Result<(), SeedError> {
        self.guard_database(seeder, "empty the seeded tables")
            .await?;
        seeder.check_migrated(self.set).await?;
        let rows: u64 = seeder.counts().await?.iter().map(|(_, n)| n).sum();
        if rows > 0 {
            guard::confirm(
                &format!(
                    "empties the seeded tables ({rows} rows) and restarts their ids; the schema and the migration ledger stay"
                ),
                self.target,
                self.cli.yes,
            )?;
        }
        let report = seeder.truncate().await?;
        self.print(&report);
        Ok(())
    }

    async fn status(&self) -> Result<(), SeedError> {
        let seeder = self.connect().await?;
        let report = seeder.status().await?;
        self.print(&report);
        Ok(())
    }
}

/// Whether the process that started this one holds the migration lock for it (see
/// [`LOCK_HOLDER_PID_VAR`]). Only the direct child of that process may skip the lock, so a
/// variable leaked into another environment changes nothing.
fn lock_held_by_parent() -> bool {
    let Ok(pid) = std::env::var(LOCK_HOLDER_PID_VAR) else {
        return false;
    };
    #[cfg(unix)]
    {
        std::os::unix::process::parent_id().to_string() == pid.trim()
    }
    #[cfg(not(unix))]
    {
        !pid.trim().is_empty()
    }
}

/// Releases the lock after the work, keeping the work's error first.
async fn released<T>(
    lock: Option<MigrationLock>,
    result: Result<T, SeedError>,
) -> Result<T, SeedError> {
    let released = match lock {
        Some(lock) => lock.release().await,
        None => Ok(()),
    };
    let value = result?;
    released?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_sound() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_profile_and_the_subcommands_parse() {
        let cli = Cli::try_parse_from(["seed", "load", "--scale", "3", "--today", "2025-01-06"]);
        assert!(
            matches!(cli, Ok(ref c) if c.seed.profile == Profile::Load && c.seed.scale == Some(3))
        );
        let cli = Cli::try_parse_from(["seed"]);
        assert!(matches!(cli, Ok(ref c) if c.seed.profile == Profile::Demo && c.command.is_none()));
        let cli = Cli::try_parse_from(["seed", "truncate", "--yes"]);
        assert!(matches!(cli, Ok(ref c) if matches!(c.command, Some(Command::Truncate)) && c.yes));
        let cli = Cli::try_parse_from(["seed", "-u", "sqlite://x.db", "--force", "status"]);
        assert!(matches!(cli, Ok(ref c) if matches!(c.command, Some(Command::Status)) && c.force));
        let cli = Cli::try_parse_from(["seed", "-u", "sqlite://x.db", "minimal", "--reseed"]);
        assert!(matches!(cli, Ok(ref c) if c.seed.profile == Profile::Minimal && c.seed.reseed));
        assert!(Cli::try_parse_from(["seed", "nonsense"]).is_err());
        assert!(Cli::try_parse_from(["seed", "demo", "--today", "06/01/2025"]).is_err());
    }
}

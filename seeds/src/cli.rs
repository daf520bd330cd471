//! The `seed` command line: `seed [PROFILE]`, `seed truncate`, `seed status`; and the same
//! seeding run in process after `migrate fresh --seed PROFILE` ([`SeedAfterFresh`]).
//!
//! It reads its configuration as `migrate` does (flag, environment, `.env`, then the SQLite
//! default) and uses the engine's target, session (connection, migration lock, guard) and
//! confirmation code, so URLs are redacted and refusals worded the same way. It shares
//! `migrate`'s global options, main wrapper and error printer. Results go to stdout, progress and
//! errors to stderr; every error is an `error:` line (and a `caused by:` line for each cause that
//! adds to it) and one of the exit codes in [`EXIT_CODES`].

use std::process::ExitCode;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use migration_engine::backend::target::Target;
use migration_engine::cli::args::{BackupArgs, FleetArgs, Format, GlobalArgs};
use migration_engine::cli::confirm;
use migration_engine::cli::exit::{self, CliError, Failure};
use migration_engine::cli::exit_code;
use migration_engine::exec::guard::Guard;
use migration_engine::exec::operations::{AfterFresh, AfterFreshOutput, FreshReport, SeedRequest};
use migration_engine::exec::session::Session;
use migration_engine::store::ledger::Ledger;
use migration_engine::{EngineError, MigrationSet};
use sea_orm_migration::MigratorTrait;
use serde::Serialize;

use crate::error::SeedError;
use crate::profile::{DEFAULT_SEED, Params, Profile};
use crate::progress::Progress;
use crate::report::SeedReport;
use crate::seeder::{Plan, Request, Seeder};

/// The exit codes, as `--help` and the README give them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success, including \"already seeded: nothing to do\"
  1  seeding failed while running (the load is rolled back)
  2  usage, configuration or connection error
  3  lock not acquired within the timeout
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
    /// Where and how to connect, what to print, what to allow
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Whether to back up before `truncate` or `--reseed` replaces rows
    #[command(flatten)]
    pub backups: BackupArgs,

    /// What to seed
    #[command(flatten)]
    pub seed: SeedArgs,

    /// Which targets to seed, when more than one
    #[command(flatten)]
    pub fleet: FleetArgs,

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
    migration_engine::cli::entry::main(|cli: Cli| async move {
        run::<M>(cli).await.map(|()| exit_code::SUCCESS)
    })
}

async fn run<M: MigratorTrait>(cli: Cli) -> Result<(), Failure<SeedError>> {
    let target = cli
        .global
        .target()
        .map_err(|e| Box::new((SeedError::from(e), None)))?;
    let fail = |e: SeedError| Box::new((e, Some(target.clone())));
    let set = MigrationSet::from_migrator::<M>().map_err(|e| fail(EngineError::from(e).into()))?;
    if migration_engine::cli::fleet::requested(&cli.fleet).map_err(|e| fail(e.into()))? {
        return crate::fleet::run(&cli, &set, &target).await;
    }
    let ctx = Ctx {
        cli: &cli,
        target: &target,
        set: &set,
        yes: cli.global.yes,
        captured: None,
    };
    ctx.command().await.map_err(fail)
}

/// What one command runs with on one target.
pub(crate) struct Ctx<'a> {
    pub cli: &'a Cli,
    pub target: &'a Target,
    pub set: &'a MigrationSet,
    /// `--yes`, or the fleet's one confirmation.
    pub yes: bool,
    /// On a fleet, where results go instead of stdout: each as text and as JSON.
    pub captured: Option<std::sync::Mutex<Vec<(String, serde_json::Value)>>>,
}

impl Ctx<'_> {
    /// Runs the command line's command on this target.
    pub(crate) async fn command(&self) -> Result<(), SeedError> {
        match &self.cli.command {
            None => self.seed().await,
            Some(Command::Truncate) => self.truncate().await,
            Some(Command::Status) => self.status().await,
        }
    }

    /// A seeder on a connection of its own, for reading.
    async fn connect(&self) -> Result<Seeder, SeedError> {
        let conn = self
            .target
            .connect(Duration::from_secs(self.cli.global.connect_timeout))
            .await?;
        Ok(Seeder::new(conn, Ledger::of(self.target)))
    }

    /// A session running `command`: its connection, under the migration lock.
    async fn session(&self, command: &str) -> Result<Session, SeedError> {
        Ok(Session::open(
            self.target,
            &self.cli.global.session_options(command),
            |holder| {
                eprintln!(
                    "{}: waiting for the migration lock, held by {holder}",
                    self.target.redacted()
                )
            },
        )
        .await?)
    }

    /// The guard's verdict from what is known before connecting: `APP_ENV` and the URL.
    fn guard(&self, action: &str) -> Result<(), SeedError> {
        Ok(Guard::from_env(self.target, self.cli.global.force).check(action)?)
    }

    /// Writes a result to stdout. A reader that went away (`seed status | head`) is not this
    /// command's failure: the work is done, so the rest of the output is dropped quietly.
    fn print<T: Serialize + std::fmt::Display>(&self, result: &T) {
        use std::io::Write as _;
        if let Some(captured) = &self.captured {
            let json = serde_json::to_value(result).unwrap_or(serde_json::Value::Null);
            if let Ok(mut captured) = captured.lock() {
                captured.push((result.to_string(), json));
            }
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = match self.cli.global.format {
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
        self.guard(&seed_action(args.profile))?;
        let session = self.session(&format!("seed {}", args.profile)).await?;
        let seeded = self.seed_in(&session, &request).await;
        session.close(seeded).await
    }

    async fn seed_in(&self, session: &Session, request: &Request) -> Result<(), SeedError> {
        let args = &self.cli.seed;
        let (seeder, plan) = prepare(session, self.set, request).await?;
        if args.reseed && plan.replaces() > 0 {
            confirm::confirm(
                &format!(
                    "--reseed replaces the {} rows of the seeded tables with the `{}` profile",
                    plan.replaces(),
                    args.profile
                ),
                self.target,
                self.yes,
            )?;
        }
        if args.reseed && plan.replaces() > 0 {
            self.back_up(session, "seed --reseed").await?;
        }
        // On a fleet each target's bar would draw over the others': its summary says enough.
        let progress = if self.captured.is_some() {
            Progress::quiet()
        } else {
            Progress::auto()
        };
        let report = seeder.execute(request, plan, &progress).await?;
        self.print(&report);
        Ok(())
    }

    async fn truncate(&self) -> Result<(), SeedError> {
        self.guard(TRUNCATE_ACTION)?;
        let session = self.session("seed truncate").await?;
        let truncated = self.truncate_in(&session).await;
        session.close(truncated).await
    }

    async fn truncate_in(&self, session: &Session) -> Result<(), SeedError> {
        session.guard(TRUNCATE_ACTION).await?;
        let seeder = Seeder::new(session.connection().clone(), session.ledger().clone());
        seeder.check_migrated(self.set).await?;
        let rows: u64 = seeder.counts().await?.iter().map(|(_, n)| n).sum();
        if rows > 0 {
            confirm::confirm(
                &format!(
                    "empties the seeded tables ({rows} rows) and restarts their ids; the schema and the migration ledger stay"
                ),
                self.target,
                self.yes,
            )?;
        }
        if rows > 0 {
            self.back_up(session, "seed truncate").await?;
        }
        let report = seeder.truncate().await?;
        self.print(&report);
        Ok(())
    }

    /// Backs up before replacing rows, as `--backup`, `--no-backup` and `MIGRATION_BACKUP` say.
    async fn back_up(&self, session: &Session, command: &str) -> Result<(), SeedError> {
        let policy = self.cli.backups.policy()?;
        if policy.wanted(session).await? {
            migration_engine::exec::backup::take(session, &policy.dir, command).await?;
        }
        Ok(())
    }

    async fn status(&self) -> Result<(), SeedError> {
        let seeder = self.connect().await?;
        let report = seeder.status().await?;
        self.print(&report);
        Ok(())
    }
}

/// What the guard is asked about before seeding `profile`.
fn seed_action(profile: Profile) -> String {
    format!("seed the `{profile}` profile")
}

/// What the guard is asked about before `seed truncate`.
const TRUNCATE_ACTION: &str = "empty the seeded tables";

/// What every seeding does first in its session: the guard, judging also from the environment
/// the ledger recorded; the check that every migration is applied; the plan.
async fn prepare(
    session: &Session,
    set: &MigrationSet,
    request: &Request,
) -> Result<(Seeder, Plan), SeedError> {
    session.guard(&seed_action(request.params.profile)).await?;
    let seeder = Seeder::new(session.connection().clone(), session.ledger().clone());
    seeder.check_migrated(set).await?;
    let plan = seeder.plan(request).await?;
    Ok((seeder, plan))
}

/// `migrate fresh --seed PROFILE`: `seed PROFILE` run in process once `fresh` rebuilt the
/// schema, in the session `fresh` ran in, so under its lock; a project registers it with
/// `migration_engine::cli::run_with`.
///
/// It seeds as `seed PROFILE` does, with `fresh`'s `--random-seed` and `--today` when given
/// (else the default seed and today), scale 1, and reports a failure as `seed` does, on stderr,
/// before `fresh` ends with [`EngineError::SeedFailed`] and `seed`'s exit code.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeedAfterFresh;

/// The refusal of a `fresh --seed` profile that does not exist.
fn unknown_profile(request: &str) -> EngineError {
    EngineError::Config {
        message: format!("unknown seed profile `{request}`: use minimal, demo or load"),
    }
}

/// The seeding `request` asks for; `None` for a profile that does not exist.
fn seeding(request: &SeedRequest) -> Option<Request> {
    let profile = Profile::parse(&request.profile)?;
    let mut params = Params::new(
        profile,
        request
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
    );
    params.seed = request.seed.unwrap_or(DEFAULT_SEED);
    Some(Request {
        params,
        reseed: false,
        today_given: request.today.is_some(),
    })
}

#[async_trait::async_trait]
impl AfterFresh for SeedAfterFresh {
    fn check(&self, request: &SeedRequest) -> Result<(), EngineError> {
        match seeding(request) {
            Some(_) => Ok(()),
            None => Err(unknown_profile(&request.profile)),
        }
    }

    fn effect(&self, request: &SeedRequest) -> String {
        format!("seeds `{}`", request.profile)
    }

    fn done(&self, request: &SeedRequest) -> String {
        format!("seeded `{}`", request.profile)
    }

    /// The profile, the seed, the day and the generator's own sources decide every row.
    fn content(&self, request: &SeedRequest) -> Option<Vec<(String, String)>> {
        let params = seeding(request)?.params;
        Some(vec![
            ("profile".to_owned(), params.profile.name().to_owned()),
            ("seed".to_owned(), params.seed.to_string()),
            ("scale".to_owned(), params.scale.to_string()),
            ("today".to_owned(), params.today.to_string()),
            ("seeder".to_owned(), env!("SEEDS_SOURCE_DIGEST").to_owned()),
        ])
    }

    async fn run(
        &self,
        session: &Session,
        set: &MigrationSet,
        request: &SeedRequest,
        _fresh: &FreshReport,
    ) -> Result<AfterFreshOutput, EngineError> {
        let seeding = seeding(request).ok_or_else(|| unknown_profile(&request.profile))?;
        match seed_after_fresh(session, set, &seeding).await {
            Ok(report) => Ok(AfterFreshOutput {
                text: report.to_string(),
                json: serde_json::to_value(&report).map_err(|e| EngineError::Config {
                    message: format!("cannot encode the seeding report as JSON: {e}"),
                })?,
            }),
            Err(e) => {
                exit::report(&e, session.target());
                Err(EngineError::SeedFailed {
                    profile: request.profile.clone(),
                    code: CliError::exit_code(&e),
                })
            }
        }
    }
}

/// The seeding of [`SeedAfterFresh`]: nothing to confirm, as `fresh` confirmed the rebuild
/// and a freshly built schema holds no rows to replace.
async fn seed_after_fresh(
    session: &Session,
    set: &MigrationSet,
    request: &Request,
) -> Result<SeedReport, SeedError> {
    let (seeder, plan) = prepare(session, set, request).await?;
    seeder.execute(request, plan, &Progress::auto()).await
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
        assert!(
            matches!(cli, Ok(ref c) if matches!(c.command, Some(Command::Truncate)) && c.global.yes)
        );
        let cli = Cli::try_parse_from(["seed", "-u", "sqlite://x.db", "--force", "status"]);
        assert!(
            matches!(cli, Ok(ref c) if matches!(c.command, Some(Command::Status)) && c.global.force)
        );
        let cli = Cli::try_parse_from(["seed", "-u", "sqlite://x.db", "minimal", "--reseed"]);
        assert!(matches!(cli, Ok(ref c) if c.seed.profile == Profile::Minimal && c.seed.reseed));
        assert!(Cli::try_parse_from(["seed", "nonsense"]).is_err());
        assert!(Cli::try_parse_from(["seed", "demo", "--today", "06/01/2025"]).is_err());
    }
}

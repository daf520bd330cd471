//! The `migrate` command line. A project's `main` is one line:
//! `fn main() -> ExitCode { migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR")) }`,
//! or, for a project that declares dependencies, releases or consolidated migrations, a
//! [`Project`] handed to [`run`].
//!
//! Results go to stdout, logs and errors to stderr; every error becomes an `error:` line (and a
//! `caused by:` line for each cause that adds to it) and one of the documented exit codes in
//! [`exit_code`]. A project's other command lines (such as `seed`) share the global options
//! ([`args::GlobalArgs`]), the main wrapper ([`entry::main`]) and the error printer
//! ([`exit::report`]).

pub mod args;
pub mod confirm;
pub mod entry;
pub mod exit;
pub mod exit_code;
mod output;
mod picker;
mod plans;
pub mod seed;

use sea_orm_migration::MigratorTrait;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tracing::info;

use crate::authoring::create;
use crate::backend::lock::{Identity, MigrationLock};
use crate::backend::target::Target;
use crate::error::EngineError;
use crate::exec::guard::Guard;
use crate::exec::report::RunReport;
use crate::exec::{Engine, RepairAction, RunOptions};
use crate::model::project::{LoadedProject, Project};
use crate::model::releases::{ReleaseError, Releases};
use crate::model::set::MigrationId;
use crate::plan::{DownTarget, State, UpTarget};
use crate::schema::verify::{self, VerifyOptions};
use crate::store::ledger::Ledger;
use args::{Cli, Command};
pub use entry::read_dotenv;

/// What a command ended with, before it becomes an exit code.
pub(crate) enum Outcome {
    /// Success.
    Done,
    /// `check` found pending migrations.
    Pending,
    /// `check` found modified, missing or failed migrations.
    Invalid,
}

/// Parses the command line, runs the command for migrator `M`, and returns the exit code.
/// `crate_dir` is the migration crate's directory, where `create` looks last for `lib.rs`.
pub fn main<M: MigratorTrait>(crate_dir: &str) -> ExitCode {
    run(Project::new::<M>(crate_dir))
}

/// Parses the command line, runs the command for `project`, and returns the exit code.
pub fn run(project: Project) -> ExitCode {
    entry::main(|cli: Cli| {
        output::init_logging(cli.verbose);
        async move { execute(cli, project).await.map(exit::success) }
    })
}

type Failure = exit::Failure<EngineError>;

async fn execute(mut cli: Cli, project: Project) -> Result<Outcome, Failure> {
    let crate_dir = project.crate_dir().to_path_buf();
    let crate_dir = crate_dir.as_path();
    let command = cli.command.take().unwrap_or(Command::Up {
        num: None,
        to: None,
        to_release: None,
        dry_run: false,
        allow_out_of_order: false,
        single_transaction: false,
        change: args::Change::default(),
    });
    if let Command::Completions { shell } = &command {
        output::completions(*shell);
        return Ok(Outcome::Done);
    }
    if let Command::Create {
        name,
        migration_dir,
        ..
    } = &command
    {
        let dir = create::locate(migration_dir.as_deref(), Some(crate_dir))
            .map_err(|e| Box::new((e, None)))?;
        let file = create::create(&dir, name, create::now()).map_err(|e| Box::new((e, None)))?;
        output::created(cli.global.format, &file);
        return Ok(Outcome::Done);
    }
    // `fresh --seed` refuses before anything is touched when there is no `seed` to run after it.
    if let Command::Fresh {
        seed: Some(profile),
        ..
    } = &command
    {
        seed::SeedStep::locate(profile, cli.global.force).map_err(|e| Box::new((e, None)))?;
    }
    // The list and the project's declarations are checked before connecting: a duplicate or
    // misordered version, or a releases file that does not fit, never reaches the database.
    let project = project.load().map_err(|e| Box::new((e.into(), None)))?;
    // A releases file with `require_listed = true` wants every migration placed on purpose; the
    // commands that answer "is this ready to ship" say so, the others treat the rest as unreleased.
    if let (Command::Check | Command::Releases, Some(releases)) = (&command, &project.releases) {
        releases
            .check_listed()
            .map_err(|e| Box::new((EngineError::Release(e), None)))?;
    }
    let set = &project.set;
    if let Some(outcome) = offline(&cli, &command, &project)
        .await
        .map_err(|e| Box::new((e, None)))?
    {
        return Ok(outcome);
    }
    let target = cli.global.target().map_err(|e| Box::new((e, None)))?;
    let fail = |e: EngineError| Box::new((e, Some(target.clone())));
    // verify works on a scratch database of its own: the target is never connected to as a
    // migration target, and a SQLite target is never even opened.
    if let Command::Verify { from } = &command {
        let options = VerifyOptions {
            from: from.clone(),
            connect_timeout: Duration::from_secs(cli.global.connect_timeout),
        };
        let report = verify::verify_until(&target, set, &options, signal())
            .await
            .map_err(fail)?;
        output::verify(cli.global.format, &report);
        return Ok(if report.is_clean() {
            Outcome::Done
        } else {
            Outcome::Invalid
        });
    }
    let conn = target
        .connect(Duration::from_secs(cli.global.connect_timeout))
        .await
        .map_err(fail)?;
    let ledger = Ledger::new(
        target.backend(),
        target
            .migration_schema
            .clone()
            .or(target.database_schema.clone()),
        target.migration_table.clone(),
    );
    if !takes_lock(&command) {
        let engine = engine(conn, &project, ledger);
        let ctx = Ctx {
            cli: &cli,
            engine: &engine,
            target: &target,
            project: &project,
        };
        return ctx.dispatch(command).await.map_err(fail);
    }
    let interrupted_ledger = ledger.clone();
    let engine = engine(conn.clone(), &project, ledger.clone());
    // Every service start runs `up`; when nothing is pending that costs one read, no lock.
    let ctx = Ctx {
        cli: &cli,
        engine: &engine,
        target: &target,
        project: &project,
    };
    if ctx.up_to_date(&command).await {
        output::run(cli.global.format, &RunReport::default());
        return Ok(Outcome::Done);
    }
    let name = command_name(&command);
    let me = Identity::current(format!("migrate {name}"));
    let mut lock = MigrationLock::acquire(
        &conn,
        &ledger,
        &me,
        Duration::from_secs(cli.global.lock_timeout),
        |holder| eprintln!("waiting for the migration lock, held by {holder}"),
    )
    .await
    .map_err(fail)?;
    for sql in crate::backend::session_timeouts(
        target.backend(),
        cli.lock_timeout_ddl.map(Duration::from_secs),
        cli.statement_timeout.map(Duration::from_secs),
    ) {
        use sea_orm::ConnectionTrait;
        if let Err(e) = conn.execute_unprepared(&sql).await {
            let _ = lock.release().await;
            return Err(fail(EngineError::Config {
                message: format!("the server refused `{sql}`: {e}; drop the timeout option"),
            }));
        }
    }
    let session = session_id(&conn).await;
    if let Some(action) = destructive_action(&command) {
        let checked = match engine.stored_environment().await {
            Ok(stored) => Guard::from_env(&target, cli.global.force)
                .with_stored_environment(stored)
                .check(action),
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            let _ = lock.release().await;
            return Err(fail(e));
        }
    }
    let outcome = tokio::select! {
        outcome = ctx.dispatch(command) => outcome,
        signal = signal() => Err(interrupt(&mut lock, session, &interrupted_ledger, signal).await),
    };
    let released = lock.release().await;
    let outcome = outcome.map_err(fail)?;
    released.map_err(fail)?;
    Ok(outcome)
}

/// An engine for the project's migrations, dependencies and releases.
fn engine(
    conn: sea_orm::DatabaseConnection,
    project: &LoadedProject,
    ledger: Ledger,
) -> Engine<'_> {
    let engine = Engine::new(conn, &project.set, ledger).with_dependencies(&project.graph);
    match &project.releases {
        Some(releases) => engine.with_releases(releases),
        None => engine,
    }
}

/// Commands that need no database: `deps` and `squash`. `None` for the others.
async fn offline(
    cli: &Cli,
    command: &Command,
    project: &LoadedProject,
) -> Result<Option<Outcome>, EngineError> {
    match command {
        Command::Deps => {
            output::deps(cli.global.format, &project.graph.report(&project.set));
        }
        Command::Squash {
            to_release,
            name,
            migration_dir,
        } => {
            let dir = create::locate(migration_dir.as_deref(), Some(&project.crate_dir))?;
            let generated = crate::authoring::squash::generate(
                &project.set,
                releases(project)?,
                to_release,
                name,
                &dir,
                create::now(),
            )
            .await?;
            output::squashed(cli.global.format, &generated);
        }
        _ => return Ok(None),
    }
    Ok(Some(Outcome::Done))
}

/// The project's releases, or why there are none.
fn releases(project: &LoadedProject) -> Result<&Releases, EngineError> {
    project
        .releases
        .as_ref()
        .ok_or(EngineError::Release(ReleaseError::NoReleases))
}

/// Where plan files live: `--plans-dir` (`MIGRATION_PLANS_DIR`), else `plans/` in the migration
/// crate found as `create` finds it, else `plans/` in the crate directory the binary was built
/// from.
fn plans_dir(given: Option<&Path>, crate_dir: &Path) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_path_buf();
    }
    create::locate(None, Some(crate_dir))
        .ok()
        .and_then(|src| src.parent().map(|p| p.join("plans")))
        .unwrap_or_else(|| crate_dir.join("plans"))
}

/// Whether a command changes the schema, the ledger or data, and so runs under the lock.
fn takes_lock(command: &Command) -> bool {
    match command {
        Command::Up { dry_run, .. }
        | Command::Down { dry_run, .. }
        | Command::Fresh { dry_run, .. }
        | Command::Baseline { dry_run, .. } => !dry_run,
        Command::Plan(args::PlanArgs {
            command:
                args::PlanCommand::Run { dry_run, .. } | args::PlanCommand::Rollback { dry_run, .. },
            ..
        }) => !dry_run,
        Command::Reset { .. }
        | Command::Refresh { .. }
        | Command::Redo { .. }
        | Command::Repair { .. }
        | Command::Adopt => true,
        _ => false,
    }
}

/// What a destructive command does, for the guard's refusal; `None` for the others.
///
/// `baseline` writes the ledger but is not here: it changes no schema and no data, starts a
/// ledger only where there is none, and exists to bring existing (often production) databases
/// under the ledger; it asks for confirmation instead (see `Engine::baseline`).
fn destructive_action(command: &Command) -> Option<&'static str> {
    match command {
        Command::Down { dry_run: false, .. }
        | Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Rollback { dry_run: false, .. },
            ..
        }) => Some("revert migrations"),
        Command::Reset { .. } => Some("revert every migration"),
        Command::Refresh { .. } => Some("revert and re-apply every migration"),
        Command::Fresh { dry_run: false, .. } => {
            Some("drop every object and re-apply every migration")
        }
        Command::Redo { .. } => Some("revert and re-apply migrations"),
        Command::Repair { .. } => Some("rewrite the ledger"),
        _ => None,
    }
}

/// The subcommand's name, for the lock holder's description.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Up { .. } => "up",
        Command::Down { .. } => "down",
        Command::Fresh { .. } => "fresh",
        Command::Reset { .. } => "reset",
        Command::Refresh { .. } => "refresh",
        Command::Redo { .. } => "redo",
        Command::Repair { .. } => "repair",
        Command::Adopt => "adopt",
        Command::Baseline { .. } => "baseline",
        Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Run { .. },
            ..
        }) => "plan run",
        Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Rollback { .. },
            ..
        }) => "plan rollback",
        _ => "migrate",
    }
}

/// The server's id for the migration connection, so an interrupt can cancel its statement.
async fn session_id(conn: &sea_orm::DatabaseConnection) -> Option<i64> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT CAST(pg_backend_pid() AS bigint) AS id",
        DbBackend::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED) AS id",
        _ => return None,
    };
    conn.query_one_raw(Statement::from_string(backend, sql))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i64>("", "id").ok())
}

/// Stops a run on SIGINT/SIGTERM: cancels the migration's statement from the lock's
/// connection, so PostgreSQL rolls its transaction back at once (SQLite's goes with the
/// process), and on MySQL/MariaDB marks the migration that was running as failed. The lock is
/// released by the caller.
async fn interrupt(
    lock: &mut MigrationLock,
    session: Option<i64>,
    ledger: &Ledger,
    signal: &'static str,
) -> EngineError {
    let mut cleanup = Vec::new();
    if let Some(session) = session {
        match lock.cancel(session).await {
            Ok(()) => cleanup.push("the running statement was cancelled"),
            Err(_) => cleanup.push("the running statement could not be cancelled"),
        }
    }
    if ledger.backend() == sea_orm::DbBackend::MySql {
        let mark = ledger
            .fail_running(&format!("interrupted by {signal}"))
            .to_string(sea_orm::sea_query::MysqlQueryBuilder);
        if lock.execute(&mark).await.is_ok() {
            cleanup.push(
                "a migration that had started is marked failed: inspect the schema, then run `migrate repair`",
            );
        }
    } else if ledger.backend() == sea_orm::DbBackend::Sqlite {
        cleanup.push("this run's migrations were rolled back (on SQLite they commit together)");
    } else {
        cleanup.push("the migration in progress was rolled back");
    }
    cleanup.push("the lock is released");
    EngineError::Interrupted {
        signal,
        cleanup: cleanup.join("; "),
    }
}

/// Resolves with the name of the first SIGINT or SIGTERM, so a long command can clean up before
/// it stops; never resolves where signals cannot be listened to.
async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(_) => std::future::pending().await,
        }
    }
}

struct Ctx<'a> {
    cli: &'a Cli,
    engine: &'a Engine<'a>,
    target: &'a Target,
    project: &'a LoadedProject,
}

fn version_arg(typed: &str) -> Result<String, EngineError> {
    MigrationId::normalise_version(typed).ok_or_else(|| EngineError::UnknownVersion {
        version: typed.to_owned(),
    })
}

impl Ctx<'_> {
    fn options(&self, change: &args::Change) -> RunOptions {
        RunOptions {
            reason: change.reason.clone(),
            confirmed_missing: self.cli.global.yes,
            plan: None,
            single_transaction: false,
        }
    }

    /// Asks before a destructive command; without a terminal, `--yes` is required.
    fn confirm(&self, effect: &str) -> Result<(), EngineError> {
        confirm::confirm(effect, self.target, self.cli.global.yes)
    }

    /// [`Self::confirm`], showing `details` on the terminal before the question.
    fn confirm_listed(&self, details: &str, effect: &str) -> Result<(), EngineError> {
        confirm::confirm_listed(details, effect, self.target, self.cli.global.yes)
    }

    async fn applied_count(&self) -> Result<usize, EngineError> {
        let status = self.engine.status().await?;
        Ok(status
            .migrations
            .iter()
            .filter(|m| m.state != State::Pending)
            .count())
    }

    /// Asks before a revert that leaves nothing applied, as `down --all` does.
    async fn confirm_if_everything(&self, target: &DownTarget) -> Result<(), EngineError> {
        let n = self.applied_count().await?;
        if n > 0 && self.engine.planned_down(target).await?.len() >= n {
            self.confirm(&format!(
                "reverts {n} migration(s); the schema will be empty"
            ))?;
        }
        Ok(())
    }

    pub(super) async fn down(
        &self,
        target: DownTarget,
        options: RunOptions,
    ) -> Result<RunReport, EngineError> {
        match self.engine.down(&target, &options).await {
            Err(EngineError::MissingNeedsConfirmation { versions })
                if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() =>
            {
                let script = self.engine.dry_run_down(&target, &options).await?;
                eprintln!("{script}");
                self.confirm(&format!(
                    "reverts {} migration(s) that are not in the code, with the SQL above",
                    versions.len()
                ))?;
                let confirmed = RunOptions {
                    confirmed_missing: true,
                    ..options
                };
                self.engine.down(&target, &confirmed).await
            }
            other => other,
        }
    }

    /// What `up` is asked to reach; `None` when `--to-release` names releases that hold no
    /// migrations, so there is nothing to apply.
    fn up_target(
        &self,
        num: Option<u32>,
        to: Option<&str>,
        to_release: Option<&str>,
        allow_out_of_order: bool,
    ) -> Result<Option<UpTarget>, EngineError> {
        let to = match to_release {
            Some(typed) => {
                let releases = releases(self.project)?;
                match releases.last_migration_through(releases.get(typed)?) {
                    Some(last) => Some(last.to_owned()),
                    None => return Ok(None),
                }
            }
            None => to.map(version_arg).transpose()?,
        };
        Ok(Some(UpTarget {
            steps: num,
            to,
            allow_out_of_order,
            only: None,
        }))
    }

    /// Whether `command` is an `up` with nothing to apply, judged from one read of the ledger
    /// without the lock. The ledger changes only under the lock, so a read in which everything
    /// asked for is applied stays true; anything else (pending, running, a refusal) is decided
    /// again under the lock.
    async fn up_to_date(&self, command: &Command) -> bool {
        let Command::Up {
            num,
            to,
            to_release,
            dry_run: false,
            allow_out_of_order,
            single_transaction,
            change,
        } = command
        else {
            return false;
        };
        match self.up_target(
            *num,
            to.as_deref(),
            to_release.as_deref(),
            *allow_out_of_order,
        ) {
            Ok(Some(target)) => {
                let options = RunOptions {
                    single_transaction: *single_transaction,
                    ..self.options(change)
                };
                self.engine.up_to_date(&target, &options).await
            }
            Ok(None) | Err(_) => false,
        }
    }

    async fn dispatch(&self, command: Command) -> Result<Outcome, EngineError> {
        let format = self.cli.global.format;
        match command {
            Command::Up {
                num,
                to,
                to_release,
                dry_run,
                allow_out_of_order,
                single_transaction,
                change,
            } => {
                let options = RunOptions {
                    single_transaction,
                    ..self.options(&change)
                };
                let Some(target) = self.up_target(
                    num,
                    to.as_deref(),
                    to_release.as_deref(),
                    allow_out_of_order,
                )?
                else {
                    output::run(format, &RunReport::default());
                    return Ok(Outcome::Done);
                };
                if dry_run {
                    output::script(format, &self.engine.dry_run_up(&target, &options).await?);
                } else {
                    output::run(format, &self.engine.up(&target, &options).await?);
                }
            }
            Command::Down {
                num,
                to,
                to_release,
                batch,
                all,
                dry_run,
                change,
            } => {
                let target = match (num, to, to_release, batch, all) {
                    (_, _, _, _, true) => DownTarget::All,
                    (_, Some(v), _, _, _) => DownTarget::To(version_arg(&v)?),
                    (_, _, Some(typed), _, _) => {
                        let releases = releases(self.project)?;
                        match releases.last_migration_through(releases.get(&typed)?) {
                            Some(keep) => DownTarget::To(keep.to_owned()),
                            None => DownTarget::All,
                        }
                    }
                    (_, _, _, Some(n), _) => DownTarget::Batch(n),
                    (n, None, None, None, false) => DownTarget::Steps(n.unwrap_or(1)),
                };
                if dry_run {
                    output::script(
                        format,
                        &self
                            .engine
                            .dry_run_down(&target, &self.options(&change))
                            .await?,
                    );
                } else {
                    if !matches!(target, DownTarget::Steps(_)) {
                        self.confirm_if_everything(&target).await?;
                    }
                    output::run(format, &self.down(target, self.options(&change)).await?);
                }
            }
            Command::Status => output::status(format, &self.engine.status().await?),
            Command::Check => {
                let status = self.engine.status().await?;
                output::status(format, &status);
                let invalid = status.count(State::Modified)
                    + status.count(State::Missing)
                    + status.count(State::Failed);
                if invalid > 0 {
                    return Ok(Outcome::Invalid);
                }
                if status.count(State::Pending) > 0 {
                    return Ok(Outcome::Pending);
                }
            }
            Command::History { limit } => {
                output::history(format, &self.engine.history(limit).await?, self.cli.verbose)
            }
            Command::Fresh {
                seed,
                dry_run,
                change,
            } => {
                let seed = seed
                    .as_deref()
                    .map(|profile| seed::SeedStep::locate(profile, self.cli.global.force))
                    .transpose()?;
                let listing = self.engine.fresh_listing().await?;
                if dry_run {
                    let applies: Vec<String> =
                        self.project.set.iter().map(|m| m.id.to_string()).collect();
                    output::fresh_plan(
                        format,
                        &listing,
                        &applies,
                        seed.as_ref().map(seed::SeedStep::profile),
                    );
                    return Ok(Outcome::Done);
                }
                if !listing.is_empty() {
                    let then = match &seed {
                        Some(step) => format!(", then seeds `{}`", step.profile()),
                        None => String::new(),
                    };
                    let details = format!(
                        "fresh drops these {} object(s) from {}:\n{listing}",
                        listing.len(),
                        self.target.redacted()
                    );
                    self.confirm_listed(
                        &details,
                        &format!(
                            "drops {}, and applies every migration{then}",
                            listing.summary()
                        ),
                    )?;
                }
                let started = Instant::now();
                let dropped = self.engine.drop_all().await?;
                info!(
                    "dropped {} object(s) in {:.2} s",
                    dropped.len(),
                    started.elapsed().as_secs_f64()
                );
                let started = Instant::now();
                let report = self
                    .engine
                    .up(&UpTarget::default(), &self.options(&change))
                    .await?;
                info!(
                    "applied {} migration(s) in {:.2} s",
                    report.steps.len(),
                    started.elapsed().as_secs_f64()
                );
                let Some(step) = seed else {
                    output::fresh(format, &listing, &report);
                    return Ok(Outcome::Done);
                };
                if format != args::Format::Json {
                    output::fresh(format, &listing, &report);
                }
                let started = Instant::now();
                let seeded = step.run(self.target, format, self.cli.global.connect_timeout)?;
                info!(
                    "seeded `{}` in {:.2} s",
                    step.profile(),
                    started.elapsed().as_secs_f64()
                );
                if let Some(seeded) = seeded {
                    output::fresh_seeded(&listing, &report, &seeded);
                }
            }
            Command::Reset { change } => {
                let n = self.applied_count().await?;
                if n > 0 {
                    self.confirm(&format!(
                        "reverts {n} migration(s); the schema will be empty"
                    ))?;
                }
                output::run(
                    format,
                    &self.down(DownTarget::All, self.options(&change)).await?,
                );
            }
            Command::Refresh { change } => {
                let n = self.applied_count().await?;
                if n > 0 {
                    self.confirm(&format!(
                        "reverts {n} migration(s), then applies every migration"
                    ))?;
                }
                let mut report = self.down(DownTarget::All, self.options(&change)).await?;
                report.extend(
                    self.engine
                        .up(&UpTarget::default(), &self.options(&change))
                        .await?,
                );
                output::run(format, &report);
            }
            Command::Redo { num, change } => {
                let mut report = self
                    .down(DownTarget::Steps(num), self.options(&change))
                    .await?;
                // A run applied through a consolidated migration is reverted whole, so apply
                // again as many migrations as went, not as many steps as were asked for.
                let reverted: usize = report.steps.iter().map(|s| s.migrations()).sum();
                let again = UpTarget {
                    steps: Some(u32::try_from(reverted).unwrap_or(u32::MAX)),
                    ..UpTarget::default()
                };
                report.extend(self.engine.up(&again, &self.options(&change)).await?);
                output::run(format, &report);
            }
            Command::Repair {
                mark_applied,
                remove,
                change,
            } => {
                let action = match (mark_applied, remove) {
                    (Some(v), _) => RepairAction::MarkApplied(v),
                    (None, Some(v)) => RepairAction::Remove(v),
                    (None, None) => RepairAction::Checksums,
                };
                output::repair(
                    format,
                    &self.engine.repair(&action, &self.options(&change)).await?,
                );
            }
            Command::Adopt => output::run(format, &self.engine.adopt().await?),
            Command::Baseline {
                to,
                dry_run,
                change,
            } => {
                let planned = self.engine.baseline_plan(to.as_deref()).await?;
                if dry_run {
                    output::baseline(format, &planned);
                    return Ok(Outcome::Done);
                }
                let details = format!(
                    "baseline records these {} migration(s) as applied in batch {} on {}, without running them:\n{}",
                    planned.baselined.len(),
                    planned.batch,
                    self.target.redacted(),
                    planned.list()
                );
                self.confirm_listed(&details, &planned.effect())?;
                let report = self
                    .engine
                    .baseline(to.as_deref(), &self.options(&change))
                    .await?;
                output::baseline(format, &report);
            }
            Command::Schema => output::schema(format, &self.engine.schema().await?),
            Command::Releases => {
                let report = crate::exec::releases::report(
                    releases(self.project)?,
                    &self.engine.status().await?,
                );
                output::releases(format, &report);
            }
            Command::Report => {
                let report = crate::exec::releases::report(
                    releases(self.project)?,
                    &self.engine.status().await?,
                );
                output::release_notes(format, &report);
            }
            Command::Plan(args) => {
                let dir = plans_dir(args.plans_dir.as_deref(), &self.project.crate_dir);
                self.plan(args.command, &crate::authoring::plans::PlanStore::new(dir))
                    .await?;
            }
            Command::Create { .. }
            | Command::Verify { .. }
            | Command::Deps
            | Command::Squash { .. }
            | Command::Completions { .. } => {}
        }
        Ok(Outcome::Done)
    }
}

//! The `migrate` command line. A project's `main` is one line:
//! `fn main() -> ExitCode { migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR")) }`,
//! or, for a project that declares dependencies, releases or consolidated migrations, a
//! [`Project`] handed to [`run`], or with hooks of its own (a seeder after `fresh`) to
//! [`run_with`].
//!
//! Every command that changes the database runs the library's operations in a session
//! ([`crate::exec::operations::Operations`]); the command line adds only its confirmations
//! (a hook before destructive operations), signal handling and printing.
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
pub mod fleet;
mod lint;
mod output;
mod picker;
mod plans;
mod seed;
mod sets;
mod targets;

use sea_orm_migration::MigratorTrait;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::authoring::create;
use crate::backend::target::Target;
use crate::error::EngineError;
use crate::exec::backup::{BackupPolicy, TakeBackup};
use crate::exec::operations::{CacheUse, Hooks, Operation, Operations, SeedRequest};
use crate::exec::report::RunReport;
use crate::exec::reset_cache::ResetCache;
use crate::exec::session::SessionOptions;
use crate::exec::{Engine, RepairAction, RunOptions, Ups};
use crate::model::project::{LoadedProject, Project};
use crate::model::releases::{ReleaseError, Releases};
use crate::model::sets::{LoadedSets, Sets};
use crate::plan::State;
use crate::schema::verify::{self, VerifyOptions};
use crate::store::ledger::Ledger;
use args::{Cli, Command};
pub use entry::read_dotenv;
use exit::CommandError;

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
    run_with(project, Hooks::new())
}

/// [`run`], with the project's `hooks`: a seeder after `fresh` (`fresh --seed PROFILE`), a
/// step before destructive commands. The command line's confirmation comes before them.
pub fn run_with(project: Project, hooks: Hooks) -> ExitCode {
    run_sets_with(vec![project], hooks)
}

/// [`run`] for a project of several named sets ([`crate::model::sets`]), in any order: they
/// run in the order their needs give.
pub fn run_sets(sets: Vec<Project>) -> ExitCode {
    run_sets_with(sets, Hooks::new())
}

/// [`run_sets`], with the project's `hooks` (see [`run_with`]).
pub fn run_sets_with(sets: Vec<Project>, hooks: Hooks) -> ExitCode {
    entry::main(|cli: Cli| {
        // A fleet reports each target on its progress line; the steps of thousands of targets
        // are there with `-v`.
        output::init_logging(cli.verbose, cli.fleet.requested());
        async move { execute(cli, sets, hooks).await.map(exit::success) }
    })
}

type Failure = exit::Failure<CommandError>;

fn usage(message: String) -> Failure {
    Box::new((EngineError::Config { message }.into(), None))
}

async fn execute(mut cli: Cli, projects: Vec<Project>, hooks: Hooks) -> Result<Outcome, Failure> {
    let command = cli.command.take().unwrap_or(Command::Up {
        num: None,
        to: None,
        to_release: None,
        dry_run: false,
        allow_out_of_order: false,
        single_transaction: false,
        lint: None,
        change: args::Change::default(),
    });
    if let Command::Completions { shell } = &command {
        output::completions(*shell);
        return Ok(Outcome::Done);
    }
    let unnamed = projects.len() == 1 && projects[0].set_name().is_none();
    if unnamed && !cli.sets.is_empty() {
        return Err(usage(format!(
            "unknown set `{}` in --set: this project has one list of migrations and no named sets; drop --set",
            cli.sets[0]
        )));
    }
    if let Command::Create {
        name,
        migration_dir,
        ..
    } = &command
    {
        let (file, list) = create_in(&cli, &projects, name, migration_dir.as_deref())
            .map_err(|e| Box::new((e.into(), None)))?;
        output::created(cli.global.format, &file, list);
        return Ok(Outcome::Done);
    }
    // `fresh --seed` refuses before anything is touched when there is nothing to seed with.
    if let Some(request) = seed_request(&command) {
        hooks
            .check_after_fresh(&request)
            .map_err(|e| Box::new((e.into(), None)))?;
    }
    // The lists, the sets and the project's declarations are checked before connecting: a
    // duplicate or misordered version, a cycle between sets, or a releases file that does not
    // fit, never reaches the database.
    let loaded = Sets::new(projects)
        .load()
        .map_err(|e| Box::new((EngineError::from(e).into(), None)))?;
    let mut target = cli
        .global
        .target()
        .map_err(|e| Box::new((e.into(), None)))?;
    if let Command::Restore {
        into: Some(url), ..
    } = &command
    {
        target = Target::new(
            url,
            target.database_schema.clone(),
            target.migration_schema.clone(),
            Some(target.migration_table.clone()),
        )
        .map_err(|e| Box::new((e.into(), None)))?;
    }
    if fleet::requested(&cli.fleet).map_err(|e| Box::new((e.into(), None)))? {
        return match loaded {
            LoadedSets::Single(project) => {
                fleet::execute(&cli, command, &project, target, hooks).await
            }
            LoadedSets::Named(_) => Err(usage(
                "a fleet runs one list of migrations, and this project has several sets: run each set's own `migrate` binary on its fleet, or drop --targets, --schemas and --targets-query".to_owned(),
            )),
        };
    }
    let sets = match loaded {
        LoadedSets::Single(project) => {
            return execute_project(&cli, command, &project, target, Vec::new(), hooks).await;
        }
        LoadedSets::Named(sets) => sets,
    };
    let chosen = sets::selected(&cli, &sets)?;
    let related = |i: usize| {
        chosen.contains(&i)
            || chosen.iter().any(|&c| {
                sets[c].needs.iter().any(|n| n.set == sets[i].name)
                    || sets[i].needs.iter().any(|n| n.set == sets[c].name)
            })
    };
    let mut targets = Vec::with_capacity(sets.len());
    for (i, set) in sets.iter().enumerate() {
        match crate::exec::sets::resolve(set, &target, |v| std::env::var(v).ok()) {
            Ok(t) => targets.push(t),
            // A set this command never touches may lack its URL.
            Err(_) if !related(i) => targets.push(target.clone()),
            Err(e) => return Err(Box::new((e.into(), None))),
        }
    }
    crate::exec::sets::publish(sets.iter().zip(&targets));
    if sets::across_sets(&command) {
        return sets::AcrossSets {
            cli: &cli,
            sets: &sets,
            targets: &targets,
            selected: chosen,
            hooks,
        }
        .run(command)
        .await;
    }
    let index = sets::single(&cli, command_name(&command), &sets)?;
    sets::check_single(&cli, &command, &sets, &targets, index).await?;
    let target = targets[index].clone();
    let siblings = sets::ledgers(&targets);
    execute_project(&cli, command, &sets[index].project, target, siblings, hooks).await
}

/// `migrate create`: the module goes into the set `--set` names (its `source_dir`, listed in
/// its `mod.rs`), or, for a project of one list, beside `lib.rs`.
fn create_in(
    cli: &Cli,
    projects: &[Project],
    name: &str,
    migration_dir: Option<&Path>,
) -> Result<(PathBuf, &'static str), EngineError> {
    let first = projects.first().map(|p| p.crate_dir().to_path_buf());
    let crate_dir = first.as_deref();
    if projects.len() == 1 && projects[0].set_name().is_none() {
        let dir = create::locate(migration_dir, crate_dir)?;
        return Ok((create::create(&dir, name, create::now())?, "lib.rs"));
    }
    let names: Vec<&str> = projects.iter().filter_map(Project::set_name).collect();
    let chosen = match cli.sets.as_slice() {
        [one] => projects.iter().find(|p| p.set_name() == Some(one.as_str())),
        _ => None,
    };
    let Some(project) = chosen else {
        return Err(EngineError::Config {
            message: match cli.sets.as_slice() {
                [one] => format!(
                    "unknown set `{one}` in --set: this project's sets are {}",
                    names.join(", ")
                ),
                _ => format!(
                    "`migrate create` writes into one set: add `--set NAME` (one of {})",
                    names.join(", ")
                ),
            },
        });
    };
    let dir = match (migration_dir, project.set_source_dir()) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(dir)) => project.crate_dir().join(dir),
        (None, None) => create::locate(None, Some(project.crate_dir()))?,
    };
    let list = if dir.join("mod.rs").is_file() {
        "mod.rs"
    } else {
        "lib.rs"
    };
    Ok((
        create::create_listed(&dir, list, name, create::now())?,
        list,
    ))
}

/// What `fresh --seed` asks of the seeder, if that is the command.
fn seed_request(command: &Command) -> Option<SeedRequest> {
    match command {
        Command::Fresh {
            seed: Some(profile),
            random_seed,
            today,
            ..
        } => Some(SeedRequest {
            profile: profile.clone(),
            seed: *random_seed,
            today: *today,
        }),
        _ => None,
    }
}

/// Whether `command` may use the reset cache: `fresh --seed` that changes something, not told
/// `--no-cache`, with `MIGRATION_RESET_CACHE` unset or `on`.
///
/// # Errors
/// [`EngineError::Config`] for a `MIGRATION_RESET_CACHE` that is neither `on` nor `off`.
fn uses_reset_cache(command: &Command) -> Result<bool, EngineError> {
    let asked = matches!(
        command,
        Command::Fresh {
            seed: Some(_),
            dry_run: false,
            no_cache: false,
            ..
        }
    );
    let setting = std::env::var("MIGRATION_RESET_CACHE").unwrap_or_default();
    match setting.trim().to_ascii_lowercase().as_str() {
        "" | "on" => Ok(asked),
        "off" => Ok(false),
        _ => Err(EngineError::Config {
            message: format!(
                "MIGRATION_RESET_CACHE=`{setting}` is not a setting: use on (the default) or off"
            ),
        }),
    }
}

/// `migrate cache list|clear`.
async fn cache_command(
    cli: &Cli,
    action: args::CacheAction,
    target: &Target,
) -> Result<(), EngineError> {
    let timeout = Duration::from_secs(cli.global.connect_timeout);
    if let args::CacheAction::Sweep = action {
        ResetCache::sweep(target, timeout).await?;
        return Ok(());
    }
    let Some(cache) = ResetCache::open(target, timeout).await? else {
        output::no_reset_cache(cli.global.format, target.backend());
        return Ok(());
    };
    let result = match action {
        args::CacheAction::List => cache
            .entries()
            .await
            .map(|entries| output::cache_list(cli.global.format, &entries)),
        args::CacheAction::Clear => cache
            .clear()
            .await
            .map(|removed| output::cache_cleared(cli.global.format, &removed)),
        args::CacheAction::Sweep => Ok(()),
    };
    cache.close().await;
    result
}

/// Runs `command` on one project (a project of one list, or one set of several) on `target`.
async fn execute_project(
    cli: &Cli,
    command: Command,
    project: &LoadedProject,
    target: Target,
    siblings: Vec<String>,
    hooks: Hooks,
) -> Result<Outcome, Failure> {
    // A releases file with `require_listed = true` wants every migration placed on purpose; the
    // commands that answer "is this ready to ship" say so, the others treat the rest as unreleased.
    if let (Command::Check | Command::Releases, Some(releases)) = (&command, &project.releases) {
        releases
            .check_listed()
            .map_err(|e| Box::new((EngineError::Release(e).into(), None)))?;
    }
    let set = &project.set;
    if let Command::Lint(args) = &command
        && !args.pending
    {
        return lint::command(cli, project, &target, args, None)
            .await
            .map_err(|e| Box::new((e, Some(target.clone()))));
    }
    if let Some(outcome) = offline(cli, &command, project)
        .await
        .map_err(|e| Box::new((e.into(), None)))?
    {
        return Ok(outcome);
    }
    let fail = |e: CommandError| Box::new((e, Some(target.clone())));
    // verify works on a scratch database of its own: the target is never connected to as a
    // migration target, and a SQLite target is never even opened.
    if let Command::Verify { from } = &command {
        let options = VerifyOptions {
            from: from.clone(),
            connect_timeout: Duration::from_secs(cli.global.connect_timeout),
        };
        let report = verify::verify_until(&target, set, &options, signal())
            .await
            .map_err(|e| fail(e.into()))?;
        output::verify(cli.global.format, &report);
        return Ok(if report.is_clean() {
            Outcome::Done
        } else {
            Outcome::Invalid
        });
    }
    if let Command::Cache { action } = &command {
        cache_command(cli, *action, &target)
            .await
            .map_err(|e| fail(e.into()))?;
        return Ok(Outcome::Done);
    }
    // The reset cache is opened before the target is connected to: on PostgreSQL it waits for
    // another reset of the database, which may drop it under the connections it ends.
    let cache = if uses_reset_cache(&command).map_err(|e| fail(e.into()))? {
        ResetCache::open(&target, Duration::from_secs(cli.global.connect_timeout))
            .await
            .map_err(|e| fail(e.into()))?
    } else {
        None
    };
    // The migrations render (for their checksums) while the server starts the session.
    let (connected, ups) = tokio::join!(
        target.connect(Duration::from_secs(cli.global.connect_timeout)),
        Ups::render(&project.set, target.backend())
    );
    let conn = match connected {
        Ok(conn) => conn,
        Err(e) => {
            if let Some(cache) = cache {
                cache.close().await;
            }
            return Err(fail(e.into()));
        }
    };
    let engine =
        engine(conn, project, Ledger::of(&target).with_siblings(siblings)).with_rendered(ups);
    let ctx = Ctx {
        cli,
        engine: &engine,
        ops: None,
        target: &target,
        project,
    };
    let Some(operation) = operation(&command) else {
        return ctx.dispatch(command).await.map_err(fail);
    };
    // Every service start runs `up`; when nothing is pending that costs one read, no lock.
    if ctx.up_to_date(&command).await {
        output::run(cli.global.format, &RunReport::default());
        return Ok(Outcome::Done);
    }
    // `up --lint` (MIGRATION_LINT) lints what is pending before the session: a refusal leaves
    // the database untouched and unlocked.
    if let Command::Up {
        dry_run: false,
        lint: mode,
        ..
    } = &command
    {
        let mode = lint::mode(*mode).map_err(|e| fail(e.into()))?;
        if mode != args::LintMode::Off {
            let status = ctx.engine.status().await.map_err(|e| fail(e.into()))?;
            lint::before_up(cli, project, &target, mode, lint::pending_of(&status))
                .await
                .map_err(fail)?;
        }
    }
    let options = SessionOptions {
        lock_timeout_ddl: cli.lock_timeout_ddl.map(Duration::from_secs),
        lock_retry: cli.lock_retry(),
        statement_timeout: cli.statement_timeout.map(Duration::from_secs),
        ..cli
            .global
            .session_options(format!("migrate {}", command_name(&command)))
    };
    let outcome = run_operation(
        cli,
        (operation, command),
        project,
        engine,
        &target,
        &options,
        hooks,
        cache.as_ref(),
    )
    .await;
    if let Some(cache) = cache {
        if cache.leaves_sweeping() {
            sweep_in_background(cli, &target);
        }
        cache.close().await;
    }
    outcome
}

/// Starts `migrate cache sweep` for `target` in a process of its own, which drops the database
/// a reset replaced once this one has ended: dropping a database waits for a checkpoint, which
/// takes longer than the reset. The URL goes through the environment, never the command line.
fn sweep_in_background(cli: &Cli, target: &Target) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = std::process::Command::new(exe);
    for set in &cli.sets {
        command.args(["--set", set]);
    }
    let spawned = command
        .args(["cache", "sweep"])
        .env("DATABASE_URL", target.url())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        tracing::warn!(
            "cannot start `migrate cache sweep` ({e}): `migrate cache clear` removes what it would have"
        );
    }
}

/// Opens the session of a command that changes the database, runs it, and closes the session.
#[allow(clippy::too_many_arguments)]
async fn run_operation<'a>(
    cli: &'a Cli,
    (operation, command): (Operation, Command),
    project: &'a LoadedProject,
    engine: Engine<'a>,
    target: &'a Target,
    options: &SessionOptions,
    hooks: Hooks,
    cache: Option<&'a ResetCache>,
) -> Result<Outcome, Failure> {
    let fail = |e: CommandError| Box::new((e, Some(target.clone())));
    let mut ops = Operations::on_engine(engine, target, options, |holder| {
        eprintln!("waiting for the migration lock, held by {holder}");
    })
    .await
    .map_err(|e| fail(e.into()))?
    .with_hooks(command_hooks(
        target,
        hooks,
        cli.backups.policy().map_err(|e| fail(e.into()))?,
        command_name(&command),
        cli.global.yes,
        cli.global.format,
    ));
    if let Some(cache) = cache {
        ops = ops.with_reset_cache(cache);
    }
    let outcome = async {
        if let Some(action) = operation.destructive() {
            ops.session().guard(action).await?;
        }
        let ctx = Ctx {
            cli,
            engine: ops.engine(),
            ops: Some(&ops),
            target,
            project,
        };
        ops.session()
            .interruptible(ctx.dispatch(command), signal())
            .await
    }
    .await;
    ops.close(outcome).await.map_err(fail)
}

/// An engine for the project's migrations, dependencies and releases, for reading.
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

/// The project's hooks with the command line's own: the confirmation before destructive work
/// (ahead of the project's, so nothing is done for a run the user declines), and the fresh
/// summary printed before the step after `fresh`, as the run goes.
fn command_hooks(
    target: &Target,
    project: Hooks,
    backup: BackupPolicy,
    command: &str,
    yes: bool,
    format: args::Format,
) -> Hooks {
    let hooks = project
        .before_destructive_first(Arc::new(TakeBackup::new(
            backup,
            format!("migrate {command}"),
        )))
        .before_destructive_first(Arc::new(confirm::Confirmations::new(target.clone(), yes)));
    match hooks.after_fresh_step().cloned() {
        Some(step) => hooks.after_fresh(Arc::new(seed::SummaryFirst::new(step, format))),
        None => hooks,
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

/// The newest migration through release `typed`, for `--to-release`; `None` when the releases
/// up to it hold no migrations.
fn release_end(project: &LoadedProject, typed: &str) -> Result<Option<String>, EngineError> {
    let releases = releases(project)?;
    Ok(releases
        .last_migration_through(releases.get(typed)?)
        .map(str::to_owned))
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

/// The operation a command performs, for the commands that change the schema, the ledger or
/// data and so run in a session, under the lock; `None` for the others (dry-runs included).
fn operation(command: &Command) -> Option<Operation> {
    match command {
        Command::Up { dry_run: false, .. }
        | Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Run { dry_run: false, .. },
            ..
        }) => Some(Operation::Up),
        Command::Down { dry_run: false, .. }
        | Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Rollback { dry_run: false, .. },
            ..
        }) => Some(Operation::Down),
        Command::Fresh { dry_run: false, .. } => Some(Operation::Fresh),
        Command::Baseline { dry_run: false, .. } => Some(Operation::Baseline),
        Command::Reset { .. } => Some(Operation::Reset),
        Command::Refresh { .. } => Some(Operation::Refresh),
        Command::Redo { .. } => Some(Operation::Redo),
        Command::Repair { .. } => Some(Operation::Repair),
        Command::Adopt => Some(Operation::Adopt),
        Command::Restore { .. } => Some(Operation::Restore),
        Command::Backup => Some(Operation::Backup),
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
        Command::Restore { .. } => "restore",
        Command::Backup => "backup",
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

/// What a command runs with: the engine for reads, and for a command that changes the
/// database, the operations of its session.
struct Ctx<'a> {
    cli: &'a Cli,
    engine: &'a Engine<'a>,
    ops: Option<&'a Operations<'a>>,
    target: &'a Target,
    project: &'a LoadedProject,
}

impl<'a> Ctx<'a> {
    fn options(&self, change: &args::Change) -> RunOptions {
        RunOptions {
            reason: change.reason.clone(),
            confirmed_missing: self.cli.global.yes,
            plan: None,
            single_transaction: false,
        }
    }

    /// The operations, for a command that changes the database. [`operation`] decides which
    /// commands run in a session, so a command that reaches here without one is a command
    /// [`operation`] does not list.
    fn ops(&self, command: &str) -> Result<&'a Operations<'a>, EngineError> {
        self.ops.ok_or_else(|| EngineError::Config {
            message: format!(
                "`migrate {command}` changes the database and runs only in a migration session"
            ),
        })
    }

    /// Asks before a destructive command, showing `details` on the terminal before the
    /// question; without a terminal, `--yes` is required.
    fn confirm_listed(&self, details: &str, effect: &str) -> Result<(), EngineError> {
        confirm::confirm_listed(details, effect, self.target, self.cli.global.yes)
    }

    /// The newest migration through release `typed`, for `--to-release`; `None` when the
    /// releases up to it hold no migrations.
    fn release_end(&self, typed: &str) -> Result<Option<String>, EngineError> {
        release_end(self.project, typed)
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
            ..
        } = command
        else {
            return false;
        };
        match targets::up_target(
            *num,
            to.as_deref(),
            to_release.as_deref(),
            *allow_out_of_order,
            &|typed| self.release_end(typed),
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

    async fn dispatch(&self, command: Command) -> Result<Outcome, CommandError> {
        let format = self.cli.global.format;
        match command {
            Command::Up {
                num,
                to,
                to_release,
                dry_run,
                allow_out_of_order,
                single_transaction,
                lint: _,
                change,
            } => {
                let options = RunOptions {
                    single_transaction,
                    ..self.options(&change)
                };
                let Some(target) = targets::up_target(
                    num,
                    to.as_deref(),
                    to_release.as_deref(),
                    allow_out_of_order,
                    &|typed| self.release_end(typed),
                )?
                else {
                    output::run(format, &RunReport::default());
                    return Ok(Outcome::Done);
                };
                if dry_run {
                    output::script(format, &self.engine.dry_run_up(&target, &options).await?);
                } else {
                    output::run(format, &self.ops("up")?.up(&target, &options).await?);
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
                let target = targets::down_target(
                    num,
                    to.as_deref(),
                    to_release.as_deref(),
                    batch,
                    all,
                    &|typed| self.release_end(typed),
                )?;
                if dry_run {
                    output::script(
                        format,
                        &self
                            .engine
                            .dry_run_down(&target, &self.options(&change))
                            .await?,
                    );
                } else {
                    let report = self
                        .ops("down")?
                        .down(&target, &self.options(&change))
                        .await?;
                    output::run(format, &report);
                }
            }
            Command::Status => output::status(format, &self.engine.status().await?),
            Command::Lint(args) => {
                let pending = lint::pending_of(&self.engine.status().await?);
                return lint::command(self.cli, self.project, self.target, &args, Some(pending))
                    .await;
            }
            Command::Check => {
                let status = self.engine.status().await?;
                output::status(format, &status);
                let invalid = status.count(State::Modified)
                    + status.count(State::Missing)
                    + status.count(State::Failed);
                if invalid > 0 {
                    return Ok(Outcome::Invalid);
                }
                // A migration another runner is applying now is not applied yet.
                if status.count(State::Pending) + status.count(State::Running) > 0 {
                    return Ok(Outcome::Pending);
                }
            }
            Command::History { limit } => {
                output::history(format, &self.engine.history(limit).await?, self.cli.verbose)
            }
            Command::Fresh {
                dry_run: true,
                ref seed,
                ..
            } => {
                let listing = self.engine.fresh_listing().await?;
                let applies: Vec<String> =
                    self.project.set.iter().map(|m| m.id.to_string()).collect();
                output::fresh_plan(format, &listing, &applies, seed.as_deref());
            }
            Command::Fresh { ref change, .. } => {
                let request = seed_request(&command);
                let mut report = self
                    .ops("fresh")?
                    .fresh(&self.options(change), request.as_ref())
                    .await?;
                if report.cache.is_none() && request.is_some() && uses_reset_cache(&command)? {
                    report.cache = Some(CacheUse::uncached(output::no_cache_reason(
                        self.target.backend(),
                    )));
                }
                match &report.after {
                    // The summary of the rebuild went out before the seeding (see
                    // `seed::SummaryFirst`); JSON is one document with both.
                    Some(after) => output::fresh_seeded(format, &report, after),
                    None => output::fresh(format, &report.dropped, &report.applied),
                }
            }
            Command::Reset { change } => {
                let report = self.ops("reset")?.reset(&self.options(&change)).await?;
                output::run(format, &report);
            }
            Command::Refresh { change } => {
                let report = self.ops("refresh")?.refresh(&self.options(&change)).await?;
                output::run(format, &report);
            }
            Command::Redo { num, change } => {
                let report = self.ops("redo")?.redo(num, &self.options(&change)).await?;
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
                let report = self
                    .ops("repair")?
                    .repair(&action, &self.options(&change))
                    .await?;
                output::repair(format, &report);
            }
            Command::Adopt => output::run(format, &self.ops("adopt")?.adopt().await?),
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
                    .ops("baseline")?
                    .baseline(to.as_deref(), &self.options(&change))
                    .await?;
                output::baseline(format, &report);
            }
            Command::Schema => output::schema(format, &self.engine.schema().await?),
            Command::Backup => {
                let policy = self.cli.backups.policy()?;
                let taken = self
                    .ops("backup")?
                    .backup(&policy.dir, "migrate backup")
                    .await?;
                output::backups(format, &policy.dir, std::slice::from_ref(&taken));
            }
            Command::Backups => {
                let policy = self.cli.backups.policy()?;
                let found = crate::backend::backup::list(&policy.dir, self.target);
                output::backups(format, &policy.dir, &found);
            }
            Command::Restore { file, .. } => {
                let report = self.ops("restore")?.restore(&file).await?;
                output::restored(format, &report, &self.target.redacted());
            }
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
            | Command::Cache { .. }
            | Command::Verify { .. }
            | Command::Deps
            | Command::Squash { .. }
            | Command::Completions { .. } => {}
        }
        Ok(Outcome::Done)
    }
}

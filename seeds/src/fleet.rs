//! `seed … --targets FILE` (or `--schemas GLOB`, `--targets-query SQL`): the same seeding,
//! truncation or status on every target of a fleet, `--parallel` at a time, through the
//! engine's fleet runner, each target in a session of its own. A destructive run (`truncate`,
//! `--reseed`) asks once for the whole fleet. Each target's result follows in the list's order,
//! under a line naming it (with `--format json`, one document), then a total; the exit code is
//! the first failed target's.

use std::time::Duration;

use migration_engine::MigrationSet;
use migration_engine::backend::fleet::FleetTarget;
use migration_engine::backend::target::Target;
use migration_engine::cli::args::Format;
use migration_engine::cli::exit::{CliError, Failure};
use migration_engine::cli::{confirm, fleet as cli_fleet};
use migration_engine::exec::fleet::{self, FleetOptions, Progress, TargetRun};
use serde_json::json;

use crate::cli::{Cli, Command, Ctx};
use crate::error::SeedError;

/// Runs the command line's command on every target of its fleet.
pub(crate) async fn run(
    cli: &Cli,
    set: &MigrationSet,
    base: &Target,
) -> Result<(), Failure<SeedError>> {
    let refuse = |e: SeedError| -> Failure<SeedError> { Box::new((e, None)) };
    let (targets, total) = cli_fleet::resolve(&cli.fleet, &cli.global, base)
        .await
        .map_err(|e| refuse(e.into()))?;
    if let Some(shard) = cli.fleet.shard {
        eprintln!(
            "shard {shard}: {} of the fleet's {total} target(s)",
            targets.len()
        );
    }
    let destructive = match cli.command {
        Some(Command::Truncate) => Some("empties the seeded tables"),
        None if cli.seed.reseed => Some("replaces the seeded tables' rows"),
        _ => None,
    };
    if let (Some(effect), Some(first)) = (destructive, targets.first()) {
        let effect = format!("{effect} on {} target(s), the first", targets.len());
        confirm::confirm(&effect, &first.target, cli.global.yes).map_err(|e| refuse(e.into()))?;
    }
    let parallel = cli
        .fleet
        .parallel
        .map_or_else(|| fleet::default_parallel(base.backend()), usize::from);
    let count = targets.len();
    let stop = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(_) => std::future::pending().await,
        }
    };
    let run = fleet::run(
        count,
        FleetOptions {
            parallel,
            fail_fast: cli.fleet.fail_fast,
        },
        stop,
        |progress| progress_line(progress, &targets),
        |i| one(cli, set, &targets[i].target),
    )
    .await;
    report(cli.global.format, &targets, &run.targets, run.duration);
    if let Some(signal) = run.interrupted {
        let e = migration_engine::EngineError::Interrupted {
            signal,
            cleanup: format!(
                "{} target(s) not started; re-run to seed the rest",
                run.not_started()
            ),
        };
        return Err(refuse(e.into()));
    }
    let failed: Vec<(String, u8)> = targets
        .iter()
        .zip(&run.targets)
        .filter_map(|(t, r)| match r {
            TargetRun::Ran { result: Err(e), .. } => Some((t.label(), e.exit_code())),
            _ => None,
        })
        .collect();
    match failed.first() {
        Some(&(_, code)) => {
            let names: Vec<String> = failed.iter().map(|(n, _)| n.clone()).collect();
            Err(refuse(SeedError::Fleet {
                failed: failed.len(),
                total: count,
                targets: names.join(", "),
                code,
            }))
        }
        None => Ok(()),
    }
}

type Captured = Vec<(String, serde_json::Value)>;

/// The command on one target, its results captured.
async fn one(cli: &Cli, set: &MigrationSet, target: &Target) -> Result<Captured, SeedError> {
    let ctx = Ctx {
        cli,
        target,
        set,
        yes: true,
        captured: Some(std::sync::Mutex::new(Vec::new())),
    };
    ctx.command().await?;
    Ok(ctx
        .captured
        .and_then(|c| c.into_inner().ok())
        .unwrap_or_default())
}

fn progress_line(progress: Progress, targets: &[FleetTarget]) {
    if let Progress::Finished {
        index,
        ok,
        duration,
    } = progress
    {
        eprintln!(
            "{} {} ({} ms)",
            if ok { "ok" } else { "failed" },
            targets[index].label(),
            duration.as_millis()
        );
    }
}

/// Each target's results in the list's order, then the total.
fn report(
    format: Format,
    targets: &[FleetTarget],
    runs: &[TargetRun<Captured, SeedError>],
    took: Duration,
) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let ok = runs
        .iter()
        .filter(|r| matches!(r, TargetRun::Ran { result: Ok(_), .. }))
        .count();
    let failed = runs.iter().filter(|r| r.failed()).count();
    if format == Format::Json {
        let entries: Vec<serde_json::Value> = targets
            .iter()
            .zip(runs)
            .map(|(t, r)| match r {
                TargetRun::Ran {
                    result: Ok(captured),
                    duration,
                } => json!({
                    "target": t.label(),
                    "result": "ok",
                    "duration_ms": duration.as_millis(),
                    "reports": captured.iter().map(|(_, j)| j.clone()).collect::<Vec<_>>(),
                }),
                TargetRun::Ran {
                    result: Err(e),
                    duration,
                } => json!({
                    "target": t.label(),
                    "result": "failed",
                    "duration_ms": duration.as_millis(),
                    "error": {"message": t.target.scrub(&e.message()), "exit_code": e.exit_code()},
                }),
                TargetRun::NotStarted => json!({"target": t.label(), "result": "not started"}),
            })
            .collect();
        let document = json!({
            "targets": entries,
            "total": {"targets": targets.len(), "ok": ok, "failed": failed,
                      "not_started": targets.len() - ok - failed, "duration_ms": took.as_millis()},
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
        return;
    }
    for (t, r) in targets.iter().zip(runs) {
        let _ = writeln!(out, "{}:", t.label());
        let _ = match r {
            TargetRun::Ran {
                result: Ok(captured),
                ..
            } => captured
                .iter()
                .try_for_each(|(text, _)| write!(out, "{text}")),
            TargetRun::Ran { result: Err(e), .. } => {
                writeln!(out, "  failed: {}", t.target.scrub(&e.message()))
            }
            TargetRun::NotStarted => writeln!(out, "  not started"),
        };
    }
    let _ = writeln!(
        out,
        "{} target(s): {ok} ok, {failed} failed, {} not started, in {:.2} s.",
        targets.len(),
        targets.len() - ok - failed,
        took.as_secs_f64()
    );
}

//! A fleet of PostgreSQL schemas (1,000 by default, `BENCH_FLEET_SCHEMAS`): the reference
//! schema's `up` over all of them with `migrate up --schemas 'tenant_*' --parallel 8`, against
//! the floor of the same SQL (what `--dry-run` prints for one schema, its ledger writes
//! included, with each schema's name in its copy) through the real `psql -X -1 -f`, one process
//! per schema, eight at a time; the same fleet again with nothing pending;
//! and the peak memory of the fleet's run against a run on one schema.
//!
//! Every run starts from a copy of one prepared database (`CREATE DATABASE … TEMPLATE`): the
//! extensions, which belong to a database and not to a schema, and the empty schemas.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Settings;
use crate::machine;
use crate::process::{command, median, timed, timed_peak};
use crate::servers::{Postgres, pg_client, psql_env};

/// How many targets run at once, for `migrate` and the floor alike.
const PARALLEL: usize = 8;

/// The name of the `i`th schema (from 1).
fn schema(i: usize) -> String {
    format!("tenant_{i:04}")
}

/// Runs the suite and returns its BENCHMARKS.md section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let count: usize = std::env::var("BENCH_FLEET_SCHEMAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let pg = Postgres::postgres(&s.postgres_url).await?;
    let version = pg.version().await;
    let work = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let pid = std::process::id();
    let template = format!("bench_fleet_{pid}_template");
    let template_url = pg.create(&template).await?;
    let mut setup = String::from(
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;\nCREATE EXTENSION IF NOT EXISTS btree_gist;\n",
    );
    for i in 1..=count {
        let _ = writeln!(setup, "CREATE SCHEMA {};", schema(i));
    }
    let setup_file = work.path().join("setup.sql");
    std::fs::write(&setup_file, setup).map_err(|e| format!("cannot write the setup: {e}"))?;
    timed(&mut psql(&template_url, None, &setup_file)?)?;
    // What one schema's `up` sends, transaction boundaries left to `psql -1`.
    let dry = crate::process::stdout_of(
        migrate(
            s,
            work.path(),
            &template_url,
            &["up", "--dry-run", "--format", "json"],
        )
        .env("DATABASE_SCHEMA", schema(1)),
    )?;
    // The dry run names the ledger's schema; each schema's copy names its own, written before
    // anything is timed.
    let script = statements(&dry)?;
    let scripts = work.path().join("scripts");
    std::fs::create_dir_all(&scripts).map_err(|e| format!("cannot make a directory: {e}"))?;
    for i in 1..=count {
        std::fs::write(
            scripts.join(format!("{}.sql", schema(i))),
            script.replace(&schema(1), &schema(i)),
        )
        .map_err(|e| format!("cannot write a script: {e}"))?;
    }

    let copy = |run: usize, who: &str| format!("bench_fleet_{pid}_{who}_{run}");
    let fleet_args = ["up", "--schemas", "tenant_*", "--parallel", "8"];
    let (mut ours, mut noop, mut floor, mut peaks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let runs = s.runs.max(1);
    for run in 0..runs {
        // Taking turns, the floor first on odd runs, so a drift of the machine hits both.
        for who in if run % 2 == 0 {
            ["ours", "floor"]
        } else {
            ["floor", "ours"]
        } {
            let name = copy(run, who);
            let url = copy_of(&pg, &template, &name).await?;
            if who == "ours" {
                let (secs, peak) = timed_peak(&mut migrate(s, work.path(), &url, &fleet_args))?;
                ours.push(secs);
                peaks.push(peak);
                noop.push(timed(&mut migrate(s, work.path(), &url, &fleet_args))?);
                eprintln!(
                    "fleet: run {}: migrate {:.1} s ({} KiB peak), nothing pending {:.2} s",
                    run + 1,
                    secs,
                    peak,
                    noop[noop.len() - 1]
                );
            } else {
                let secs = floor_run(&url, &scripts, count)?;
                floor.push(secs);
                eprintln!("fleet: run {}: psql per schema {:.1} s", run + 1, secs);
            }
            pg.drop(&name).await?;
        }
    }
    // One target alone: the memory a fleet is compared with.
    let single = copy(0, "single");
    let url = copy_of(&pg, &template, &single).await?;
    let (_, single_peak) =
        timed_peak(migrate(s, work.path(), &url, &["up"]).env("DATABASE_SCHEMA", schema(1)))?;
    pg.drop(&single).await?;
    pg.drop(&template).await?;

    Ok(section(
        &version,
        count,
        runs,
        Medians {
            ours: median(&ours),
            floor: median(&floor),
            noop: median(&noop),
            peak: median(&peaks.iter().map(|&p| p as f64).collect::<Vec<_>>()),
            single_peak: single_peak as f64,
        },
    ))
}

/// A new database `name` holding what `template` holds; its URL.
async fn copy_of(pg: &Postgres, template: &str, name: &str) -> Result<String, String> {
    pg.create_from(name, template).await
}

/// `migrate ARGS` (the release build beside the bench) on `url`.
fn migrate(s: &Settings, dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = command(&s.bin_dir.join("migrate"));
    cmd.args(args).current_dir(dir).env("DATABASE_URL", url);
    cmd
}

/// The real `psql` running `file` in one transaction on `url`, searching `schema` first.
fn psql(url: &str, schema: Option<&str>, file: &Path) -> Result<Command, String> {
    let mut cmd = command(&pg_client("psql"));
    cmd.envs(psql_env(url)?)
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file);
    if let Some(schema) = schema {
        cmd.env("PGOPTIONS", format!("-c search_path={schema}"));
    }
    Ok(cmd)
}

/// The floor: `psql -1 -f` of each schema's script (in `scripts`) once per schema, [`PARALLEL`]
/// processes at a time; the wall time of the whole fleet.
fn floor_run(url: &str, scripts: &Path, count: usize) -> Result<f64, String> {
    let next = AtomicUsize::new(1);
    let started = std::time::Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i > count {
                            return Ok(());
                        }
                        let file = scripts.join(format!("{}.sql", schema(i)));
                        timed(&mut psql(url, Some(&schema(i)), &file)?)?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().ok().and_then(Result::err))
            .collect()
    });
    match failures.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(started.elapsed().as_secs_f64()),
    }
}

/// The statements of a dry run's JSON, one a line and each ending with `;`, without the
/// transaction boundaries (`psql -1` makes one).
fn statements(dry_run: &[u8]) -> Result<String, String> {
    let script: serde_json::Value =
        serde_json::from_slice(dry_run).map_err(|e| format!("the dry run printed no JSON: {e}"))?;
    let mut sql = String::new();
    for statement in script["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|section| section["statements"].as_array().into_iter().flatten())
        .filter_map(|s| s.as_str())
        .filter(|s| !matches!(*s, "BEGIN" | "COMMIT"))
    {
        let statement = statement.trim_end();
        let _ = writeln!(
            sql,
            "{statement}{}",
            if statement.ends_with(';') { "" } else { ";" }
        );
    }
    if sql.is_empty() {
        return Err("the dry run printed no statements".to_owned());
    }
    Ok(sql)
}

/// The figures of the section, medians over the runs.
struct Medians {
    ours: f64,
    floor: f64,
    noop: f64,
    peak: f64,
    single_peak: f64,
}

fn section(version: &str, count: usize, runs: usize, m: Medians) -> String {
    let met = |ok: bool| if ok { "met" } else { "**not met**" };
    let ratio = m.ours / m.floor;
    let memory = m.peak / m.single_peak;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## A fleet of {} PostgreSQL schemas\n",
        crate::process::thousands(count as f64)
    );
    let _ = writeln!(
        out,
        "{version}. The reference schema (11 migrations) applied to {count} empty schemas of one database by `migrate up --schemas 'tenant_*' --parallel 8`, with its lock, ledger, history and checksums, against the floor: the SQL `migrate up --dry-run` prints for one schema, run by the real `psql -X -1 -f` ({}) once per schema with `search_path` set to it, eight processes at a time. Both start from a copy of one database holding the extensions and the empty schemas, and take turns; medians of {runs} run(s). Peak memory is the `migrate` process's high-water resident set (`VmHWM`), against `migrate up` on one schema.\n",
        pg_client("psql").display()
    );
    let _ = writeln!(out, "| | time | against | ratio | target |");
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    let _ = writeln!(
        out,
        "| `up`, {count} schemas | {:.1} s | {:.1} s (`psql -1 -f` per schema) | **{ratio:.2}×** | ≤ 1.2×: {} |",
        m.ours,
        m.floor,
        met(ratio <= 1.2)
    );
    let _ = writeln!(
        out,
        "| `up`, nothing pending | {:.2} s | | | ≤ 10 s: {} |",
        m.noop,
        met(m.noop <= 10.0)
    );
    let _ = writeln!(
        out,
        "| peak memory | {:.1} MiB | {:.1} MiB (one schema) | **{memory:.2}×** | ≤ 2×: {} |",
        m.peak / 1024.0,
        m.single_peak / 1024.0,
        met(memory <= 2.0)
    );
    let _ = writeln!(out);
    out.push_str(&machine::footer(
        "`bench/run.sh fleet` (`BENCH_FLEET_SCHEMAS` sets the fleet's size; `BENCH_POSTGRES_URL` names the server)",
    ));
    out
}

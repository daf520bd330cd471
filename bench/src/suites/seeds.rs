//! `seed load --scale N` (release build) on PostgreSQL and SQLite, against the fastest way each
//! database takes the same rows, measured in the same run:
//!
//! - PostgreSQL: the rows as `COPY` text files, loaded by `psql` with `\copy` in one transaction.
//! - SQLite: one transaction of prepared multi-row `INSERT`s over one sqlx connection, as many
//!   rows per statement as its 32,766 bind parameters allow.
//!
//! Every run, seed or floor, loads into a new database migrated by `migrate up`, so triggers,
//! checks, foreign keys and indexes cost the floors what they cost `seed`. Seed and floor runs
//! alternate, so a machine that slows down slows both.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use chrono::NaiveDate;
use sea_orm::sea_query::Value;
use sea_orm::sqlx::sqlite::{SqliteArguments, SqliteConnectOptions};
use sea_orm::sqlx::{self, Connection, Sqlite, SqliteConnection};
use seeds::load::copy;
use seeds::table::loaded_columns;
use seeds::{Dataset, Params, Profile};

use crate::Settings;
use crate::machine;
use crate::process::{command, median, thousands};
use crate::servers::{Postgres, pg_client, psql_env};

/// The generator's seed and the day the data is generated around: fixed, so every run loads
/// the same rows.
const SEED: u64 = 42;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default()
}

/// One timed load.
#[derive(Debug, Clone, Copy)]
struct Load {
    /// Seconds spent loading (for `seed`: the load phase it reports).
    load: f64,
    /// Seconds for the whole command.
    wall: f64,
}

/// Runs the suite and returns its BENCHMARKS.md section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let params = Params {
        profile: Profile::Load,
        seed: SEED,
        scale: s.scale,
        today: today(),
    };
    eprintln!(
        "seeds: generating `load --scale {}` for the floors",
        s.scale
    );
    let ds = seeds::generate(&params);
    let rows = ds.row_count();
    let files = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let script = write_copy_files(&ds, files.path())?;

    let pg = Postgres::postgres(&s.postgres_url).await?;
    let pg_version = pg.version().await;
    let name = format!("bench_seeds_{}", std::process::id());
    let (mut pg_seed, mut pg_floor) = (Vec::new(), Vec::new());
    for run in 1..=s.runs {
        let url = pg.create(&name).await?;
        migrate(s, &url)?;
        let load = seed_load(s, &url, rows)?;
        eprintln!(
            "seeds: postgres run {run}: seed loaded in {:.1} s",
            load.load
        );
        pg_seed.push(load);
        let url = pg.create(&name).await?;
        migrate(s, &url)?;
        let load = psql_copy(&url, &script)?;
        check_rows(&url, rows).await?;
        eprintln!(
            "seeds: postgres run {run}: COPY floor in {:.1} s",
            load.load
        );
        pg_floor.push(load);
    }
    pg.drop(&name).await?;

    let (mut lite_seed, mut lite_floor) = (Vec::new(), Vec::new());
    let mut sqlite_version = "SQLite".to_owned();
    for run in 1..=s.runs {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("seed.db").display());
        migrate(s, &url)?;
        let load = seed_load(s, &url, rows)?;
        eprintln!("seeds: sqlite run {run}: seed loaded in {:.1} s", load.load);
        lite_seed.push(load);
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("floor.db").display()
        );
        migrate(s, &url)?;
        let (load, version) = sqlite_insert(&url, &ds).await?;
        check_rows(&url, rows).await?;
        eprintln!(
            "seeds: sqlite run {run}: insert floor in {:.1} s",
            load.load
        );
        sqlite_version = version;
        lite_floor.push(load);
    }

    Ok(section(
        s,
        &ds,
        &[
            (
                &pg_version,
                &pg_seed,
                &pg_floor,
                "`psql` `\\copy` of the rows from files, one transaction",
            ),
            (
                &sqlite_version,
                &lite_seed,
                &lite_floor,
                "prepared multi-row `INSERT`s in one transaction (sqlx, one connection)",
            ),
        ],
    ))
}

/// Writes each table as a `COPY` text file and a `psql` script loading them all in order;
/// returns the script's path.
fn write_copy_files(ds: &Dataset, dir: &Path) -> Result<std::path::PathBuf, String> {
    let io = |e: std::io::Error| format!("cannot write the COPY files: {e}");
    let mut script = String::from("\\set ON_ERROR_STOP on\nBEGIN;\n");
    for (n, table) in ds.tables().iter().enumerate() {
        let path = dir.join(format!("{n:02}_{}.tsv", table.name()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        let columns = loaded_columns(*table);
        let mut buf = Vec::with_capacity(1 << 16);
        for i in 0..table.len() {
            copy::encode_row(&mut buf, *table, &columns, i);
            if buf.len() > 1 << 16 {
                out.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
        out.write_all(&buf).map_err(io)?;
        out.flush().map_err(io)?;
        let statement = copy::statement(*table)
            .replacen("COPY ", "\\copy ", 1)
            .replace("FROM STDIN", &format!("FROM '{}'", path.display()));
        let _ = writeln!(script, "{statement}");
    }
    script.push_str("COMMIT;\n");
    let path = dir.join("load.sql");
    std::fs::write(&path, script).map_err(io)?;
    Ok(path)
}

/// `migrate up` on `url`.
fn migrate(s: &Settings, url: &str) -> Result<(), String> {
    let output = command(&s.bin_dir.join("migrate"))
        .arg("up")
        .env("DATABASE_URL", url)
        .output()
        .map_err(|e| format!("cannot run migrate: {e}; run bench/run.sh, which builds it"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "migrate up failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// `seed load --scale N` on `url`, timed; checks it loaded `rows` rows.
fn seed_load(s: &Settings, url: &str, rows: u64) -> Result<Load, String> {
    let scale = s.scale.to_string();
    let today = today().to_string();
    let seed = SEED.to_string();
    let started = Instant::now();
    let output = command(&s.bin_dir.join("seed"))
        .args([
            "load", "--scale", &scale, "--seed", &seed, "--today", &today,
        ])
        .args(["--format", "json"])
        .env("DATABASE_URL", url)
        .output()
        .map_err(|e| format!("cannot run seed: {e}; run bench/run.sh, which builds it"))?;
    let wall = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "seed failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("seed printed no JSON report: {e}"))?;
    let loaded = report["rows"].as_u64().unwrap_or(0);
    if loaded != rows {
        return Err(format!("seed loaded {loaded} rows, expected {rows}"));
    }
    let load_ms = report["load_ms"].as_f64().unwrap_or(0.0);
    Ok(Load {
        load: load_ms / 1000.0,
        wall,
    })
}

/// Runs the `psql` script on `url`, timed.
fn psql_copy(url: &str, script: &Path) -> Result<Load, String> {
    let mut cmd = command(&pg_client("psql"));
    cmd.args(["-X", "-q", "-f"]).arg(script);
    for (var, value) in psql_env(url)? {
        cmd.env(var, value);
    }
    let started = Instant::now();
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run psql: {e}; install the PostgreSQL client"))?;
    let took = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(Load {
        load: took,
        wall: took,
    })
}

/// Checks a floor loaded every row.
async fn check_rows(url: &str, rows: u64) -> Result<(), String> {
    let db = sea_orm::Database::connect(url)
        .await
        .map_err(|e| format!("cannot reconnect to count the rows: {e}"))?;
    let counted: u64 = seeds::truncate::counts(&db)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|(_, n)| n)
        .sum();
    let _ = db.close().await;
    if counted == rows {
        Ok(())
    } else {
        Err(format!("the floor loaded {counted} rows, expected {rows}"))
    }
}

/// Binds one generated value as SQLite receives it from SeaORM.
fn bind<'q>(
    query: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    value: &Value,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
    match value {
        Value::Bool(v) => query.bind(*v),
        Value::SmallInt(v) => query.bind(*v),
        Value::Int(v) => query.bind(*v),
        Value::BigInt(v) => query.bind(*v),
        Value::String(v) => query.bind(v.clone()),
        Value::Json(v) => query.bind(v.as_deref().map(|j| j.to_string())),
        Value::ChronoDate(v) => query.bind(*v),
        Value::ChronoTime(v) => query.bind(*v),
        Value::ChronoDateTimeWithTimeZone(v) => query.bind(*v),
        _ => query.bind(Option::<String>::None),
    }
}

/// Inserts every table in one transaction with prepared multi-row statements; returns the time
/// and SQLite's version.
async fn sqlite_insert(url: &str, ds: &Dataset) -> Result<(Load, String), String> {
    let db = |e: sqlx::Error| format!("SQLite floor: {e}");
    let options = SqliteConnectOptions::from_str(url).map_err(db)?;
    let mut conn = SqliteConnection::connect_with(&options).await.map_err(db)?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .map_err(db)?;
    let started = Instant::now();
    let mut tx = conn.begin().await.map_err(db)?;
    for table in ds.tables() {
        let columns = loaded_columns(table);
        let per_statement = (32_766 / columns.len().max(1)).max(1);
        let names: Vec<String> = columns.iter().map(|(_, c)| format!("\"{c}\"")).collect();
        let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
        let sql = |n: usize| {
            format!(
                "INSERT INTO \"{}\" ({}) VALUES {}",
                table.name(),
                names.join(", "),
                vec![tuple.as_str(); n].join(", ")
            )
        };
        let full = sql(per_statement);
        let mut start = 0;
        while start < table.len() {
            let end = (start + per_statement).min(table.len());
            let text = if end - start == per_statement {
                full.clone()
            } else {
                sql(end - start)
            };
            let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
            for i in start..end {
                let row = table.row(i);
                for (at, _) in &columns {
                    query = bind(query, &row[*at]);
                }
            }
            query.execute(&mut *tx).await.map_err(db)?;
            start = end;
        }
    }
    tx.commit().await.map_err(db)?;
    let took = started.elapsed().as_secs_f64();
    Ok((
        Load {
            load: took,
            wall: took,
        },
        format!("SQLite {version}"),
    ))
}

type Backend<'a> = (&'a String, &'a Vec<Load>, &'a Vec<Load>, &'a str);

/// The BENCHMARKS.md section.
fn section(s: &Settings, ds: &Dataset, backends: &[Backend]) -> String {
    let rows = ds.row_count() as f64;
    let mut out = String::new();
    let _ = writeln!(out, "## Seeding: `seed load --scale {}`\n", s.scale);
    let _ = writeln!(
        out,
        "Each load writes {} rows ({} timeslots, {} bookings) into a new database migrated by \
         `migrate up`: profile `load`, scale {}, `--seed {SEED}`, `--today {}`. Medians of {} \
         runs; seed and floor runs alternate.\n",
        thousands(rows),
        thousands(ds.timeslots.len() as f64),
        thousands(ds.bookings.len() as f64),
        s.scale,
        today(),
        s.runs
    );
    let _ = writeln!(
        out,
        "| backend | `seed` load rate | floor rate | ratio | `seed` load | `seed` wall time | floor | floor method |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|");
    let mut per_run = String::new();
    let mut ratios = Vec::new();
    for (name, seed, floor, method) in backends {
        let seed_load: Vec<f64> = seed.iter().map(|l| l.load).collect();
        let seed_wall: Vec<f64> = seed.iter().map(|l| l.wall).collect();
        let floor_load: Vec<f64> = floor.iter().map(|l| l.load).collect();
        let (sl, sw, fl) = (median(&seed_load), median(&seed_wall), median(&floor_load));
        let (seed_rate, floor_rate) = (rows / sl.max(1e-9), rows / fl.max(1e-9));
        let ratio = seed_rate / floor_rate;
        ratios.push((name.to_string(), ratio));
        let _ = writeln!(
            out,
            "| {name} | {} rows/s | {} rows/s | **{:.0}%** | {sl:.1} s | {sw:.1} s | {fl:.1} s | {method} |",
            thousands(seed_rate),
            thousands(floor_rate),
            ratio * 100.0
        );
        let list = |loads: &Vec<Load>| {
            loads
                .iter()
                .map(|l| format!("{:.1} s", l.load))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            per_run,
            "- {name}: `seed` load {}; floor {}",
            list(seed),
            list(floor)
        );
    }
    let _ = writeln!(
        out,
        "\n`seed` load rate is rows ÷ the load phase `seed` reports (one transaction, commit \
         included: `COPY` for the big tables on PostgreSQL, multi-row `INSERT`s on SQLite); its \
         wall time adds starting, checking the migrations, generating and hashing the rows in \
         memory, restarting the id sequences and recording the seeding. The floors load the \
         rows the bench generated beforehand, with no such work."
    );
    if let Some((_, pg)) = ratios.first() {
        let verdict = if *pg >= 0.5 { "met" } else { "not met" };
        let _ = writeln!(
            out,
            "\nTarget, at least 50% of the `COPY` floor on PostgreSQL: **{verdict}** ({:.0}%).",
            pg * 100.0
        );
    }
    let _ = writeln!(out, "\nPer run:\n\n{per_run}");
    out.push_str(&machine::footer(
        "`bench/run.sh seeds` (`BENCH_RUNS`, `BENCH_SCALE` and `BENCH_POSTGRES_URL` change the \
         runs, the scale and the server; `psql` must be installed).",
    ));
    out
}

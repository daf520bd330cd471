//! Backups and restores of the demo database: `migrate backup` and `migrate restore` against
//! the dump tools run by hand on the same database, taking turns.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Settings;
use crate::machine;
use crate::process::{command, median, timed};
use crate::servers::{MariaDb, Postgres, mariadb_args, pg_client, psql_env};

/// One backend's four figures, in seconds.
struct Figures {
    backup: f64,
    dump: f64,
    restore: f64,
    load: f64,
}

/// Times `ours` against `floor`, alternating, `runs` times each; medians.
fn paired(
    runs: usize,
    mut ours: impl FnMut() -> Result<f64, String>,
    mut floor: impl FnMut() -> Result<f64, String>,
) -> Result<(f64, f64), String> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(ours()?);
        b.push(floor()?);
    }
    Ok((median(&a), median(&b)))
}

/// The newest backup file `migrate backup` wrote into `dir`.
fn newest(dir: &Path) -> Result<PathBuf, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x != "json"))
        .collect();
    files.sort();
    files
        .pop()
        .ok_or_else(|| "migrate backup wrote nothing".to_owned())
}

/// `migrate backup`/`restore` and the tools by hand on a database `url` seeded with `demo`.
fn measure(
    s: &Settings,
    url: &str,
    work: &Path,
    floor_dump: &mut dyn FnMut(&Path) -> Result<f64, String>,
    floor_load: &mut dyn FnMut(&Path) -> Result<f64, String>,
) -> Result<Figures, String> {
    let migrate = s.bin_dir.join("migrate");
    let backups = work.join("backups");
    let run = |args: &[&str]| {
        timed(
            command(&migrate)
                .args(args)
                .current_dir(work)
                .env("DATABASE_URL", url)
                .env("MIGRATION_BACKUP_DIR", &backups),
        )
    };
    // No cached copy: it would outlive the database the suite drops.
    run(&[
        "fresh",
        "--seed",
        "demo",
        "--yes",
        "--no-backup",
        "--no-cache",
    ])?;
    let by_hand = work.join("by-hand");
    let (backup, dump) = paired(s.runs * 3, || run(&["backup"]), || floor_dump(&by_hand))?;
    let file = newest(&backups)?;
    let file_arg = file.display().to_string();
    let (restore, load) = paired(
        s.runs * 3,
        || run(&["restore", &file_arg, "--yes", "--no-backup"]),
        || floor_load(&by_hand),
    )?;
    Ok(Figures {
        backup,
        dump,
        restore,
        load,
    })
}

/// The BENCHMARKS.md section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let work = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let mut rows = String::new();
    let mut targets = String::new();
    let runs = s.runs * 3;

    let pg = Postgres::postgres(&s.postgres_url).await?;
    let name = format!("bench_backups_{}", std::process::id());
    let url = pg.create(&name).await?;
    let env = psql_env(&url)?;
    let (pg_dump, pg_restore) = (pg_client("pg_dump"), pg_client("pg_restore"));
    let figures = measure(
        s,
        &url,
        work.path(),
        &mut |file| {
            let _ = std::fs::remove_file(file);
            timed(
                command(&pg_dump)
                    .envs(env.clone())
                    .arg("--format=custom")
                    .arg("--file")
                    .arg(file),
            )
        },
        &mut |file| {
            timed(
                command(&pg_restore)
                    .envs(env.clone())
                    .args([
                        "--clean",
                        "--if-exists",
                        "--no-owner",
                        "--single-transaction",
                        "--exit-on-error",
                    ])
                    .arg("--dbname")
                    .arg(&name)
                    .arg(file),
            )
        },
    );
    pg.drop(&name).await?;
    let figures = figures?;
    row(
        &mut rows,
        &mut targets,
        &pg.version().await,
        &figures,
        "`pg_dump --format=custom`",
        "`pg_restore --clean --if-exists --single-transaction`",
        runs,
    );

    let maria = MariaDb::mariadb(&s.mariadb_url).await?;
    let url = maria.create(&name).await?;
    let (args, env) = mariadb_args(&url)?;
    let dump_args: Vec<String> = args[..args.len() - 1].to_vec();
    let figures = measure(
        s,
        &url,
        work.path(),
        &mut |file| {
            timed(
                command(Path::new("mariadb-dump"))
                    .envs(env.clone())
                    .args(&dump_args)
                    .args([
                        "--single-transaction",
                        "--routines",
                        "--triggers",
                        "--events",
                    ])
                    .arg(format!("--result-file={}", file.display()))
                    .args(["--databases", &name]),
            )
        },
        &mut |file| {
            let input =
                std::fs::File::open(file).map_err(|e| format!("cannot open the dump: {e}"))?;
            timed(
                command(Path::new("mariadb"))
                    .envs(env.clone())
                    .args(&args)
                    .stdin(input),
            )
        },
    );
    maria.drop(&name).await?;
    let figures = figures?;
    row(
        &mut rows,
        &mut targets,
        &maria.version().await,
        &figures,
        "`mariadb-dump --single-transaction --routines --triggers --events`",
        "`mariadb` reading the dump",
        runs,
    );

    let mut out = String::new();
    let _ = writeln!(out, "## Backups and restores\n");
    let _ = writeln!(
        out,
        "The demo database (`migrate fresh --seed demo`: 11 migrations, 47,397 rows). \
         `migrate backup` takes the lock, dumps, checks the file (`pg_restore --list`, the dump's \
         last line), writes its manifest and a history row; `migrate restore FILE --yes` drops \
         every object and restores. The floors are the same tools run by hand on the same \
         database, taking turns with `migrate`; medians.\n"
    );
    let _ = writeln!(
        out,
        "| backend | `migrate backup` | by hand | ratio | `migrate restore` | by hand | ratio | dump by hand | restore by hand | runs |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|---|---:|");
    out.push_str(&rows);
    let _ = writeln!(out, "\n### Targets\n");
    out.push_str(&targets);
    out.push('\n');
    out.push_str(&machine::footer(
        "`bench/run.sh backups` (`BENCH_POSTGRES_URL` and `BENCH_MARIADB_URL` name the servers; \
         `pg_dump`, `pg_restore`, `mariadb-dump` and `mariadb` must be installed).",
    ));
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn row(
    rows: &mut String,
    targets: &mut String,
    label: &str,
    f: &Figures,
    dump: &str,
    load: &str,
    runs: usize,
) {
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let (b, r) = (f.backup / f.dump, f.restore / f.load);
    eprintln!("backups: {label}: backup {b:.2}x, restore {r:.2}x");
    let _ = writeln!(
        rows,
        "| {label} | {} | {} | **{b:.2}×** | {} | {} | **{r:.2}×** | {dump} | {load} | {runs} |",
        ms(f.backup),
        ms(f.dump),
        ms(f.restore),
        ms(f.load)
    );
    for (what, ratio) in [("backup", b), ("restore", r)] {
        let verdict = if ratio <= 1.1 { "met" } else { "**not met**" };
        let _ = writeln!(
            targets,
            "- {label}, {what}: {ratio:.2}× of by hand (target ≤ 1.10×): {verdict}"
        );
    }
}

//! What developers wait for around migrations, end to end: `scripts/db.sh reset` (served from
//! the reset cache, and rebuilt with `--no-cache`: drop everything, migrate, seed `demo`) and
//! the incremental build after editing one migration. Both use the dev profile, as developers
//! run them.

use std::fmt::Write as _;
use std::path::Path;

use crate::Settings;
use crate::machine;
use crate::process::{command, median, timed};
use crate::servers::Postgres;

/// The migration module the build figure touches.
const TOUCHED: &str = "migration/src/m20240813_000011_create_views.rs";

/// Waits until no `migrate cache sweep` a reset started in the background is running (at most
/// 30 s), then until what the runs before wrote is on disk: PostgreSQL's dirty buffers
/// (`CHECKPOINT` on `pg_url`) and the kernel's (`sync`). A rebuild leaves tens of megabytes to
/// write, which would otherwise land on the next timed run; a developer's next reset, minutes
/// later, finds them written.
fn settle(pg_url: &str) {
    wait_for_sweeps();
    if let Ok(env) = crate::servers::psql_env(pg_url) {
        let _ = std::process::Command::new("psql")
            .envs(env)
            .args(["-X", "-q", "-c", "CHECKPOINT"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let _ = std::process::Command::new("sync").status();
}

fn wait_for_sweeps() {
    for _ in 0..300 {
        let running = std::process::Command::new("pgrep")
            .args(["-f", "migrate cache sweep"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !running {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `scripts/db.sh reset` on PostgreSQL and SQLite with the reset cache warm, against the same
/// reset with `--no-cache` and `migrate fresh` alone, and `cargo build -p migration` after
/// touching one migration, against a build with nothing changed. Returns the BENCHMARKS.md
/// section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let root = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
    if root.join(".env").exists() {
        return Err(
            "a .env in the checkout would point scripts/db.sh at its database: move it aside for the workflow suite"
                .to_owned(),
        );
    }
    let runs = s.runs * 3;
    let cargo = |args: &[&str]| {
        let mut cmd = command(Path::new("cargo"));
        cmd.args(args).current_dir(&root);
        cmd
    };
    // Warm: every binary the suite runs (`migrate` and `seed`, both of the migration crate) is
    // built before anything is timed.
    timed(&mut cargo(&["build", "-q", "-p", "migration"]))?;

    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let pg = Postgres::postgres(&s.postgres_url).await?;
    let name = format!("bench_workflow_{}", std::process::id());
    let pg_url = pg.create(&name).await?;
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("reset.db").display()
    );
    let mut rows = String::new();
    let db_sh = |url: &str, extra: &[&str]| {
        let mut cmd = command(&root.join("scripts/db.sh"));
        cmd.args(["reset", "demo", "--yes"])
            .args(extra)
            .current_dir(&root)
            .env("DATABASE_URL", url);
        cmd
    };
    for (label, url, target) in [
        (pg.version().await, &pg_url, 0.3),
        ("SQLite".to_owned(), &sqlite_url, 0.1),
    ] {
        // The first reset fills the cache.
        timed(&mut db_sh(url, &[]))?;
        let (mut warm, mut rebuilt, mut fresh) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            settle(&pg_url);
            warm.push(timed(&mut db_sh(url, &[]))?);
            settle(&pg_url);
            rebuilt.push(timed(&mut db_sh(url, &["--no-cache"]))?);
            fresh.push(timed(
                command(&root.join("target/debug/migrate"))
                    .args(["fresh", "--yes"])
                    .current_dir(dir.path())
                    .env("DATABASE_URL", url),
            )?);
        }
        let (w, r, f) = (median(&warm), median(&rebuilt), median(&fresh));
        eprintln!("workflow: {label}: reset {w:.3} s warm, {r:.2} s --no-cache, fresh {f:.2} s");
        let met = if w <= target { "met" } else { "**not met**" };
        let _ = writeln!(
            rows,
            "| {label} | {:.0} ms | {r:.2} s | {:.3}× | {f:.2} s | ≤ {:.0} ms: {met} | {runs} |",
            w * 1000.0,
            w / r,
            target * 1000.0
        );
    }
    // Leave no sweep behind to race the database's drop.
    settle(&pg_url);
    let _ = command(&root.join("target/debug/migrate"))
        .args(["cache", "clear"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &pg_url)
        .output();
    pg.drop(&name).await?;

    let (mut touched, mut unchanged) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let file = root.join(TOUCHED);
        let text = std::fs::read(&file).map_err(|e| format!("cannot read {TOUCHED}: {e}"))?;
        std::fs::write(&file, text).map_err(|e| format!("cannot touch {TOUCHED}: {e}"))?;
        touched.push(timed(&mut cargo(&["build", "-q", "-p", "migration"]))?);
        unchanged.push(timed(&mut cargo(&["build", "-q", "-p", "migration"]))?);
    }
    let (t, u) = (median(&touched), median(&unchanged));
    eprintln!("workflow: build after a touch {t:.2} s, unchanged {u:.2} s");

    let mut out = String::new();
    let _ = writeln!(out, "## Developer workflow\n");
    let _ = writeln!(
        out,
        "Dev profile, as developers run it; medians of paired runs. `scripts/db.sh reset demo \
         --yes` is `migrate fresh --seed demo`: with the cache warm it copies the cached copy \
         back (PostgreSQL: `CREATE DATABASE … TEMPLATE` and a rename; SQLite: the copy restored \
         into the file); with `--no-cache` it drops everything, applies the 11 migrations and \
         loads the `demo` profile (46,896 rows), as every reset did before the cache. \
         `migrate fresh --yes` alone is the rebuild without the seeding. Before each timed \
         reset the suite waits for the background sweep of the previous one (PostgreSQL drops \
         the database a reset replaced after the reset has ended) and for what the previous runs \
         wrote to reach the disk (`CHECKPOINT` on PostgreSQL, then `sync`), as a developer's \
         next reset, minutes later, would find the machine.\n"
    );
    let _ = writeln!(
        out,
        "| backend | reset, cache warm | reset, `--no-cache` | ratio | `migrate fresh` alone | target | runs |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|");
    out.push_str(&rows);
    let _ = writeln!(
        out,
        "\nIncremental build: `cargo build -p migration` after rewriting `{TOUCHED}` takes \
         **{t:.2} s** (median of {runs}); with nothing changed, cargo's own check takes {u:.2} s. \
         Only the `migration` crate and its `migrate` binary are rebuilt: the engine and the \
         entities are separate crates.\n"
    );
    out.push_str(&machine::footer(
        "`bench/run.sh workflow` (no `.env` in the checkout; `BENCH_POSTGRES_URL` names the \
         server).",
    ));
    Ok(out)
}

//! What developers wait for around migrations, end to end: `scripts/db.sh reset` (drop
//! everything, migrate, seed `demo`) and the incremental build after editing one migration.
//! Both use the dev profile, as developers run them.

use std::fmt::Write as _;
use std::path::Path;

use crate::Settings;
use crate::machine;
use crate::process::{command, median, timed};
use crate::servers::Postgres;

/// The migration module the build figure touches.
const TOUCHED: &str = "migration/src/m20240813_000011_create_views.rs";

/// `scripts/db.sh reset` on PostgreSQL and SQLite, against `migrate fresh` alone (its first
/// phase), and `cargo build -p migration` after touching one migration, against a build with
/// nothing changed. Returns the BENCHMARKS.md section.
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
    for (label, url) in [
        (pg.version().await, &pg_url),
        ("SQLite".to_owned(), &sqlite_url),
    ] {
        let (mut reset, mut fresh) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            reset.push(timed(
                command(&root.join("scripts/db.sh"))
                    .args(["reset", "demo", "--yes"])
                    .current_dir(&root)
                    .env("DATABASE_URL", url),
            )?);
            fresh.push(timed(
                command(&root.join("target/debug/migrate"))
                    .args(["fresh", "--yes"])
                    .current_dir(dir.path())
                    .env("DATABASE_URL", url),
            )?);
        }
        let (r, f) = (median(&reset), median(&fresh));
        eprintln!("workflow: {label}: reset {:.2} s, fresh {:.2} s", r, f);
        let _ = writeln!(
            rows,
            "| {label} | {r:.2} s | {f:.2} s | {:.2} s | {runs} |",
            r - f
        );
    }
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
        "Dev profile, as developers run it; medians. `scripts/db.sh reset demo --yes` drops \
         everything, applies the 11 migrations and loads the `demo` profile (47,397 rows); the \
         same run times `migrate fresh --yes` alone, so the rest is seeding and the script's \
         own `cargo build` check.\n"
    );
    let _ = writeln!(
        out,
        "| backend | `scripts/db.sh reset` | `migrate fresh` alone | seeding and the rest | runs |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
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

//! `migrate schema` and `migrate verify` through the binaries: output on stdout, logs on
//! stderr, exit codes, JSON, and a target left as it was.
//!
//! `migrate` is the application's binary (built once per test process, as in `cli.rs`);
//! `migrate_broken` is this crate's test binary over two migrations whose second `down` forgets
//! its index, for the path where `verify` finds a difference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::schema::snapshot;
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;
use tests::process::ENV_VARS;
use tests::{Backend, Run, TestDb, backend_matrix, migrate_bin, run_in};

/// Runs `bin` with `args` in a fresh temporary directory, isolated from the runner's
/// environment.
fn run(bin: &Path, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    run_in(bin, dir.path(), args)
}

fn migrate(args: &[&str]) -> Run {
    run(migrate_bin(), args)
}

fn migrate_broken(args: &[&str]) -> Run {
    run(Path::new(env!("CARGO_BIN_EXE_migrate_broken")), args)
}

async fn schema_prints_the_engine_snapshot_as_json_and_as_text(db: TestDb) {
    let url = db.url.as_str();
    let empty = migrate(&["-u", url, "schema", "--format", "json"]);
    assert_eq!(empty.code, Some(0), "{empty:?}");
    let json: Value = serde_json::from_str(&empty.stdout).unwrap();
    assert_eq!(json["tables"], serde_json::json!({}), "{empty:?}");
    assert_eq!(
        db.table_names().await,
        Vec::<String>::new(),
        "schema creates nothing"
    );

    let up = migrate(&["-u", url, "up"]);
    assert_eq!(up.code, Some(0), "{up:?}");
    let printed = migrate(&["-u", url, "schema", "--format", "json"]);
    assert_eq!(printed.code, Some(0), "{printed:?}");
    let json: Value = serde_json::from_str(&printed.stdout).unwrap();
    let conn = db.connect().await;
    let read = snapshot::read(&conn, "schema_migrations").await.unwrap();
    assert_eq!(json, serde_json::to_value(&read).unwrap());
    assert!(json["tables"].get("schema_migrations").is_none());
    assert!(!read.tables.is_empty());

    let text = migrate(&["-u", url, "schema"]);
    assert_eq!(text.code, Some(0), "{text:?}");
    assert_eq!(text.stdout, read.to_string());
    for table in read.tables.keys() {
        assert!(
            text.stdout.contains(&format!("table {table}\n")),
            "{table} missing"
        );
    }
}

async fn verify_exits_4_and_prints_each_difference_on_its_own_line(db: TestDb) {
    let url = db.url.as_str();
    let out = migrate_broken(&["-u", url, "verify"]);
    assert_eq!(out.code, Some(4), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "down of m20990101_000002_forget_index leaves index idx_widgets_name on widgets",
            "1 difference(s) in 1 of 2 migration(s) checked: make each down undo exactly what its up does.",
        ],
        "{out:?}"
    );
    // The scratch database is named on stderr, and it is not the target.
    let scratch = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("verifying on the scratch database "))
        .unwrap_or_else(|| panic!("no scratch database named: {out:?}"));
    assert_ne!(scratch, url);
    assert!(scratch.contains("verify"), "{scratch}");

    let json = migrate_broken(&["-u", url, "verify", "--format", "json"]);
    assert_eq!(json.code, Some(4), "{json:?}");
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["differences"][0]["message"],
        "down of m20990101_000002_forget_index leaves index idx_widgets_name on widgets"
    );
    assert_eq!(report["differences"].as_array().unwrap().len(), 1);

    let from = migrate_broken(&["-u", url, "verify", "--from", "20990101_000001"]);
    assert_eq!(from.code, Some(4), "{from:?}");

    match db.backend {
        Backend::Sqlite => assert!(!db.sqlite_path().unwrap().exists()),
        _ => assert_eq!(db.table_names().await, Vec::<String>::new()),
    }
}

/// SIGINT in the middle of a run: exit 130, and the scratch database is dropped all the same.
async fn an_interrupted_verify_exits_130_and_drops_its_scratch_database(db: TestDb) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = TempDir::new().unwrap();
    let mut cmd = Command::new(migrate_bin());
    cmd.current_dir(dir.path());
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .env("NO_COLOR", "1")
        .args(["-u", &db.url, "verify"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut scratch = None;
    // Interrupt once the first migration is under way on the scratch database.
    while scratch.is_none() || !seen.contains("applying") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "ended early: {seen}"
        );
        if let Some(url) = line
            .trim()
            .strip_prefix("verifying on the scratch database ")
        {
            scratch = Some(url.to_owned());
        }
        seen.push_str(&line);
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert_eq!(stdout, "");
    let last = rest.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: interrupted by SIGINT; the scratch database")
            && last.ends_with("was dropped"),
        "{seen}{rest}"
    );
    let scratch = scratch.unwrap();
    match db.backend {
        Backend::Sqlite => {
            let file = scratch
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap();
            assert!(!Path::new(file).exists(), "{file} left behind");
        }
        backend => {
            let name = url::Url::parse(&scratch)
                .unwrap()
                .path()
                .trim_start_matches('/')
                .to_owned();
            assert!(
                !tests::server_has_database(backend, &name).await,
                "{name} left behind"
            );
        }
    }
}

backend_matrix!(
    schema_prints_the_engine_snapshot_as_json_and_as_text,
    verify_exits_4_and_prints_each_difference_on_its_own_line,
    an_interrupted_verify_exits_130_and_drops_its_scratch_database,
);

#[test]
fn verify_of_the_reference_schema_succeeds_without_opening_the_target() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("target.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let out = migrate(&["-u", &url, "verify"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.starts_with("Verified "), "{out:?}");
    assert!(!file.exists(), "the target file was created");
}

#[test]
fn verify_refuses_an_unknown_from_as_a_usage_error() {
    let out = migrate_broken(&["verify", "--from", "20000101000000"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .starts_with("error: unknown version `20000101000000`"),
        "{out:?}"
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn schema_and_verify_help_are_stable() {
    for command in ["schema", "verify"] {
        let out = migrate(&[command, "--help"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        insta::assert_snapshot!(format!("{command}_help"), out.stdout);
    }
}

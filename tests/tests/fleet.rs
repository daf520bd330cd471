//! One `migrate` over a fleet of 30 targets, with the reference app's migrations: PostgreSQL
//! schemas of one database (`--schemas`), MariaDB databases and SQLite files (`--targets`). On
//! every backend: a fleet applied `--parallel 8` ends with every target migrated and each
//! migration recorded once; a target made to fail leaves the others migrated, is named, and a
//! re-run after fixing it applies it alone; `--shard` parts are disjoint and complete; fleet
//! `status` and `check` with JSON; a fleet interrupted by SIGINT finishes on the next run. And
//! the list's bad inputs refused before anything runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;
use tempfile::TempDir;
use tests::process::{command, command_line, finish, isolate, run};
use tests::{Backend, Run, TestDb, backend_matrix, migrate_bin};

/// How many targets each fleet holds.
const SIZE: usize = 30;
/// The reference app's migrations.
const MIGRATIONS: u64 = 11;

/// A fleet of [`SIZE`] empty targets on one backend, and the directory `migrate` runs in.
struct Fleet {
    backend: Backend,
    /// PostgreSQL: the database whose schemas `tenant_01` … are the targets. MariaDB and
    /// SQLite: the first target.
    main: TestDb,
    /// MariaDB and SQLite: the other targets (dropped with the fleet).
    others: Vec<TestDb>,
    dir: TempDir,
}

impl Fleet {
    async fn create(main: TestDb) -> Self {
        let backend = main.backend;
        let mut others = Vec::new();
        if backend == Backend::Postgres {
            let conn = main.connect().await;
            // Extensions belong to the database, not to a schema: created once, as a
            // multi-tenant database has them, the migrations' `IF NOT EXISTS` finds them.
            let mut sql = vec![
                "CREATE EXTENSION IF NOT EXISTS pgcrypto".to_owned(),
                "CREATE EXTENSION IF NOT EXISTS btree_gist".to_owned(),
            ];
            sql.extend((1..=SIZE).map(|i| format!("CREATE SCHEMA tenant_{i:02}")));
            for statement in sql {
                conn.execute_unprepared(&statement).await.unwrap();
            }
        } else {
            for _ in 1..SIZE {
                others.push(TestDb::create(backend).await.unwrap());
            }
        }
        let fleet = Fleet {
            backend,
            main,
            others,
            dir: TempDir::new().unwrap(),
        };
        if backend != Backend::Postgres {
            let list: String = fleet
                .server_targets()
                .iter()
                .map(|db| format!("{}\n", db.url))
                .collect();
            std::fs::write(fleet.dir.path().join("targets.txt"), list).unwrap();
        }
        fleet
    }

    fn server_targets(&self) -> Vec<&TestDb> {
        std::iter::once(&self.main).chain(&self.others).collect()
    }

    /// The arguments that name the fleet.
    fn fleet_args(&self) -> Vec<String> {
        match self.backend {
            Backend::Postgres => vec![
                "-u".to_owned(),
                self.main.url.clone(),
                "--schemas".to_owned(),
                "tenant_*".to_owned(),
            ],
            _ => vec!["--targets".to_owned(), "targets.txt".to_owned()],
        }
    }

    fn cmd(&self, args: &[&str]) -> (assert_cmd::Command, Vec<String>) {
        let mut all = self.fleet_args();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        (command(migrate_bin(), self.dir.path()), all)
    }

    fn migrate(&self, args: &[&str]) -> Run {
        let (cmd, all) = self.cmd(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run(cmd, migrate_bin(), &all)
    }

    /// `status --format json`: each target's label and its counts before.
    fn states(&self) -> Vec<(String, Value)> {
        // Fleet status exits as `check` would on its worst target.
        let run = self.migrate(&["status", "--format", "json"]);
        assert!(matches!(run.code, Some(0 | 4 | 6)), "{run:?}");
        let status = run.json();
        entries(&status)
            .iter()
            .map(|e| {
                (
                    e["target"].as_str().unwrap().to_owned(),
                    e["before"].clone(),
                )
            })
            .collect()
    }

    /// The label of the `n`th target (from 1), as the summary shows it.
    fn label(&self, n: usize) -> String {
        match self.backend {
            Backend::Postgres => format!("schema tenant_{n:02}"),
            _ => tests::redact(&self.server_targets()[n - 1].url),
        }
    }

    /// Runs `sql` on the `n`th target.
    async fn execute_on(&self, n: usize, sql: &str) {
        let (url, sql) = match self.backend {
            Backend::Postgres => (
                self.main.url.clone(),
                format!("SET search_path TO tenant_{n:02}; {sql}"),
            ),
            _ => (self.server_targets()[n - 1].url.clone(), sql.to_owned()),
        };
        let conn = Database::connect(url).await.unwrap();
        conn.execute_unprepared(&sql).await.unwrap();
        conn.close().await.unwrap();
    }

    /// The ledger's rows on the `n`th target, and how many distinct versions they hold.
    async fn ledger_rows(&self, n: usize) -> (i64, i64) {
        let (url, table) = match self.backend {
            Backend::Postgres => (
                self.main.url.clone(),
                format!("tenant_{n:02}.schema_migrations"),
            ),
            _ => (
                self.server_targets()[n - 1].url.clone(),
                "schema_migrations".to_owned(),
            ),
        };
        let conn = Database::connect(url).await.unwrap();
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT COUNT(*), COUNT(DISTINCT version) FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let counts = (
            row.try_get_by_index::<i64>(0).unwrap(),
            row.try_get_by_index::<i64>(1).unwrap(),
        );
        conn.close().await.unwrap();
        counts
    }
}

fn entries(summary: &Value) -> &Vec<Value> {
    summary["targets"]
        .as_array()
        .expect("a fleet summary lists its targets")
}

fn fully_applied(before: &Value) -> bool {
    before["applied"] == MIGRATIONS && before["pending"] == 0 && before["failed"] == 0
}

fn untouched(before: &Value) -> bool {
    before["applied"] == 0 && before["pending"] == MIGRATIONS
}

async fn a_fleet_applies_every_target_once_and_reports_each(db: TestDb) {
    let fleet = Fleet::create(db).await;
    fleet
        .migrate(&["check"])
        .code(6)
        .stdout
        .contains(&format!("{SIZE} target(s): {SIZE} ok"))
        .then_some(())
        .expect("check names every target");

    let up = fleet
        .migrate(&["up", "--parallel", "8", "--format", "json"])
        .code(0);
    let summary = up.json();
    assert_eq!(summary["total"]["targets"], SIZE as u64, "{up:?}");
    assert_eq!(summary["total"]["ok"], SIZE as u64, "{up:?}");
    assert_eq!(
        summary["total"]["steps"],
        SIZE as u64 * MIGRATIONS,
        "{up:?}"
    );
    for entry in entries(&summary) {
        assert!(untouched(&entry["before"]), "{entry}");
        assert_eq!(
            entry["run"]["steps"].as_array().unwrap().len() as u64,
            MIGRATIONS,
            "{entry}"
        );
    }
    for n in 1..=SIZE {
        assert_eq!(
            fleet.ledger_rows(n).await,
            (MIGRATIONS as i64, MIGRATIONS as i64),
            "target {n}"
        );
    }

    // Fleet status: a line per target and a total; `check` exits 0 once all are applied.
    let states = fleet.states();
    assert_eq!(states.len(), SIZE);
    assert!(
        states.iter().all(|(_, before)| fully_applied(before)),
        "{states:?}"
    );
    let check = fleet.migrate(&["check"]).code(0);
    assert!(check.stdout.contains(&fleet.label(SIZE)), "{check:?}");
    assert!(
        check.stdout.contains(&format!(
            "{SIZE} target(s): {SIZE} ok; {} applied, 0 pending",
            SIZE as u64 * MIGRATIONS
        )),
        "{check:?}"
    );

    // Nothing pending: each target is read once and left alone.
    let again = fleet.migrate(&["up", "--format", "json"]).code(0).json();
    assert_eq!(again["total"]["steps"], 0);

    // Three shards: disjoint, and together the whole fleet.
    let all: BTreeSet<String> = states.into_iter().map(|(label, _)| label).collect();
    let mut union = BTreeSet::new();
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let part = fleet
            .migrate(&["status", "--shard", &format!("{k}/3"), "--format", "json"])
            .code(0)
            .json();
        let labels: Vec<String> = entries(&part)
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_owned())
            .collect();
        sizes.push(labels.len());
        for label in labels {
            assert!(union.insert(label.clone()), "{label} is in two shards");
        }
    }
    assert_eq!(union, all, "the shards together are the fleet");
    assert!(sizes.iter().all(|&n| n > 0), "{sizes:?}");

    // The same fleet named by a control database's query.
    if fleet.backend == Backend::Postgres {
        let named = run(
            command(migrate_bin(), fleet.dir.path()),
            migrate_bin(),
            &[
                "-u",
                &fleet.main.url,
                "status",
                "--format",
                "json",
                "--targets-query",
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1",
            ],
        )
        .code(0)
        .json();
        let labels: BTreeSet<String> = entries(&named)
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(labels, all, "{named}");
    }

    // History over the fleet: each target's own.
    let history = fleet
        .migrate(&["history", "--limit", "2", "--format", "json"])
        .code(0)
        .json();
    assert!(
        entries(&history)
            .iter()
            .all(|e| e["history"].as_array().unwrap().len() == 2),
        "{history}"
    );
}

async fn a_failing_target_leaves_the_others_migrated_and_a_rerun_applies_only_it(db: TestDb) {
    let fleet = Fleet::create(db).await;
    // A table of the migrations' own, there before them: target 7 refuses to start.
    fleet
        .execute_on(7, "CREATE TABLE tenants (id INTEGER PRIMARY KEY)")
        .await;
    let up = fleet.migrate(&["up", "--parallel", "8"]);
    assert_eq!(up.code, Some(4), "{up:?}");
    let failed = fleet.label(7);
    let error: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(error.len(), 1, "{up:?}");
    assert!(
        error[0].contains("1 of 30 target(s) failed") && error[0].contains(&failed),
        "{up:?}"
    );
    assert!(up.stdout.contains("29 ok, 1 failed"), "{up:?}");
    let states = fleet.states();
    for (label, before) in &states {
        if label.ends_with(&failed) {
            assert!(untouched(before), "{label}: {before}");
        } else {
            assert!(fully_applied(before), "{label}: {before}");
        }
    }

    fleet.execute_on(7, "DROP TABLE tenants").await;
    let rerun = fleet
        .migrate(&["up", "--parallel", "8", "--format", "json"])
        .code(0)
        .json();
    let ran: Vec<&str> = entries(&rerun)
        .iter()
        .filter(|e| e["run"]["steps"].as_array().is_some_and(|s| !s.is_empty()))
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(ran.len(), 1, "{rerun}");
    assert!(ran[0].ends_with(&failed), "{rerun}");
    assert!(fleet.states().iter().all(|(_, b)| fully_applied(b)));
}

async fn an_interrupted_fleet_finishes_on_the_next_run(db: TestDb) {
    let fleet = Fleet::create(db).await;
    let (_, args) = fleet.cmd(&["up", "--parallel", "2"]);
    let mut std = Command::new(migrate_bin());
    isolate(&mut std, fleet.dir.path());
    let mut child = std
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the fourth target to finish, then interrupt.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("[4/");
        seen.push(line);
        if done {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    seen.extend(lines.map_while(Result::ok));
    let shown: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = finish(command_line(migrate_bin(), &shown), child).await;
    assert_eq!(run.code, Some(130), "{run:?} {seen:?}");
    assert!(
        seen.iter().any(|l| l.contains("no further target starts")),
        "{seen:?}"
    );
    let states = fleet.states();
    let done = states.iter().filter(|(_, b)| fully_applied(b)).count();
    let waiting = states.iter().filter(|(_, b)| untouched(b)).count();
    assert_eq!(done + waiting, SIZE, "a target is half done: {states:?}");
    assert!((4..SIZE).contains(&done), "{done} done: {states:?}");

    let rest = fleet.migrate(&["up", "--format", "json"]).code(0).json();
    assert_eq!(
        rest["total"]["steps"],
        (waiting as u64) * MIGRATIONS,
        "only what was left ran: {rest}"
    );
    assert!(fleet.states().iter().all(|(_, b)| fully_applied(b)));
}

backend_matrix!(
    a_fleet_applies_every_target_once_and_reports_each,
    a_failing_target_leaves_the_others_migrated_and_a_rerun_applies_only_it,
    an_interrupted_fleet_finishes_on_the_next_run,
);

/// `migrate ARGS` in `dir`, with no database URL of its own.
fn migrate_in(dir: &Path, args: &[&str]) -> Run {
    run(command(migrate_bin(), dir), migrate_bin(), args)
}

#[test]
fn bad_target_lists_are_refused_before_anything_runs() {
    let dir = TempDir::new().unwrap();
    let path = dir.path();
    std::fs::write(
        path.join("twice.txt"),
        "sqlite://a.db?mode=rwc\n# a comment\nsqlite://b.db?mode=rwc\nsqlite://./a.db?mode=rwc\n",
    )
    .unwrap();
    std::fs::write(path.join("empty.txt"), "# nothing yet\n\n").unwrap();
    std::fs::write(
        path.join("bad.txt"),
        "sqlite://a.db?mode=rwc\npostgres://app:s3cret@/db\n",
    )
    .unwrap();
    std::fs::write(path.join("fine.txt"), "sqlite://a.db?mode=rwc\n").unwrap();

    migrate_in(path, &["up", "--targets", "twice.txt"])
        .refused(2, &["twice.txt:4", "twice.txt:1", "again"]);
    migrate_in(path, &["up", "--targets", "empty.txt"]).refused(2, &["names no target"]);
    migrate_in(path, &["up", "--targets", "missing.txt"])
        .refused(2, &["cannot read the target list missing.txt"]);
    let bad = migrate_in(path, &["up", "--targets", "bad.txt"]).refused(2, &["bad.txt:2"]);
    assert!(!bad.stderr.contains("s3cret"), "{bad:?}");
    migrate_in(path, &["up", "--parallel", "4"]).refused(2, &["--parallel applies to a fleet"]);
    migrate_in(path, &["status", "--shard", "1/3"]).refused(2, &["--shard applies to a fleet"]);
    migrate_in(path, &["fresh", "--targets", "fine.txt"])
        .refused(2, &["`migrate fresh` works on one database"]);
    migrate_in(path, &["up", "--schemas", "tenant_*"])
        .refused(2, &["SQLite has no schemas", "--targets"]);
    migrate_in(path, &["status", "--targets", "fine.txt", "--shard", "4/3"]).code(2);
    // A destructive command asks once for the fleet; without a terminal it needs --yes.
    migrate_in(path, &["down", "--targets", "fine.txt"]).refused(5, &["on 1 target(s)", "--yes"]);
    for file in ["a.db", "b.db"] {
        assert!(!path.join(file).exists(), "{file} was created");
    }
}

#[test]
fn a_target_list_on_stdin_is_read_like_a_file() {
    let dir = TempDir::new().unwrap();
    let mut cmd = command(migrate_bin(), dir.path());
    cmd.write_stdin("sqlite://one.db?mode=rwc\nsqlite://two.db?mode=rwc\n");
    let up = run(
        cmd,
        migrate_bin(),
        &["up", "--targets", "-", "--format", "json"],
    )
    .code(0);
    assert_eq!(up.json()["total"]["ok"], 2, "{up:?}");
    assert!(dir.path().join("one.db").exists() && dir.path().join("two.db").exists());
}

#[test]
fn the_seeder_seeds_every_target_of_a_fleet() {
    let dir = TempDir::new().unwrap();
    let list: String = (1..=3)
        .map(|i| format!("sqlite://t{i}.db?mode=rwc\n"))
        .collect();
    std::fs::write(dir.path().join("fleet.txt"), list).unwrap();
    migrate_in(dir.path(), &["up", "--targets", "fleet.txt"]).code(0);
    let seed = tests::workspace_bin("migration", "seed");
    let seeded = run(
        command(seed, dir.path()),
        seed,
        &[
            "minimal",
            "--targets",
            "fleet.txt",
            "--parallel",
            "2",
            "--format",
            "json",
        ],
    )
    .code(0)
    .json();
    assert_eq!(seeded["total"]["ok"], 3, "{seeded}");
    let hashes: BTreeSet<&str> = entries(&seeded)
        .iter()
        .map(|e| e["reports"][0]["content_hash"].as_str().unwrap())
        .collect();
    assert_eq!(
        hashes.len(),
        1,
        "the same profile and seed give the same rows: {seeded}"
    );
    // Emptying the fleet's seeded tables asks once; without a terminal it needs --yes.
    run(
        command(seed, dir.path()),
        seed,
        &["truncate", "--targets", "fleet.txt"],
    )
    .refused(5, &["on 3 target(s)", "--yes"]);
}

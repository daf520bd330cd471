//! Migration sets, through a `migrate` of four sets on two databases (`tests/src/bin/migrate_sets.rs`):
//! `jobs` on a database of its own, then `core`, `metrics` (needs all of `core`) and `reports`
//! (needs `core`'s first migration) on the main one. On every backend: the sets apply in their
//! run order, status and `--set`, `down --all` in reverse, needs enforced in both directions,
//! two runners at once, `verify` and `fresh` across sets; and bad declarations or input refused
//! before anything changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tempfile::TempDir;
use tests::process::{command, finish, isolate, run};
use tests::{Run, TestDb, backend_matrix};

const BIN: &str = env!("CARGO_BIN_EXE_migrate_sets");

/// The sets in run order, and each one's migrations.
const ORDER: [&str; 4] = ["jobs", "core", "metrics", "reports"];

/// A project's two databases: the main one and the one `jobs` runs on.
struct Databases {
    main: TestDb,
    jobs: TestDb,
    dir: TempDir,
}

impl Databases {
    async fn create(main: TestDb) -> Self {
        let jobs = TestDb::create(main.backend)
            .await
            .expect("the backend of the first database is there for the second");
        Databases {
            main,
            jobs,
            dir: TempDir::new().unwrap(),
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = command(Path::new(BIN), self.dir.path());
        cmd.env("DATABASE_URL", &self.main.url)
            .env("JOBS_DATABASE_URL", &self.jobs.url)
            .env_remove("MIGRATE_SETS_BROKEN");
        cmd
    }

    fn migrate(&self, args: &[&str]) -> Run {
        run(self.cmd(), Path::new(BIN), args)
    }

    /// `status --format json`: each set's name with its migrations' states, in output order.
    fn states(&self) -> Vec<(String, Vec<String>)> {
        let status = self.migrate(&["status", "--format", "json"]).code(0).json();
        sets_of(&status)
            .iter()
            .map(|s| {
                let states = s["migrations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["state"].as_str().unwrap().to_owned())
                    .collect();
                (s["set"].as_str().unwrap().to_owned(), states)
            })
            .collect()
    }

    /// Every set's tables, the ledgers included, on both databases.
    async fn dump(&self) -> (String, String) {
        (self.main.dump().await, self.jobs.dump().await)
    }
}

fn sets_of(json: &Value) -> &Vec<Value> {
    json["sets"]
        .as_array()
        .unwrap_or_else(|| panic!("no `sets` array in {json}"))
}

fn names(json: &Value) -> Vec<String> {
    sets_of(json)
        .iter()
        .map(|s| s["set"].as_str().unwrap().to_owned())
        .collect()
}

fn applied(n: usize) -> Vec<String> {
    vec!["applied".to_owned(); n]
}

fn pending(n: usize) -> Vec<String> {
    vec!["pending".to_owned(); n]
}

async fn sets_apply_in_their_order_on_two_databases(main: TestDb) {
    let dbs = Databases::create(main).await;
    let up = dbs.migrate(&["up", "--format", "json"]).code(0).json();
    assert_eq!(names(&up), ORDER, "{up}");
    let steps: Vec<usize> = sets_of(&up)
        .iter()
        .map(|s| s["steps"].as_array().unwrap().len())
        .collect();
    assert_eq!(steps, [1, 2, 2, 1], "{up}");
    // Each set on its own database, each with its own ledger.
    let main = dbs.main.table_names().await;
    let jobs = dbs.jobs.table_names().await;
    for table in ["accounts", "devices", "readings", "alerts", "summaries"] {
        assert!(main.contains(&table.to_owned()), "{table} not in {main:?}");
        assert!(!jobs.contains(&table.to_owned()), "{table} in {jobs:?}");
    }
    assert!(jobs.contains(&"jobs".to_owned()), "{jobs:?}");
    assert!(!main.contains(&"jobs".to_owned()), "{main:?}");
    for ledger in ["core", "metrics", "reports"] {
        assert!(
            main.contains(&format!("{ledger}_schema_migrations")),
            "{main:?}"
        );
    }
    assert!(
        jobs.contains(&"jobs_schema_migrations".to_owned()),
        "{jobs:?}"
    );
    // Nothing left to do: a second `up` applies nothing anywhere.
    let again = dbs.migrate(&["up", "--format", "json"]).code(0).json();
    assert!(
        sets_of(&again)
            .iter()
            .all(|s| s["steps"].as_array().unwrap().is_empty()),
        "{again}"
    );
}

async fn status_groups_by_set_and_database(main: TestDb) {
    let dbs = Databases::create(main).await;
    assert_eq!(
        dbs.states(),
        [
            ("jobs".to_owned(), pending(1)),
            ("core".to_owned(), pending(2)),
            ("metrics".to_owned(), pending(2)),
            ("reports".to_owned(), pending(1)),
        ]
    );
    // Reading creates nothing.
    assert!(dbs.main.table_names().await.is_empty());
    dbs.migrate(&["up"]).code(0);
    let status = dbs.migrate(&["status", "--format", "json"]).code(0).json();
    for set in sets_of(&status) {
        let database = set["database"].as_str().unwrap();
        let expected = if set["set"] == "jobs" {
            &dbs.jobs
        } else {
            &dbs.main
        };
        assert_eq!(database, tests::redact(&expected.url), "{set}");
        assert_eq!(set["ledger_exists"], true, "{set}");
    }
    let text = dbs.migrate(&["status"]).code(0).stdout;
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("Set ")).collect();
    assert_eq!(headings.len(), 4, "{text}");
    assert!(headings[0].starts_with("Set jobs on "), "{text}");
    assert!(headings[3].starts_with("Set reports on "), "{text}");
    dbs.migrate(&["check"]).code(0);
    dbs.migrate(&["down", "--set", "reports"]).code(0);
    dbs.migrate(&["check"]).code(6);
}

async fn a_set_named_with_set_runs_alone(main: TestDb) {
    let dbs = Databases::create(main).await;
    let up = dbs
        .migrate(&["up", "--set", "core", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(names(&up), ["core"], "{up}");
    assert_eq!(
        dbs.states(),
        [
            ("jobs".to_owned(), pending(1)),
            ("core".to_owned(), applied(2)),
            ("metrics".to_owned(), pending(2)),
            ("reports".to_owned(), pending(1)),
        ]
    );
    // Repeated, in any order: still run order.
    let up = dbs
        .migrate(&[
            "up", "--set", "reports", "--set", "metrics", "--format", "json",
        ])
        .code(0)
        .json();
    assert_eq!(names(&up), ["metrics", "reports"], "{up}");
    let status = dbs
        .migrate(&["status", "--set", "jobs", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(names(&status), ["jobs"]);
    // A single-set command takes the set it is given.
    dbs.migrate(&["redo", "--set", "reports", "--yes"]).code(0);
    dbs.migrate(&["redo", "--yes"])
        .refused(2, &["one set at a time", "--set NAME"]);
}

async fn down_all_reverts_the_sets_in_reverse_order(main: TestDb) {
    let dbs = Databases::create(main).await;
    dbs.migrate(&["up"]).code(0);
    let down = dbs
        .migrate(&["down", "--all", "--yes", "--format", "json"])
        .code(0)
        .json();
    let mut reversed = ORDER.to_vec();
    reversed.reverse();
    assert_eq!(names(&down), reversed, "{down}");
    for (set, states) in dbs.states() {
        assert!(states.iter().all(|s| s == "pending"), "{set}: {states:?}");
    }
    let leftover: Vec<String> = dbs
        .main
        .table_names()
        .await
        .into_iter()
        .filter(|t| !t.contains("schema_migrations"))
        .collect();
    assert!(leftover.is_empty(), "{leftover:?}");
    // `down` without `--all` reverts the newest migrations of one set.
    dbs.migrate(&["up"]).code(0);
    dbs.migrate(&["down"])
        .refused(2, &["one set", "--set NAME"]);
    dbs.migrate(&["down", "--set", "metrics"]).code(0);
    assert_eq!(
        dbs.states()[2],
        (
            "metrics".to_owned(),
            vec!["applied".to_owned(), "pending".to_owned()]
        )
    );
}

async fn a_need_across_sets_is_enforced_in_both_directions(main: TestDb) {
    let dbs = Databases::create(main).await;
    // Up: `metrics` before `core` is refused, naming both; nothing is created.
    dbs.migrate(&["up", "--set", "metrics"]).refused(
        4,
        &["cannot apply set `metrics`", "set `core`", "--set core"],
    );
    assert!(dbs.main.table_names().await.is_empty());
    // `reports` needs only `core`'s first migration.
    dbs.migrate(&["up", "--set", "core", "-n", "1"]).code(0);
    dbs.migrate(&["up", "--set", "reports"]).code(0);
    dbs.migrate(&["up", "--set", "metrics"]).refused(
        4,
        &[
            "cannot apply set `metrics`",
            "20240101000002_create_devices",
        ],
    );
    dbs.migrate(&["up"]).code(0);
    // Down: `core` may not go while `metrics` or `reports` needs it.
    let before = dbs.dump().await;
    dbs.migrate(&["down", "--set", "core", "--all", "--yes"])
        .refused(
            4,
            &["of set `core`", "set `metrics` needs it", "--set metrics"],
        );
    dbs.migrate(&["reset", "--set", "core", "--yes"])
        .refused(4, &["set `metrics` needs it"]);
    assert_eq!(
        dbs.dump().await,
        before,
        "a refused down changed the databases"
    );
    // With `metrics` gone, `core`'s second migration may go, but not its first (`reports`).
    dbs.migrate(&["down", "--set", "metrics", "--all", "--yes"])
        .code(0);
    dbs.migrate(&["down", "--set", "core"]).code(0);
    dbs.migrate(&["down", "--set", "core"]).refused(
        4,
        &["20240101000001_create_accounts", "set `reports` needs it"],
    );
    // Taken together, they go in reverse order.
    dbs.migrate(&[
        "down", "--all", "--yes", "--set", "core", "--set", "reports",
    ])
    .code(0);
}

async fn bad_input_is_refused_and_changes_nothing(main: TestDb) {
    let dbs = Databases::create(main).await;
    dbs.migrate(&["up", "--set", "nope"])
        .refused(2, &["unknown set `nope`", "jobs, core, metrics, reports"]);
    let mut cmd = dbs.cmd();
    cmd.env_remove("JOBS_DATABASE_URL");
    run(cmd, Path::new(BIN), &["up"]).refused(2, &["set `jobs`", "JOBS_DATABASE_URL"]);
    assert!(dbs.main.table_names().await.is_empty());
    assert!(dbs.jobs.table_names().await.is_empty());
    // Leaving the set without its database out works.
    let mut cmd = dbs.cmd();
    cmd.env_remove("JOBS_DATABASE_URL");
    run(cmd, Path::new(BIN), &["up", "--set", "core"]).code(0);
    // `fresh` of one set would wipe the others on its database.
    dbs.migrate(&["fresh", "--set", "core", "--yes"])
        .refused(2, &["set `core`", "--set"]);
}

async fn two_runners_at_once_apply_each_migration_once(main: TestDb) {
    let dbs = Databases::create(main).await;
    let spawn = || {
        let mut cmd = std::process::Command::new(BIN);
        isolate(&mut cmd, dbs.dir.path());
        cmd.env("DATABASE_URL", &dbs.main.url)
            .env("JOBS_DATABASE_URL", &dbs.jobs.url)
            .args(["up", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = tokio::join!(finish("up (a)".into(), a), finish("up (b)".into(), b));
    let total: usize = [a.code(0), b.code(0)]
        .iter()
        .map(|run| {
            sets_of(&run.json())
                .iter()
                .map(|s| s["steps"].as_array().unwrap().len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        total, 6,
        "each migration applied exactly once between the two runners"
    );
    let history = dbs.migrate(&["history", "--format", "json"]).code(0).json();
    for set in sets_of(&history) {
        let entries = set["history"].as_array().unwrap();
        let mut versions: Vec<&str> = entries
            .iter()
            .map(|e| e["version"].as_str().unwrap())
            .collect();
        let count = versions.len();
        versions.sort_unstable();
        versions.dedup();
        assert_eq!(versions.len(), count, "applied twice in {set}");
    }
}

async fn verify_checks_every_set_after_the_ones_before_it(main: TestDb) {
    let dbs = Databases::create(main).await;
    let report = dbs.migrate(&["verify", "--format", "json"]).code(0).json();
    assert_eq!(names(&report), ORDER, "{report}");
    let verified: Vec<usize> = sets_of(&report)
        .iter()
        .map(|s| s["verified"].as_array().unwrap().len())
        .collect();
    assert_eq!(verified, [1, 2, 2, 1], "{report}");
    // The targets were never touched.
    assert!(dbs.main.table_names().await.is_empty());
    assert!(dbs.jobs.table_names().await.is_empty());
}

async fn fresh_rebuilds_every_set_in_order(main: TestDb) {
    let dbs = Databases::create(main).await;
    dbs.migrate(&["up"]).code(0);
    dbs.migrate(&["down", "--set", "reports"]).code(0);
    let fresh = dbs
        .migrate(&["fresh", "--yes", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(names(&fresh), ORDER, "{fresh}");
    for (set, states) in dbs.states() {
        assert!(states.iter().all(|s| s == "applied"), "{set}: {states:?}");
    }
    dbs.migrate(&["fresh"]).refused(5, &["--yes"]);
}

backend_matrix!(
    sets_apply_in_their_order_on_two_databases,
    status_groups_by_set_and_database,
    a_set_named_with_set_runs_alone,
    down_all_reverts_the_sets_in_reverse_order,
    a_need_across_sets_is_enforced_in_both_directions,
    bad_input_is_refused_and_changes_nothing,
    two_runners_at_once_apply_each_migration_once,
    verify_checks_every_set_after_the_ones_before_it,
    fresh_rebuilds_every_set_in_order,
);

/// Runs the fixture with a broken declaration against a server that is not there.
fn broken(kind: &str, dir: &Path) -> Run {
    let mut cmd = command(Path::new(BIN), dir);
    cmd.env("MIGRATE_SETS_BROKEN", kind)
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JOBS_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    run(cmd, Path::new(BIN), &["status"])
}

#[test]
fn broken_declarations_are_refused_before_connecting() {
    let dir = TempDir::new().unwrap();
    broken("cycle", dir.path()).refused(4, &["cycle", "core -> reports -> core", "remove one"]);
    broken("unknown_set", dir.path()).refused(4, &["set `reports` needs set `nowhere`"]);
    broken("unknown_migration", dir.path())
        .refused(4, &["m20991231_000009_not_there", "of set `core`"]);
    // Declared correctly, the same command reaches for the server.
    let mut cmd = command(Path::new(BIN), dir.path());
    cmd.env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JOBS_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    run(cmd, Path::new(BIN), &["status"]).refused(2, &["127.0.0.1:1"]);
}

#[test]
fn create_writes_the_module_into_the_named_set() {
    let dir = TempDir::new().unwrap();
    let src = dir.path().join("core");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        src.join("mod.rs"),
        "use sea_orm_migration::prelude::*;\n\nmod m20240101_000001_create_accounts;\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            Box::new(m20240101_000001_create_accounts::Migration),\n        ]\n    }\n}\n",
    )
    .unwrap();
    let cmd = command(Path::new(BIN), dir.path());
    let src_arg = src.display().to_string();
    let created = run(
        cmd,
        Path::new(BIN),
        &[
            "create",
            "--set",
            "core",
            "-d",
            &src_arg,
            "add_owner",
            "--format",
            "json",
        ],
    )
    .code(0)
    .json();
    let file = created["created"].as_str().unwrap();
    assert!(file.ends_with("_add_owner.rs"), "{file}");
    let listed = std::fs::read_to_string(src.join("mod.rs")).unwrap();
    let module = Path::new(file).file_stem().unwrap().to_str().unwrap();
    assert!(listed.contains(&format!("mod {module};")), "{listed}");
    assert!(
        listed.contains(&format!("Box::new({module}::Migration)")),
        "{listed}"
    );
    let cmd = command(Path::new(BIN), dir.path());
    run(cmd, Path::new(BIN), &["create", "x"]).refused(2, &["one set", "--set NAME"]);
}

#[test]
fn a_project_of_one_list_refuses_set() {
    let dir = TempDir::new().unwrap();
    tests::run_in(
        tests::migrate_bin(),
        dir.path(),
        &["status", "--set", "core"],
    )
    .refused(2, &["unknown set `core`", "no named sets"]);
}

/// The JSON shape of `status` across sets is part of its contract: a `sets` array, in run
/// order, each a set's name, its database and the status of one set.
#[tokio::test]
async fn status_across_sets_has_a_stable_json_shape() {
    let dbs = Databases::create(TestDb::create(tests::Backend::Sqlite).await.unwrap()).await;
    let json = dbs
        .migrate(&["status", "--format", "json"])
        .code(0)
        .stdout
        .replace(&tests::redact(&dbs.main.url), "[main]")
        .replace(&tests::redact(&dbs.jobs.url), "[jobs]");
    insta::assert_snapshot!("status_across_sets", json);
}

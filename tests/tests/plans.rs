//! Plans through the `migrate` binary on the reference schema, on every backend: creating them
//! from `--select` and from the interactive picker (driven through a pseudo-terminal), listing
//! and showing them, running and rolling them back, and both dependency refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::state_words;
use expectrl::Expect;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tests::{Run, migrate_bin, run_in};
use tests::{TestDb, backend_matrix};

/// A working directory with a `plans/` directory for one test.
struct Workspace {
    dir: TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self {
            dir: TempDir::new().unwrap(),
        }
    }

    fn plans(&self) -> PathBuf {
        self.dir.path().join("plans")
    }

    /// Runs `migrate -u <db> <args>`; plan commands get `--plans-dir`.
    fn migrate(&self, db: &TestDb, args: &[&str]) -> Run {
        let plans = self.plans();
        let mut all = vec!["-u", db.url.as_str()];
        all.extend_from_slice(args);
        if args.first() == Some(&"plan") {
            all.extend(["--plans-dir", plans.to_str().unwrap()]);
        }
        run_in(migrate_bin(), self.dir.path(), &all)
    }

    fn plan_file(&self, name: &str) -> String {
        std::fs::read_to_string(self.plans().join(format!("{name}.toml"))).unwrap()
    }

    fn plan_versions(&self, name: &str) -> Vec<String> {
        let plan: toml::Table = toml::from_str(&self.plan_file(name)).unwrap();
        plan["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["version"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The reference schema's version of migration `n` (1 to 11).
fn v(n: u32) -> String {
    format!("202408130000{n:02}")
}

fn states(ws: &Workspace, db: &TestDb) -> Vec<String> {
    state_words(
        &ws.migrate(db, &["status", "--format", "json"])
            .code(0)
            .json(),
    )
}

fn first_applied(applied: usize) -> Vec<String> {
    (0..11)
        .map(|i| if i < applied { "applied" } else { "pending" }.to_owned())
        .collect()
}

async fn plans_are_saved_from_a_selection_by_version(db: TestDb) {
    let ws = Workspace::new();
    let created = ws
        .migrate(
            &db,
            &[
                "plan",
                "create",
                "payments-early",
                "--select",
                " 8 ,7",
                "--description",
                "Payments ahead of 1.3.0",
            ],
        )
        .code(0);
    assert!(
        created
            .stdout
            .contains("Saved plan `payments-early` with 2 migration(s)"),
        "{created:?}"
    );
    let file = ws.plan_file("payments-early");
    let plan: toml::Table = toml::from_str(&file).unwrap();
    assert_eq!(plan["name"].as_str(), Some("payments-early"));
    assert_eq!(
        plan["description"].as_str(),
        Some("Payments ahead of 1.3.0")
    );
    assert!(plan["created_at"].is_datetime(), "{file}");
    assert!(plan["created_by"].as_str().unwrap().contains('@'), "{file}");
    assert_eq!(ws.plan_versions("payments-early"), [v(7), v(8)]);
    assert!(file.contains("name = \"create_booking_tables\""), "{file}");

    ws.migrate(
        &db,
        &["plan", "create", "wide", "--select", "1, 3-4 ,2,all"],
    )
    .refused(2, &["`all` at column 11"]);
    ws.migrate(&db, &["plan", "create", "wide", "--select", "1,9-x"])
        .refused(2, &["`9-x` at column 3"]);
    ws.migrate(&db, &["plan", "create", "wide", "--select", "3-12"])
        .refused(2, &["`3-12` at column 1", "from 1 to 11"]);
    ws.migrate(&db, &["plan", "create", "wide", "--select", "none"])
        .refused(5, &["cancelled"]);
    ws.migrate(&db, &["plan", "create", "wide"])
        .refused(2, &["--select"]);
    ws.migrate(&db, &["plan", "create", "Wide", "--select", "1"])
        .refused(2, &["invalid plan name `Wide`"]);
    assert!(!ws.plans().join("wide.toml").exists());
    ws.migrate(&db, &["plan", "create", "payments-early", "--select", "1"])
        .refused(2, &["already exists"]);

    ws.migrate(&db, &["plan", "create", "core", "--select", " 1, 3-4 ,2"])
        .code(0);
    assert_eq!(ws.plan_versions("core"), [v(1), v(2), v(3), v(4)]);

    let list = ws
        .migrate(&db, &["plan", "list", "--format", "json"])
        .code(0)
        .json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["core", "payments-early"]);
    assert_eq!(list[0]["state"], "pending");

    let shown = ws.migrate(&db, &["plan", "show", "payments-early"]).code(0);
    assert!(
        shown.stdout.contains("Payments ahead of 1.3.0"),
        "{shown:?}"
    );
    assert!(shown.stdout.contains("create_payment_tables"), "{shown:?}");
    assert!(shown.stdout.contains("1.3.0"), "{shown:?}");
    ws.migrate(&db, &["plan", "show", "absent"])
        .refused(2, &["no plan `absent`"]);
    assert!(
        db.table_names().await.is_empty(),
        "plan commands create nothing"
    );
}

async fn a_plan_runs_only_when_what_it_needs_is_applied_or_in_it(db: TestDb) {
    let ws = Workspace::new();
    ws.migrate(&db, &["up", "--to-release", "1.1.0"]).code(0);
    ws.migrate(&db, &["plan", "create", "payments", "--select", "8"])
        .code(0);
    let before = db.dump().await;
    ws.migrate(&db, &["plan", "run", "payments"]).refused(
        4,
        &[
            "plan `payments` cannot run",
            "20240813000008_create_payment_tables needs 20240813000007_create_booking_tables, which is neither applied nor in the plan",
        ],
    );
    assert_eq!(db.dump().await, before, "a refused plan changes nothing");

    ws.migrate(
        &db,
        &["plan", "create", "bookings-and-payments", "--select", "7-8"],
    )
    .code(0);
    let dry = ws
        .migrate(&db, &["plan", "run", "bookings-and-payments", "--dry-run"])
        .code(0);
    assert!(
        dry.stdout
            .contains("20240813000008_create_payment_tables (up"),
        "{dry:?}"
    );
    assert_eq!(db.dump().await, before, "a dry run changes nothing");

    let run = ws
        .migrate(
            &db,
            &["plan", "run", "bookings-and-payments", "--reason", "hotfix"],
        )
        .code(0);
    assert!(
        run.stdout
            .contains("Plan `bookings-and-payments`: applied 2 migration(s) in batch 2"),
        "{run:?}"
    );
    let status = ws
        .migrate(&db, &["status", "--format", "json"])
        .code(0)
        .json();
    let eight = &status["migrations"][7];
    assert_eq!(eight["state"], "applied");
    assert_eq!(eight["batch"], 2);
    assert_eq!(eight["plan"], "bookings-and-payments");

    let again = ws
        .migrate(&db, &["plan", "run", "bookings-and-payments"])
        .code(0);
    assert!(again.stdout.contains("Nothing to do"), "{again:?}");

    // What the plan skipped is not late: a plain `up` applies it.
    ws.migrate(&db, &["up"]).code(0);
    assert_eq!(states(&ws, &db), first_applied(11));

    let history = ws
        .migrate(&db, &["history", "--format", "json"])
        .code(0)
        .json();
    let planned: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["plan"] == "bookings-and-payments")
        .collect();
    assert_eq!(planned.len(), 2, "{history:#}");
    for e in &planned {
        assert_eq!(e["action"], "apply");
        assert_eq!(e["reason"], "hotfix");
        assert_eq!(e["batch"], 2);
    }
    assert_eq!(planned[0]["release"], "1.3.0");
    assert_eq!(planned[1]["release"], "1.2.0");
}

async fn a_plan_rolls_back_only_when_nothing_staying_needs_it(db: TestDb) {
    let ws = Workspace::new();
    ws.migrate(&db, &["up"]).code(0);
    ws.migrate(&db, &["plan", "create", "bookings", "--select", "7"])
        .code(0);
    let before = db.dump().await;
    ws.migrate(&db, &["plan", "rollback", "bookings"]).refused(
        4,
        &[
            "cannot revert plan `bookings`",
            "20240813000008_create_payment_tables, which stays applied, needs 20240813000007_create_booking_tables",
            "20240813000009_create_system_tables, which stays applied, needs",
        ],
    );
    assert_eq!(
        db.dump().await,
        before,
        "a refused rollback changes nothing"
    );

    ws.migrate(&db, &["plan", "create", "reporting", "--select", "10-11"])
        .code(0);
    let dry = ws
        .migrate(&db, &["plan", "rollback", "reporting", "--dry-run"])
        .code(0);
    assert!(
        dry.stdout.contains("20240813000011_create_views (down"),
        "{dry:?}"
    );
    assert_eq!(db.dump().await, before, "a dry run changes nothing");
    let rolled = ws
        .migrate(
            &db,
            &[
                "plan",
                "rollback",
                "reporting",
                "--reason",
                "views misbehave",
            ],
        )
        .code(0);
    assert!(
        rolled
            .stdout
            .contains("Plan `reporting`: reverted 2 migration(s)"),
        "{rolled:?}"
    );
    assert_eq!(states(&ws, &db), first_applied(9));
    let history = ws
        .migrate(&db, &["history", "--format", "json"])
        .code(0)
        .json();
    let reverts: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "revert")
        .collect();
    assert_eq!(reverts.len(), 2);
    for e in reverts {
        assert_eq!(e["plan"], "reporting");
        assert_eq!(e["reason"], "views misbehave");
        assert_eq!(e["release"], "1.4.0");
    }

    // A plan that reverts everything asks first, as `down --all` does.
    ws.migrate(&db, &["plan", "create", "everything", "--select", "all"])
        .code(0);
    ws.migrate(&db, &["plan", "rollback", "everything"])
        .refused(5, &["--yes"]);
    ws.migrate(&db, &["plan", "rollback", "everything", "--yes"])
        .code(0);
    assert_eq!(states(&ws, &db), first_applied(0));
}

/// Drives `migrate plan create NAME` on a pseudo-terminal, answering `answers` in order: each
/// pair is the prompt text to wait for and the keys to send.
fn picker(db_url: &str, dir: &Path, name: &str, answers: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new(migrate_bin());
    cmd.current_dir(dir)
        .args(["-u", db_url, "plan", "--plans-dir", "plans", "create", name]);
    for var in tests::process::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1").env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    session.get_process_mut().set_window_size(200, 60).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let mut seen = String::new();
    for (prompt, keys) in answers {
        let found = session
            .expect(*prompt)
            .unwrap_or_else(|e| panic!("no `{prompt}` on the terminal ({e}); so far:\n{seen}"));
        seen.push_str(&String::from_utf8_lossy(found.before()));
        seen.push_str(prompt);
        session.send(*keys).unwrap();
    }
    let rest = session.expect(expectrl::Eof).unwrap();
    seen.push_str(&String::from_utf8_lossy(rest.before()));
    let code = match session.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("migrate did not exit: {other:?}\n{seen}"),
    };
    (code, seen)
}

async fn the_picker_saves_what_was_picked_on_a_terminal(db: TestDb) {
    let ws = Workspace::new();
    ws.migrate(&db, &["up", "--to-release", "1.0.0"]).code(0);
    let url = db.url.clone();
    let dir = ws.dir.path().to_path_buf();
    let (code, screen) = tokio::task::spawn_blocking(move || {
        picker(
            &url,
            &dir,
            "by-hand",
            &[
                // A bad token is pointed at and the question asked again.
                ("Migrations for plan `by-hand`", "1,x\r"),
                ("`x` at column 3", "\x7f\x7f\x7f1-3,5\r"),
                ("Description (optional)", "Picked on a terminal\r"),
                ("Save plan `by-hand` with these 4 migration(s)?", "y\r"),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    for column in ["create_schedule_tables", "1.1.0", "applied", "pending"] {
        assert!(
            screen.contains(column),
            "the list lacks `{column}`:\n{screen}"
        );
    }
    assert_eq!(ws.plan_versions("by-hand"), [v(1), v(2), v(3), v(5)]);
    assert!(
        ws.plan_file("by-hand")
            .contains("description = \"Picked on a terminal\""),
        "{}",
        ws.plan_file("by-hand")
    );

    // Saying no saves nothing; so does `none`.
    let url = db.url.clone();
    let dir = ws.dir.path().to_path_buf();
    let (declined, screen) = tokio::task::spawn_blocking(move || {
        picker(
            &url,
            &dir,
            "declined",
            &[
                ("Migrations for plan `declined`", "all\r"),
                ("Description (optional)", "\r"),
                ("Save plan `declined` with these 11 migration(s)?", "n\r"),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(declined, 5, "{screen}");
    let url = db.url.clone();
    let dir = ws.dir.path().to_path_buf();
    let (cancelled, screen) = tokio::task::spawn_blocking(move || {
        picker(
            &url,
            &dir,
            "declined",
            &[("Migrations for plan `declined`", "none\r")],
        )
    })
    .await
    .unwrap();
    assert_eq!(cancelled, 5, "{screen}");
    assert!(!ws.plans().join("declined.toml").exists());
}

backend_matrix!(
    plans_are_saved_from_a_selection_by_version,
    a_plan_runs_only_when_what_it_needs_is_applied_or_in_it,
    a_plan_rolls_back_only_when_nothing_staying_needs_it,
    the_picker_saves_what_was_picked_on_a_terminal,
);

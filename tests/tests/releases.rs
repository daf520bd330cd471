//! Releases and batches through the `migrate` binary on the reference schema, on every backend:
//! `up` and `down` to a release, `releases` and `report`, batch rollbacks with the dependency
//! check, and the history rows each of them leaves, with their reasons.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{releases_bin, state_words};
use serde_json::Value;
use tempfile::TempDir;
use tests::{Run, migrate_bin, run_in};
use tests::{TestDb, backend_matrix};

/// Runs `migrate -u <db> args...` in a fresh directory.
fn migrate(db: &TestDb, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    run_in(migrate_bin(), dir.path(), &all)
}

/// The reference schema's version of migration `n` (1 to 11).
fn v(n: u32) -> String {
    format!("202408130000{n:02}")
}

fn status(db: &TestDb) -> Value {
    migrate(db, &["status", "--format", "json"]).code(0).json()
}

/// `applied` for the first `applied` migrations, `pending` for the rest.
fn first_applied(applied: usize) -> Vec<String> {
    (0..11)
        .map(|i| if i < applied { "applied" } else { "pending" }.to_owned())
        .collect()
}

/// `(version, state)` of each release in `releases --format json`.
fn release_states(db: &TestDb) -> Vec<(String, String)> {
    let json = migrate(db, &["releases", "--format", "json"])
        .code(0)
        .json();
    json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn releases(states: [&str; 5]) -> Vec<(String, String)> {
    ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]
        .iter()
        .zip(states)
        .map(|(v, s)| ((*v).to_owned(), s.to_owned()))
        .collect()
}

fn history(db: &TestDb) -> Vec<Value> {
    migrate(db, &["history", "--format", "json"])
        .code(0)
        .json()
        .as_array()
        .unwrap()
        .clone()
}

async fn up_and_down_move_a_database_between_releases(db: TestDb) {
    assert_eq!(
        release_states(&db),
        releases(["pending", "pending", "pending", "pending", "pending"])
    );
    assert!(
        db.table_names().await.is_empty(),
        "releases creates nothing"
    );

    let up = migrate(
        &db,
        &["up", "--to-release", "1.1.0", "--reason", "install 1.1"],
    )
    .code(0);
    assert!(
        up.stdout.contains("Applied 6 migration(s) in batch 1"),
        "{up:?}"
    );
    assert_eq!(state_words(&status(&db)), first_applied(6));
    assert_eq!(
        release_states(&db),
        releases(["applied", "applied", "pending", "pending", "pending"])
    );

    migrate(&db, &["up", "--to-release", "9.9.9"]).refused(
        2,
        &[
            "unknown release `9.9.9`",
            "1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0",
        ],
    );
    let again = migrate(&db, &["up", "--to-release", "1.1.0"]).code(0);
    assert!(again.stdout.contains("Nothing to do"), "{again:?}");

    migrate(
        &db,
        &["up", "--to-release", "v1.4.0", "--reason", "upgrade to 1.4"],
    )
    .code(0);
    assert_eq!(state_words(&status(&db)), first_applied(11));

    let down = migrate(
        &db,
        &["down", "--to-release", "1.2.0", "--reason", "back to 1.2"],
    )
    .code(0);
    assert!(down.stdout.contains("Reverted 4 migration(s)"), "{down:?}");
    assert_eq!(state_words(&status(&db)), first_applied(7));
    assert_eq!(
        release_states(&db),
        releases(["applied", "applied", "applied", "pending", "pending"])
    );

    // One migration of 1.4.0 makes it partly applied.
    migrate(&db, &["up", "-n", "2"]).code(0);
    assert_eq!(
        release_states(&db),
        releases(["applied", "applied", "applied", "applied", "partly"])
    );

    migrate(
        &db,
        &["down", "--to-release", "1.0.0", "--reason", "back to 1.0"],
    )
    .code(0);
    assert_eq!(state_words(&status(&db)), first_applied(4));

    let entries = history(&db);
    let reverted_to_1_0: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "revert" && e["reason"] == "back to 1.0")
        .collect();
    assert_eq!(reverted_to_1_0.len(), 5, "{entries:#?}");
    let first = entries
        .iter()
        .rev()
        .find(|e| e["version"] == v(1).as_str())
        .unwrap();
    assert_eq!(first["action"], "apply");
    assert_eq!(first["release"], "1.0.0");
    assert_eq!(first["reason"], "install 1.1");
    assert_eq!(first["batch"], 1);
    assert_eq!(first["outcome"], "success");
    assert!(first["plan"].is_null());
    assert!(
        first["performed_by"].as_str().unwrap().contains('@'),
        "{first}"
    );
    assert!(first["duration_ms"].as_i64().unwrap() >= 0);
    let upgraded = entries
        .iter()
        .find(|e| e["version"] == v(11).as_str() && e["action"] == "apply")
        .unwrap();
    assert_eq!(upgraded["release"], "1.4.0");
    assert_eq!(upgraded["reason"], "upgrade to 1.4");
}

async fn report_prints_release_notes_with_states(db: TestDb) {
    migrate(&db, &["up", "--to-release", "1.2.0"]).code(0);
    let report = migrate(&db, &["report"]).code(0);
    let md = &report.stdout;
    assert!(md.starts_with("# Releases\n"), "{report:?}");
    for line in [
        "| 1.2.0 | 2024-10-01 | applied | 1/1 |",
        "| 1.4.0 | 2024-12-03 | pending | 0/3 |",
        "## 1.2.0 (applied)",
        "## 1.3.0 (pending)",
        "| 20240813000007 | create_booking_tables | applied |",
        "| 20240813000008 | create_payment_tables | pending |",
        "### Breaking changes",
        "- timeslots.booked_count is kept by the database",
        "### Upgrade notes",
    ] {
        assert!(md.contains(line), "no `{line}` in the report:\n{md}");
    }
    assert!(!md.contains("## Unreleased"), "{md}");

    let json = migrate(&db, &["report", "--format", "json"]).code(0).json();
    let bookings = &json["releases"][2];
    assert_eq!(bookings["version"], "1.2.0");
    assert_eq!(bookings["state"], "applied");
    assert_eq!(bookings["migrations"][0]["state"], "applied");
    assert!(!bookings["breaking_changes"].as_array().unwrap().is_empty());
    assert!(!bookings["upgrade_notes"].as_array().unwrap().is_empty());
    assert_eq!(json["unreleased"], serde_json::json!([]));
}

async fn batches_roll_back_as_units_when_nothing_later_needs_them(db: TestDb) {
    migrate(&db, &["up", "--to-release", "1.0.0"]).code(0);
    migrate(&db, &["up", "--to-release", "1.2.0"]).code(0);
    migrate(&db, &["up", "--reason", "1.3 and 1.4"]).code(0);
    let batches: Vec<i64> = status(&db)["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["batch"].as_i64().unwrap())
        .collect();
    assert_eq!(batches, [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3]);

    // Payments (batch 3) need bookings (batch 2).
    let before = db.dump().await;
    migrate(&db, &["down", "--batch", "2"]).refused(
        4,
        &[
            "cannot revert batch 2",
            "20240813000008_create_payment_tables, which stays applied, needs 20240813000007_create_booking_tables",
        ],
    );
    assert_eq!(
        db.dump().await,
        before,
        "a refused batch rollback changes nothing"
    );
    migrate(&db, &["down", "--batch", "7"]).refused(2, &["batch 7"]);

    let last = migrate(&db, &["down", "--batch", "--reason", "undo batch 3"]).code(0);
    assert!(last.stdout.contains("Reverted 4 migration(s)"), "{last:?}");
    assert_eq!(state_words(&status(&db)), first_applied(7));

    migrate(&db, &["down", "--batch", "2", "--reason", "undo batch 2"]).code(0);
    assert_eq!(state_words(&status(&db)), first_applied(4));

    // The last batch is now everything: that needs confirmation, as `down --all` does.
    migrate(&db, &["down", "--batch"]).refused(5, &["--yes"]);
    migrate(&db, &["down", "--batch", "--yes"]).code(0);
    assert_eq!(state_words(&status(&db)), first_applied(0));

    let entries = history(&db);
    let batch_three: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "revert" && e["reason"] == "undo batch 3")
        .collect();
    assert_eq!(batch_three.len(), 4);
    assert!(
        batch_three.iter().all(|e| e["batch"] == 3),
        "{batch_three:#?}"
    );
    let text = migrate(&db, &["history", "--limit", "3"]).code(0).stdout;
    assert!(text.contains("Batch") && text.contains("Release"), "{text}");
}

/// The reference releases file with its newest migration left out, as after
/// `sea-orm-cli migrate generate` (or a migration written by hand) when nobody touched the file;
/// with `require_listed = true` on top when `required`.
fn releases_without_the_newest(required: bool) -> String {
    let original = std::fs::read_to_string(
        tests::workspace_root()
            .join("migration")
            .join("releases.toml"),
    )
    .unwrap();
    let entry = "  \"m20240813_000011_create_views\",\n";
    assert!(original.contains(entry), "{original}");
    let file = original.replace(entry, "");
    if required {
        format!("require_listed = true\n{file}")
    } else {
        file
    }
}

/// Runs the `migrate_releases` binary on `db` in a fresh directory holding `releases`.
fn migrate_with(releases: &str, db: &TestDb, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("releases.toml"), releases).unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    run_in(releases_bin(), dir.path(), &all)
}

async fn a_migration_in_no_release_is_unreleased_and_up_applies_it(db: TestDb) {
    let file = releases_without_the_newest(false);
    let run = |args: &[&str]| migrate_with(&file, &db, args);

    let json = run(&["releases", "--format", "json"]).code(0).json();
    assert_eq!(json["unreleased"][0]["version"], v(11).as_str(), "{json}");
    assert_eq!(json["unreleased"][0]["state"], "pending", "{json}");
    assert_eq!(
        json["releases"][4]["migrations"].as_array().unwrap().len(),
        2
    );
    let text = run(&["releases"]).code(0).stdout;
    assert!(
        text.lines()
            .any(|l| l.contains("unreleased") && l.contains("0/1")),
        "{text}"
    );
    let status = run(&["status"]).code(0).stdout;
    let row = status
        .lines()
        .find(|l| l.contains(&v(11)))
        .unwrap_or_else(|| panic!("no row for {} in:\n{status}", v(11)));
    assert!(row.contains("unreleased"), "{status}");
    let json = run(&["status", "--format", "json"]).code(0).json();
    assert!(json["migrations"][10]["release"].is_null(), "{json}");
    assert_eq!(json["migrations"][9]["release"], "1.4.0", "{json}");
    // Pending, not invalid.
    run(&["check"]).code(6);

    let to_release = run(&["up", "--to-release", "1.4.0"]).code(0);
    assert!(
        to_release.stdout.contains("Applied 10 migration(s)"),
        "{to_release:?}"
    );
    let up = run(&["up"]).code(0);
    assert!(up.stdout.contains("Applied 1 migration(s)"), "{up:?}");
    assert_eq!(
        state_words(&run(&["status", "--format", "json"]).code(0).json()),
        first_applied(11)
    );
    run(&["check"]).code(0);
    let report = run(&["report"]).code(0).stdout;
    assert!(report.contains("## Unreleased"), "{report}");
    assert!(
        report.contains("| 20240813000011 | create_views | applied |"),
        "{report}"
    );
}

async fn with_require_listed_check_and_releases_refuse_a_migration_in_no_release(db: TestDb) {
    let file = releases_without_the_newest(true);
    let run = |args: &[&str]| migrate_with(&file, &db, args);
    let message = [
        "migration(s) in no release: m20240813_000011_create_views",
        "add each to a release in releases.toml, or to `unreleased` until it ships",
    ];
    run(&["check"]).refused(4, &message);
    run(&["releases"]).refused(4, &message);
    run(&["releases", "--format", "json"]).refused(4, &message);
    assert!(
        db.table_names().await.is_empty(),
        "a refusal creates nothing"
    );

    // The other commands treat it as unreleased.
    run(&["up"]).code(0);
    run(&["check"]).refused(4, &message);

    // Listed, in `unreleased` or in a release, it passes.
    let listed = file.replacen(
        "unreleased = []",
        "unreleased = [\"m20240813_000011_create_views\"]",
        1,
    );
    assert_ne!(listed, file);
    migrate_with(&listed, &db, &["check"]).code(0);
    migrate_with(&listed, &db, &["releases"]).code(0);
}

backend_matrix!(
    up_and_down_move_a_database_between_releases,
    report_prints_release_notes_with_states,
    batches_roll_back_as_units_when_nothing_later_needs_them,
    a_migration_in_no_release_is_unreleased_and_up_applies_it,
    with_require_listed_check_and_releases_refuse_a_migration_in_no_release,
);

/// `create` lists a new migration as unreleased, so the release check accounts for it at once.
#[test]
fn create_lists_a_new_migration_as_unreleased() {
    let dir = TempDir::new().unwrap();
    let crate_dir = dir.path().join("migration");
    let src = crate_dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let original = tests::workspace_root().join("migration");
    for file in ["Cargo.toml", "releases.toml"] {
        std::fs::copy(original.join(file), crate_dir.join(file)).unwrap();
    }
    std::fs::copy(original.join("src").join("lib.rs"), src.join("lib.rs")).unwrap();

    let created = run_in(
        migrate_bin(),
        dir.path(),
        &["create", "add_waitlist", "-d", src.to_str().unwrap()],
    )
    .code(0);
    let file = created.stdout.split_whitespace().nth(1).unwrap();
    let module = std::path::Path::new(file.trim_end_matches(';'))
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let releases: toml::Table =
        toml::from_str(&std::fs::read_to_string(crate_dir.join("releases.toml")).unwrap()).unwrap();
    assert_eq!(
        releases["unreleased"].as_array().unwrap(),
        &[toml::Value::String(module)],
        "{created:?}"
    );
    assert_eq!(releases["release"].as_array().unwrap().len(), 5);
}

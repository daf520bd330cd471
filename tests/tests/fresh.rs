//! `fresh` says what it drops, on every backend: its dry run, its confirmation (without a
//! terminal and on one) and its output list the objects, marking a table no migration created.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::state_words;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tests::{Backend, TestDb, backend_matrix};
use tests::{Run, migrate_bin, run_in};

/// Runs `migrate -u <db> args...` in a fresh directory.
fn migrate(db: &TestDb, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    run_in(migrate_bin(), dir.path(), &all)
}

/// Adds a table no migration creates, with a row, by plain SQL.
async fn add_precious(db: &TestDb) {
    let conn = db.connect().await;
    for sql in [
        "CREATE TABLE precious (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(20))",
        "INSERT INTO precious (id, note) VALUES (1, 'keep me')",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    let _ = conn.close().await;
}

/// The rows of `precious`, or `None` when the table is gone.
async fn precious_rows(db: &TestDb) -> Option<i64> {
    if !db.table_names().await.contains(&"precious".to_owned()) {
        return None;
    }
    let conn = db.connect().await;
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM precious",
        ))
        .await
        .unwrap()
        .unwrap();
    let _ = conn.close().await;
    Some(row.try_get("", "n").unwrap())
}

/// The object named `name` in a JSON listing.
fn listed<'a>(objects: &'a Value, name: &str) -> &'a Value {
    objects
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {objects}"))
}

/// The text of the group of objects no migration created, from a listing on `text`.
fn not_created_group(text: &str) -> &str {
    let start = text
        .find("not created by any migration of this project")
        .unwrap_or_else(|| panic!("no group of objects no migration created in:\n{text}"));
    let rest = &text[start..];
    let end = rest
        .find("created by this project's migrations")
        .unwrap_or(rest.len());
    &rest[..end]
}

async fn fresh_lists_what_it_drops_and_marks_what_no_migration_created(db: TestDb) {
    migrate(&db, &["up"]).code(0);
    add_precious(&db).await;

    // The dry run lists, changes nothing, exits 0.
    let before = db.dump().await;
    let dry = migrate(&db, &["fresh", "--dry-run"]).code(0);
    assert!(dry.stdout.contains("Dry run"), "{dry:?}");
    assert!(
        not_created_group(&dry.stdout).contains("table precious"),
        "{dry:?}"
    );
    assert!(
        !not_created_group(&dry.stdout).contains("table tenants"),
        "{dry:?}"
    );
    let json = migrate(&db, &["fresh", "--dry-run", "--format", "json"])
        .code(0)
        .json();
    // The shape, and what the reference schema holds on this backend, reviewed like code.
    insta::assert_snapshot!(
        format!("fresh_dry_run_{}", db.backend),
        serde_json::to_string_pretty(&json).unwrap()
    );
    let drops = &json["drops"];
    let precious = listed(drops, "precious");
    assert_eq!(precious["kind"], "table", "{precious}");
    assert_eq!(precious["created_by_migrations"], false, "{precious}");
    assert_eq!(precious["ledger"], false, "{precious}");
    assert_eq!(listed(drops, "tenants")["created_by_migrations"], true);
    assert_eq!(listed(drops, "available_timeslots")["kind"], "view");
    assert_eq!(listed(drops, "schema_migrations")["ledger"], true);
    if db.backend == Backend::Postgres {
        assert_eq!(
            listed(drops, "set_updated_at()")["created_by_migrations"],
            true
        );
        assert_eq!(listed(drops, "pgcrypto")["kind"], "extension");
        assert_eq!(listed(drops, "pgcrypto")["created_by_migrations"], true);
    }
    // Everything else in the reference schema is the migrations' own.
    let foreign: Vec<&str> = drops
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["created_by_migrations"] == false && o["ledger"] == false)
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(foreign, ["precious"], "{json}");
    assert_eq!(json["applies"].as_array().unwrap().len(), 11, "{json}");
    assert_eq!(db.dump().await, before);
    assert_eq!(precious_rows(&db).await, Some(1));

    // Without a terminal and without --yes: refused, naming it, nothing changed.
    migrate(&db, &["fresh"]).refused(
        5,
        &[
            "not created by any migration of this project (table precious)",
            "--yes",
        ],
    );
    assert_eq!(db.dump().await, before);

    // With --yes the output names what was dropped.
    let json = migrate(&db, &["fresh", "--yes", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(
        listed(&json["dropped"], "precious")["created_by_migrations"],
        false
    );
    assert_eq!(json["steps"].as_array().unwrap().len(), 11, "{json}");
    assert_eq!(precious_rows(&db).await, None);

    add_precious(&db).await;
    let run = migrate(&db, &["fresh", "--yes"]).code(0);
    assert!(run.stdout.contains("Dropped"), "{run:?}");
    assert!(
        not_created_group(&run.stdout).contains("table precious"),
        "{run:?}"
    );
    assert!(run.stdout.contains("Applied 11 migration(s)"), "{run:?}");
    assert_eq!(precious_rows(&db).await, None);
    let status = migrate(&db, &["status", "--format", "json"]).code(0).json();
    assert!(
        state_words(&status).iter().all(|s| s == "applied"),
        "{status}"
    );
}

/// Runs `migrate -u URL fresh` on a pseudo-terminal, answers `answer` to its question, and
/// returns its exit code and everything the terminal showed.
fn fresh_on_a_terminal(db_url: &str, dir: &Path, answer: &str) -> (i32, String) {
    use expectrl::Expect;
    let mut cmd = std::process::Command::new(migrate_bin());
    cmd.current_dir(dir).args(["-u", db_url, "fresh"]);
    for var in tests::process::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1").env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    // Wide enough that the question, with its long test database URL, stays on one line.
    session.get_process_mut().set_window_size(400, 80).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let found = session
        .expect("Proceed? (y/N)")
        .unwrap_or_else(|e| panic!("no question on the terminal ({e})"));
    let mut seen = String::from_utf8_lossy(found.before()).into_owned();
    session.send(answer).unwrap();
    let rest = session.expect(expectrl::Eof).unwrap();
    seen.push_str(&String::from_utf8_lossy(rest.before()));
    let code = match session.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("migrate did not exit: {other:?}\n{seen}"),
    };
    (code, seen)
}

async fn the_fresh_prompt_lists_what_it_drops(db: TestDb) {
    migrate(&db, &["up"]).code(0);
    add_precious(&db).await;
    let dir = TempDir::new().unwrap();
    let (url, path) = (db.url.clone(), dir.path().to_path_buf());
    let (code, screen) =
        tokio::task::spawn_blocking(move || fresh_on_a_terminal(&url, &path, "n\r"))
            .await
            .unwrap();
    assert_eq!(code, 5, "{screen}");
    assert!(screen.contains("fresh drops these"), "{screen}");
    assert!(
        not_created_group(&screen).contains("table precious"),
        "{screen}"
    );
    assert!(screen.contains("table tenants"), "{screen}");
    assert_eq!(
        precious_rows(&db).await,
        Some(1),
        "answering no changes nothing"
    );
}

backend_matrix!(
    fresh_lists_what_it_drops_and_marks_what_no_migration_created,
    the_fresh_prompt_lists_what_it_drops,
);

mod schemas {
    //! On PostgreSQL, `fresh` drops the schemas beside the current one that the project's
    //! migrations create, with everything in them, and keeps the ones they do not.

    use migration_engine::{MigrationSet, Operations, RunOptions, Session, SessionOptions, Target};
    use sea_orm::{ConnectionTrait, Statement};
    use sea_orm_migration::prelude::*;
    use tests::{Backend, TestDb};

    struct CreatesASchema;

    impl MigrationName for CreatesASchema {
        fn name(&self) -> &str {
            "m20240101_000001_create_archive"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreatesASchema {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let conn = manager.get_connection();
            conn.execute_unprepared("CREATE SCHEMA archive").await?;
            conn.execute_unprepared("CREATE TABLE archive.items (id integer PRIMARY KEY)")
                .await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .get_connection()
                .execute_unprepared("DROP SCHEMA archive CASCADE")
                .await
                .map(drop)
        }
    }

    async fn count(db: &TestDb, sql: &str) -> i64 {
        let conn = db.connect().await;
        let row = conn
            .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
            .await
            .unwrap()
            .unwrap();
        let _ = conn.close().await;
        row.try_get_by_index(0).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fresh_drops_the_schemas_the_migrations_create_and_keeps_the_others() {
        let Some(db) = TestDb::create(Backend::Postgres).await else {
            return;
        };
        let set = MigrationSet::new(vec![Box::new(CreatesASchema)]).unwrap();
        let target = Target::new(&db.url, None, None, None).unwrap();
        let session = Session::open(&target, &SessionOptions::new("fresh test"), |_| {})
            .await
            .unwrap();
        let ops = Operations::new(session, &set);
        ops.up(&Default::default(), &RunOptions::default())
            .await
            .unwrap();
        let conn = db.connect().await;
        for sql in [
            "INSERT INTO archive.items VALUES (1)",
            "CREATE SCHEMA kept",
            "CREATE TABLE kept.notes (id integer)",
        ] {
            conn.execute_unprepared(sql).await.unwrap();
        }
        let _ = conn.close().await;
        let listing = ops.fresh_listing().await.unwrap();
        let names: Vec<String> = listing
            .objects
            .iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect();
        assert!(names.contains(&"schema archive".to_owned()), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("kept")), "{names:?}");
        ops.fresh(&RunOptions::default(), None).await.unwrap();
        ops.release().await.unwrap();
        // Rebuilt empty by the migration; the other schema untouched.
        assert_eq!(count(&db, "SELECT count(*) FROM archive.items").await, 0);
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'kept'"
            )
            .await,
            1
        );
    }
}

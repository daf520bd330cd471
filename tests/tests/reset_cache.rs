//! The reset cache of `fresh --seed`, on every backend: a second reset is copied from the cache
//! and leaves exactly what the first left; changing a migration, the profile, the random seed
//! or the day rebuilds it and says why; `--no-cache` and `MIGRATION_RESET_CACHE=off` rebuild;
//! `migrate cache` lists and removes the copies; concurrent resets leave a working cache. On
//! MariaDB, which keeps no copies, every reset rebuilds and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;

use tempfile::TempDir;
use tests::process::{command, finish, isolate, run};
use tests::{Backend, Run, TestDb, backend_matrix, migrate_bin};

/// The fixture with two migrations and a seeder of `few` or `many` items.
fn cached_bin() -> &'static Path {
    tests::workspace_bin("tests", "migrate_cached")
}

/// A database and a working directory, with the reset cache on.
struct Scene {
    db: TestDb,
    dir: TempDir,
}

impl Scene {
    fn new(db: TestDb) -> Self {
        Self {
            db,
            dir: TempDir::new().unwrap(),
        }
    }

    fn cmd(&self, bin: &Path, env: &[(&str, &str)]) -> assert_cmd::Command {
        let mut cmd = command(bin, self.dir.path());
        cmd.env("DATABASE_URL", &self.db.url)
            .env_remove("MIGRATION_RESET_CACHE")
            .env_remove("FIXTURE_ITEMS_COLUMN");
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    fn run(&self, bin: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
        run(self.cmd(bin, env), bin, args)
    }

    /// `fresh --seed` with `args` on the fixture, as JSON.
    fn reset(&self, env: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
        let mut all = vec!["fresh", "--yes", "--format", "json", "--seed"];
        all.extend_from_slice(args);
        self.run(cached_bin(), env, &all).code(0).json()
    }

    /// The `seed` column of the fixture's first item.
    async fn item_seed(&self) -> i64 {
        use sea_orm::ConnectionTrait;
        let conn = self.db.connect().await;
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT seed FROM items WHERE id = 1",
            ))
            .await
            .unwrap()
            .unwrap();
        let _ = conn.close().await;
        row.try_get_by_index::<i64>(0).unwrap()
    }

    fn copies(&self) -> usize {
        self.run(cached_bin(), &[], &["cache", "list", "--format", "json"])
            .code(0)
            .json()["copies"]
            .as_array()
            .unwrap()
            .len()
    }
}

/// Whether the backend keeps copies.
fn caches(backend: Backend) -> bool {
    backend != Backend::MariaDb
}

/// Checks that a reset was rebuilt, saying `why`, and (where the backend caches) saved.
fn rebuilt(report: &serde_json::Value, backend: Backend, why: &str) {
    let cache = &report["cache"];
    assert_eq!(cache["outcome"], "rebuilt", "{report}");
    let reason = cache["reason"].as_str().unwrap_or_default();
    if caches(backend) {
        assert!(reason.contains(why), "expected `{why}` in {report}");
        let unsaved = why.contains("holds objects");
        assert_eq!(
            cache["copy"].is_string(),
            !unsaved,
            "saved or not: {report}"
        );
    } else {
        assert!(reason.contains("MySQL/MariaDB"), "{report}");
    }
}

/// Checks that a reset was copied from the cache (rebuilt, where the backend keeps no copies).
fn copied(report: &serde_json::Value, backend: Backend) {
    if caches(backend) {
        assert_eq!(report["cache"]["outcome"], "copied", "{report}");
        assert!(report["cache"]["copy"].is_string(), "{report}");
    } else {
        rebuilt(report, backend, "");
    }
}

async fn a_second_reset_is_copied_and_leaves_what_the_first_left(db: TestDb) {
    let scene = Scene::new(db);
    let first = scene
        .run(
            migrate_bin(),
            &[],
            &["fresh", "--seed", "minimal", "--yes", "--format", "json"],
        )
        .code(0)
        .json();
    rebuilt(&first, scene.db.backend, "no cached copy yet");
    let built = scene.db.content().await;
    let second = scene
        .run(
            migrate_bin(),
            &[],
            &["fresh", "--seed", "minimal", "--yes", "--format", "json"],
        )
        .code(0)
        .json();
    copied(&second, scene.db.backend);
    if caches(scene.db.backend) {
        assert_eq!(second["seed"], first["seed"], "the seeding differs");
        assert_eq!(
            scene.db.content().await,
            built,
            "the copied database differs from the one the cache was made of"
        );
    }
    let status = scene
        .run(migrate_bin(), &[], &["status", "--format", "json"])
        .code(0)
        .json();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "applied"),
        "{status}"
    );
    if caches(scene.db.backend) {
        let history = scene
            .run(migrate_bin(), &[], &["history", "--format", "json"])
            .code(0)
            .json();
        assert_eq!(history[0]["action"], "restore", "{history}");
        assert!(
            history[0]["reason"]
                .as_str()
                .unwrap()
                .contains("cached copy"),
            "{history}"
        );
    }
    let text = scene
        .run(migrate_bin(), &[], &["fresh", "--seed", "minimal", "--yes"])
        .code(0);
    if caches(scene.db.backend) {
        assert!(
            text.stdout.contains("Reset from the cached copy"),
            "{text:?}"
        );
    } else {
        assert!(text.stdout.contains("no template databases"), "{text:?}");
    }
}

async fn changing_a_migration_or_the_seeding_rebuilds_and_says_why(db: TestDb) {
    let backend = db.backend;
    let scene = Scene::new(db);
    rebuilt(&scene.reset(&[], &["few"]), backend, "no cached copy yet");
    copied(&scene.reset(&[], &["few"]), backend);
    rebuilt(
        &scene.reset(&[], &["few", "--random-seed", "9"]),
        backend,
        "the seed's seed changed (7 -> 9)",
    );
    assert_eq!(scene.item_seed().await, 9);
    let day = ["few", "--random-seed", "9", "--today", "2025-01-06"];
    rebuilt(&scene.reset(&[], &day), backend, "the seed's today changed");
    let column = [("FIXTURE_ITEMS_COLUMN", "title")];
    rebuilt(
        &scene.reset(&column, &day),
        backend,
        "migration 20990301000001_create_items changed",
    );
    assert!(
        scene
            .db
            .columns("items")
            .await
            .iter()
            .any(|c| c.starts_with("title ")),
        "the rebuilt database has the old migration's table"
    );
    copied(&scene.reset(&column, &day), backend);
    rebuilt(
        &scene.reset(&column, &["many", "--today", "2025-01-06"]),
        backend,
        "the seed's profile changed (few -> many)",
    );
    // One copy per profile: the copies for `few` replaced each other.
    assert_eq!(scene.copies(), if caches(backend) { 2 } else { 0 });
    // --no-cache and MIGRATION_RESET_CACHE=off rebuild, and neither use nor save a copy.
    let plain = scene.reset(&column, &["many", "--today", "2025-01-06", "--no-cache"]);
    assert!(plain["cache"].is_null(), "{plain}");
    let off = scene.reset(
        &[
            ("FIXTURE_ITEMS_COLUMN", "title"),
            ("MIGRATION_RESET_CACHE", "off"),
        ],
        &["many", "--today", "2025-01-06"],
    );
    assert!(off["cache"].is_null(), "{off}");
    // `cache clear` removes them all; the next reset rebuilds.
    let cleared = scene
        .run(cached_bin(), &[], &["cache", "clear", "--format", "json"])
        .code(0)
        .json();
    if caches(backend) {
        assert!(
            cleared["removed"].as_array().unwrap().len() >= 2,
            "{cleared}"
        );
    }
    assert_eq!(scene.copies(), 0);
    rebuilt(
        &scene.reset(&column, &["many", "--today", "2025-01-06"]),
        backend,
        "no cached copy yet",
    );
}

async fn concurrent_resets_leave_a_working_cache(db: TestDb) {
    let backend = db.backend;
    let scene = Scene::new(db);
    scene.reset(&[], &["many", "--random-seed", "3"]);
    let expected = scene.db.content().await;
    let twice = |seed: &'static str| {
        let spawn = || {
            let mut cmd = std::process::Command::new(cached_bin());
            isolate(&mut cmd, scene.dir.path());
            cmd.env("DATABASE_URL", &scene.db.url)
                .env_remove("MIGRATION_RESET_CACHE")
                .args(["fresh", "--yes", "--format", "json", "--seed", "many"])
                .args(["--random-seed", seed])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        async move {
            let (a, b) = tokio::join!(finish("fresh (a)".into(), a), finish("fresh (b)".into(), b));
            (a.code(0).json(), b.code(0).json())
        }
    };
    // Both copy the same copy, one after the other.
    let (a, b) = twice("3").await;
    copied(&a, backend);
    copied(&b, backend);
    if caches(backend) {
        assert_eq!(scene.db.content().await, expected);
    }
    // A new key: the first to get in rebuilds and saves, the other copies what it saved.
    let (a, b) = twice("5").await;
    let outcomes = [&a["cache"]["outcome"], &b["cache"]["outcome"]];
    assert!(outcomes.contains(&&serde_json::json!("rebuilt")), "{a} {b}");
    assert_eq!(scene.item_seed().await, 5);
    let five = scene.db.content().await;
    copied(&scene.reset(&[], &["many", "--random-seed", "5"]), backend);
    if caches(backend) {
        assert_eq!(scene.db.content().await, five);
    }
    assert_eq!(scene.copies(), usize::from(caches(backend)));
}

async fn bad_settings_are_refused_before_anything_changes(db: TestDb) {
    let scene = Scene::new(db);
    scene.reset(&[], &["few"]);
    let before = scene.db.dump().await;
    let alone = scene
        .run(cached_bin(), &[], &["fresh", "--yes", "--random-seed", "3"])
        .code(2);
    assert!(alone.stderr.contains("--seed"), "{alone:?}");
    scene
        .run(
            cached_bin(),
            &[("MIGRATION_RESET_CACHE", "sometimes")],
            &["fresh", "--yes", "--seed", "few"],
        )
        .refused(2, &["MIGRATION_RESET_CACHE", "on", "off"]);
    scene
        .run(cached_bin(), &[], &["fresh", "--yes", "--seed", "lots"])
        .refused(2, &["unknown profile `lots`"]);
    assert_eq!(scene.db.dump().await, before);
}

backend_matrix!(
    a_second_reset_is_copied_and_leaves_what_the_first_left,
    changing_a_migration_or_the_seeding_rebuilds_and_says_why,
    concurrent_resets_leave_a_working_cache,
    bad_settings_are_refused_before_anything_changes,
);

/// On PostgreSQL a reset replaces the database: its owner and its own settings come with it,
/// sessions connected to it are ended, and what it replaced is dropped by the sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_reset_keeps_the_database_settings_and_sweeps_what_it_replaced() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let name = db.database_name().unwrap().to_owned();
    let scene = Scene::new(db);
    scene.reset(&[], &["few"]);
    let conn = scene.db.connect().await;
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(&format!(
        "ALTER DATABASE \"{name}\" SET statement_timeout = '42s'"
    ))
    .await
    .unwrap();
    let _ = conn.close().await;
    let held = scene.db.connect().await;
    let pid = |conn: sea_orm::DatabaseConnection| async move {
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_backend_pid() AS p",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i32>("", "p").unwrap()
    };
    let held_pid = pid(held.clone()).await;
    copied(&scene.reset(&[], &["few"]), Backend::Postgres);
    let fresh = scene.db.connect().await;
    let survivors = fresh
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT 1 FROM pg_stat_activity WHERE pid = {held_pid}"),
        ))
        .await
        .unwrap();
    assert!(
        survivors.is_empty(),
        "a session on the replaced database survived"
    );
    let row = fresh
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_setting('statement_timeout') AS t",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "t").unwrap(), "42s");
    // The sweep runs in the background; run it here too, then nothing replaced is left.
    scene.run(cached_bin(), &[], &["cache", "sweep"]).code(0);
    let left = fresh
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname::text AS d FROM pg_database WHERE datname LIKE '%\\_\\_migrate\\_cache\\_trash\\_%' \
             AND shobj_description(oid, 'pg_database') LIKE '%\"database\":\"".to_owned()
                + &name
                + "\"%'",
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "{} replaced database(s) left", left.len());
    let _ = fresh.close().await;
    drop(held);
}

/// On PostgreSQL `fresh` keeps schemas no migration creates; a copy of the whole database would
/// put back what they held when it was made, so with objects in one the reset rebuilds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_reset_rebuilds_when_a_kept_schema_holds_objects() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let scene = Scene::new(db);
    scene.reset(&[], &["few"]);
    let conn = scene.db.connect().await;
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared("CREATE SCHEMA analytics; CREATE TABLE analytics.visits (n int)")
        .await
        .unwrap();
    conn.execute_unprepared("INSERT INTO analytics.visits VALUES (1)")
        .await
        .unwrap();
    let _ = conn.close().await;
    rebuilt(
        &scene.reset(&[], &["few"]),
        Backend::Postgres,
        "schema analytics holds objects",
    );
    let conn = scene.db.connect().await;
    let kept = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*)::int AS n FROM analytics.visits",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.try_get::<i32>("", "n").unwrap(),
        1,
        "fresh lost the kept schema's rows"
    );
    let _ = conn.close().await;
}

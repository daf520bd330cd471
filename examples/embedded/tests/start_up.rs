//! The start-up API of a service built with only the PostgreSQL driver holds the migration lock:
//! while it migrates, the lock is held by a session of its own; while another runner holds it,
//! it waits, then gives up without applying anything.
//!
//! Runs against `TEST_POSTGRES_URL` (an admin URL: each test creates and drops its own
//! database); without it the tests say so and pass, unless `REQUIRE_ALL_BACKENDS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use migration_engine::backend::lock::postgres_key;
use migration_engine::store::ledger::Ledger;
use migration_engine::{EngineError, MigrationSet, StartupOptions, run_pending};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

/// A database of its own on the test server, dropped when the test is done.
struct Scratch {
    admin: DatabaseConnection,
    name: String,
    url: String,
}

impl Scratch {
    async fn create(tag: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("REQUIRE_ALL_BACKENDS").as_deref() != Ok("1"),
                "TEST_POSTGRES_URL is not set and REQUIRE_ALL_BACKENDS=1"
            );
            eprintln!("skipped: TEST_POSTGRES_URL is not set");
            return None;
        };
        let admin = Database::connect(&admin_url).await.unwrap();
        let name = format!("embedded_{tag}_{}", std::process::id());
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        let mut url = url_of(&admin_url);
        url.set_path(&name);
        Some(Self {
            admin,
            name,
            url: url.to_string(),
        })
    }

    async fn drop(self) {
        self.admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

fn url_of(text: &str) -> url::Url {
    text.parse().expect("TEST_POSTGRES_URL is a URL")
}

/// The advisory lock the engine takes for this database's default ledger, as `pg_locks` shows
/// it: how many sessions other than `conn`'s hold it.
async fn holders(conn: &impl ConnectionTrait, database: &str) -> i64 {
    let key = postgres_key(
        database,
        &Ledger::new(DbBackend::Postgres, None, "schema_migrations"),
    );
    let bits = u64::from_be_bytes(key.to_be_bytes());
    let (high, low) = (i64::from((bits >> 32) as u32), i64::from(bits as u32));
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*)::bigint AS n FROM pg_catalog.pg_locks \
             WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
               AND classid::bigint = $1 AND objid::bigint = $2 AND pid <> pg_backend_pid()",
            [high.into(), low.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// A migration that records, while it runs, how many other sessions hold the migration lock.
mod m20260101_000003_record_lock_holders {
    use super::holders;
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20260101_000003_record_lock_holders"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let db = manager.get_connection();
            let name = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT current_database() AS d",
                ))
                .await?
                .and_then(|row| row.try_get::<String>("", "d").ok())
                .unwrap_or_default();
            let n = holders(db, &name).await;
            db.execute_unprepared(&format!(
                "CREATE TABLE lock_seen (holders bigint NOT NULL); INSERT INTO lock_seen VALUES ({n})"
            ))
            .await
            .map(drop)
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table("lock_seen").to_owned())
                .await
        }
    }
}

fn probed() -> MigrationSet {
    let mut list = <embedded::Migrator as MigratorTrait>::migrations();
    list.push(Box::new(m20260101_000003_record_lock_holders::Migration));
    MigrationSet::new(list).unwrap()
}

#[tokio::test]
async fn run_pending_migrates_while_its_own_session_holds_the_lock_and_releases_it_after() {
    let Some(db) = Scratch::create("held").await else {
        return;
    };
    let app = Database::connect(&db.url).await.unwrap();
    let report = run_pending(&app, &probed(), &StartupOptions::default())
        .await
        .unwrap();
    assert_eq!(report.steps.len(), 3, "{report:?}");
    let seen = app
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT holders FROM lock_seen",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "holders")
        .unwrap();
    assert_eq!(seen, 1, "the lock was not held while the migration ran");
    assert_eq!(
        holders(&app, &db.name).await,
        0,
        "the lock was not released"
    );
    let again = run_pending(&app, &probed(), &StartupOptions::default())
        .await
        .unwrap();
    assert!(again.steps.is_empty(), "{again:?}");
    app.close().await.unwrap();
    db.drop().await;
}

#[tokio::test]
async fn run_pending_waits_for_another_runner_and_gives_up_without_applying() {
    let Some(db) = Scratch::create("waits").await else {
        return;
    };
    let app = Database::connect(&db.url).await.unwrap();
    let other = Database::connect(&db.url).await.unwrap();
    let key = postgres_key(
        &db.name,
        &Ledger::new(DbBackend::Postgres, None, "schema_migrations"),
    );
    other
        .execute_unprepared(&format!("SELECT pg_advisory_lock({key})"))
        .await
        .unwrap();
    let options = StartupOptions {
        lock_timeout: Duration::from_secs(1),
        ..StartupOptions::default()
    };
    let err = run_pending(&app, &probed(), &options).await.unwrap_err();
    assert!(matches!(err, EngineError::LockTimeout { .. }), "{err}");
    let tables = app
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*)::bigint AS n FROM information_schema.tables \
             WHERE table_schema = 'public'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(tables, 0, "something was applied without the lock");
    other.close().await.unwrap();
    let report = embedded::migrate(&app).await.unwrap();
    assert_eq!(report.steps.len(), 2, "{report:?}");
    app.close().await.unwrap();
    db.drop().await;
}

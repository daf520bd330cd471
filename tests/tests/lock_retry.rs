//! DDL that waits safely (`--lock-timeout-ddl` with its ladder of retries): a migration blocked
//! by a lock held from outside is applied once the lock is released within the ladder, with the
//! retry in the history and the run report; when it is not released, the run fails cleanly
//! (schema and ledger as before) and says who held the lock. On PostgreSQL (the migration's
//! transaction rolled back) and MariaDB (its only statement timed out, so nothing committed).
//! SQLite waits on its own busy timeout instead and is not retried.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::exec::retry::LockRetry;
use migration_engine::{MigrationSet, StartupOptions};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigrationTrait;
use std::time::Duration;
use tests::lint_corpus::{Body, Down, Step, StepMigration};
use tests::{TestDb, backend_matrix};

const ADD: &str = "20990401000002";

fn step(up: &'static [&'static str], down: &'static [&'static str]) -> Step {
    Step {
        body: Body::Sql(up),
        transaction: None,
        down: Down::Sql(down),
    }
}

/// The table, and with `add` the migration that adds a column to it.
fn set(add: bool) -> MigrationSet {
    let mut list: Vec<Box<dyn MigrationTrait>> = vec![Box::new(StepMigration {
        name: "m20990401_000001_create_gauges",
        step: step(
            &["CREATE TABLE gauges (id integer NOT NULL PRIMARY KEY)"],
            &["DROP TABLE gauges"],
        ),
    })];
    if add {
        list.push(Box::new(StepMigration {
            name: "m20990401_000002_add_gauge_unit",
            step: step(
                &["ALTER TABLE gauges ADD COLUMN unit varchar(8)"],
                &["ALTER TABLE gauges DROP COLUMN unit"],
            ),
        }));
    }
    MigrationSet::new(list).unwrap()
}

fn options() -> StartupOptions {
    StartupOptions {
        lock_timeout_ddl: Some(Duration::from_secs(1)),
        lock_retry: Some(LockRetry {
            attempts: 3,
            growth: 2.0,
            pause: Duration::from_millis(200),
        }),
        ..StartupOptions::default()
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let conn = db.connect().await;
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get::<i64>("", "n").unwrap();
    let _ = conn.close().await;
    n
}

/// Holds a lock on `gauges` from another session (a transaction that read it: PostgreSQL's
/// ACCESS SHARE, MariaDB's shared metadata lock) for `held`, then releases it.
async fn hold_gauges(db: &TestDb, held: Duration) -> tokio::task::JoinHandle<()> {
    let conn = db.connect().await;
    let txn = conn.begin().await.unwrap();
    txn.execute_unprepared("SELECT * FROM gauges")
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(held).await;
        txn.commit().await.unwrap();
        let _ = conn.close().await;
    })
}

async fn has_unit(db: &TestDb) -> bool {
    db.columns("gauges")
        .await
        .iter()
        .any(|c| c.starts_with("unit "))
}

fn server(db: &TestDb) -> bool {
    db.backend.db_backend() != DbBackend::Sqlite
}

async fn a_lock_released_within_the_ladder_lets_the_migration_through(db: TestDb) {
    if !server(&db) {
        return;
    }
    let conn = db.connect().await;
    migration_engine::run_pending(&conn, &set(false), &StartupOptions::default())
        .await
        .unwrap();
    // Released after the first attempt (1 s) gave up, while the second (2 s) waits.
    let holder = hold_gauges(&db, Duration::from_millis(1700)).await;
    let report = migration_engine::run_pending(&conn, &set(true), &options())
        .await
        .unwrap();
    holder.await.unwrap();
    let _ = conn.close().await;
    assert_eq!(report.steps.len(), 1, "{report}");
    let retries = &report.steps[0].retries;
    assert_eq!(retries.len(), 1, "{report}");
    assert_eq!(retries[0].attempt, 1);
    assert_eq!(retries[0].lock_timeout_ms, 1000);
    assert!(
        report
            .to_string()
            .contains("attempt 1 gave up waiting for a table lock")
    );
    assert!(has_unit(&db).await, "the column was added");
    let retried = count(
        &db,
        &format!("SELECT count(*) AS n FROM schema_migrations_history WHERE version = '{ADD}' AND outcome = 'retried'"),
    )
    .await;
    assert_eq!(retried, 1, "the retry is in the history");
    let applied = count(
        &db,
        &format!("SELECT count(*) AS n FROM schema_migrations WHERE version = '{ADD}' AND state = 'applied'"),
    )
    .await;
    assert_eq!(applied, 1);
}

async fn a_lock_held_past_the_ladder_fails_cleanly_naming_its_holder(db: TestDb) {
    if !server(&db) {
        return;
    }
    let conn = db.connect().await;
    migration_engine::run_pending(&conn, &set(false), &StartupOptions::default())
        .await
        .unwrap();
    let holder = hold_gauges(&db, Duration::from_secs(12)).await;
    let started = std::time::Instant::now();
    let err = migration_engine::run_pending(&conn, &set(true), &options())
        .await
        .expect_err("the lock was never released");
    let waited = started.elapsed();
    holder.abort();
    let _ = conn.close().await;
    let message = err.to_string();
    assert!(
        message.contains("gave up after 3 attempt(s) waiting for a table lock (1s, 2s, 4s)"),
        "{message}"
    );
    assert!(message.contains("the lock was held by"), "{message}");
    let holder_named = match db.backend.db_backend() {
        DbBackend::Postgres => "holding gauges",
        _ => "in a transaction since",
    };
    assert!(message.contains(holder_named), "{message}");
    assert!(
        waited >= Duration::from_secs(7),
        "three attempts: {waited:?}"
    );
    // Wait for the holder's session to end before reading the schema back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!has_unit(&db).await, "the schema is as before");
    let rows = count(
        &db,
        &format!("SELECT count(*) AS n FROM schema_migrations WHERE version = '{ADD}'"),
    )
    .await;
    assert_eq!(
        rows, 0,
        "no ledger row, failed or otherwise, is left to repair"
    );
    let history = count(
        &db,
        &format!("SELECT count(*) AS n FROM schema_migrations_history WHERE version = '{ADD}'"),
    )
    .await;
    assert_eq!(history, 3, "two retries and the failure");
}

/// MariaDB commits each DDL statement: a migration whose first statement committed before its
/// second timed out is not run again (its first statement would run twice); it fails at once and
/// leaves its row failed for `migrate repair`, as any partial failure there does.
async fn a_mariadb_migration_with_a_committed_statement_is_not_retried(db: TestDb) {
    if db.backend.db_backend() != DbBackend::MySql {
        return;
    }
    let conn = db.connect().await;
    migration_engine::run_pending(&conn, &set(false), &StartupOptions::default())
        .await
        .unwrap();
    let partial = MigrationSet::new(vec![
        Box::new(StepMigration {
            name: "m20990401_000001_create_gauges",
            step: step(
                &["CREATE TABLE gauges (id integer NOT NULL PRIMARY KEY)"],
                &["DROP TABLE gauges"],
            ),
        }) as Box<dyn MigrationTrait>,
        Box::new(StepMigration {
            name: "m20990401_000002_add_gauge_unit",
            step: step(
                &[
                    "CREATE TABLE gauge_units (id integer NOT NULL PRIMARY KEY)",
                    "ALTER TABLE gauges ADD COLUMN unit varchar(8)",
                ],
                &["DROP TABLE gauge_units"],
            ),
        }),
    ])
    .unwrap();
    let holder = hold_gauges(&db, Duration::from_secs(6)).await;
    let started = std::time::Instant::now();
    let err = migration_engine::run_pending(&conn, &partial, &options())
        .await
        .expect_err("the lock is held");
    assert!(started.elapsed() < Duration::from_secs(3), "not retried");
    holder.abort();
    let _ = conn.close().await;
    assert!(!err.to_string().contains("gave up after"), "{err}");
    let failed = count(
        &db,
        &format!("SELECT count(*) AS n FROM schema_migrations WHERE version = '{ADD}' AND state = 'failed'"),
    )
    .await;
    assert_eq!(failed, 1, "{err}");
}

backend_matrix!(
    a_mariadb_migration_with_a_committed_statement_is_not_retried,
    a_lock_released_within_the_ladder_lets_the_migration_through,
    a_lock_held_past_the_ladder_fails_cleanly_naming_its_holder,
);

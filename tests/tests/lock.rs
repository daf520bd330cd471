//! Many runners, one database: the migration lock (the session lock `auto` takes here, and the
//! table lock, `--lock-strategy table`), killed and interrupted runners, session timeouts, and
//! the start-up API, on every backend.
//!
//! The runners are real processes of `migrate_slow`, this crate's `migrate` over two test-only
//! migrations, the second of which waits `SLOW_MIGRATION_SECS` inside itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migration_engine::backend::lock::{mysql_lock_name, postgres_key, sqlite_lock_path};
use migration_engine::store::ledger::Ledger;
use migration_engine::{EngineError, MigrationSet, StartupOptions, run_pending};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::prelude::*;
use tests::{Backend, Run, TestDb, backend_matrix, process};

const FIRST: &str = "20990101000001";
const SLOW: &str = "20990101000002";
const INDEX: &str = "20990101000003";

/// A `migrate_slow` command on `db`, isolated from the caller's environment and `.env`.
fn runner(db: &TestDb, slow_secs: u64, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate_slow"));
    process::isolate(&mut command, &std::env::temp_dir())
        .env("SLOW_MIGRATION_SECS", slow_secs.to_string())
        .arg("-u")
        .arg(&db.url)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A `migrate_slow` command on `db` under the table lock, with a two-second lease.
fn table_runner(db: &TestDb, slow_secs: u64, args: &[&str]) -> Command {
    let mut command = runner(db, slow_secs, args);
    command
        .env("MIGRATION_LOCK_STRATEGY", "table")
        .env("MIGRATION_LOCK_LEASE", "2");
    command
}

/// Waits for a spawned runner and collects what it printed.
async fn finish(child: Child) -> Run {
    process::finish(String::from("migrate_slow"), child).await
}

async fn migrate(db: &TestDb, slow_secs: u64, args: &[&str]) -> Run {
    finish(runner(db, slow_secs, args).spawn().unwrap()).await
}

/// `(version, action, outcome)` of every history row, oldest first.
async fn history(conn: &DatabaseConnection) -> Vec<(String, String, String)> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT version, action, outcome FROM schema_migrations_history ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

/// `(version, state)` of every ledger row, by version.
async fn ledger(conn: &DatabaseConnection) -> Vec<(String, String)> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT version, state FROM schema_migrations ORDER BY version",
        ))
        .await
        .unwrap_or_default();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect()
}

fn applied(versions: &[&str]) -> Vec<(String, String)> {
    versions
        .iter()
        .map(|v| ((*v).to_owned(), "applied".to_owned()))
        .collect()
}

/// No runner may print a database error: losing the race is not an error.
fn assert_no_database_error(run: &Run) {
    for needle in ["already exists", "Duplicate", "duplicate key", "error:"] {
        assert!(
            !run.stdout.contains(needle) && !run.stderr.contains(needle),
            "a runner printed `{needle}`: {run:?}"
        );
    }
}

async fn runners_started_together_apply_each_migration_once(db: TestDb) {
    let a = runner(&db, 2, &["up"]).spawn().unwrap();
    let b = runner(&db, 2, &["up"]).spawn().unwrap();
    let (a, b) = (finish(a).await, finish(b).await);
    for run in [&a, &b] {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_no_database_error(run);
    }
    let applied_by = [&a, &b]
        .iter()
        .filter(|r| r.stdout.contains("Applied 3 migration(s)"))
        .count();
    let idle = [&a, &b]
        .iter()
        .filter(|r| r.stdout.contains("Nothing to do"))
        .count();
    assert_eq!((applied_by, idle), (1, 1), "{a:?}\n{b:?}");
    let waited = format!("{}{}", a.stderr, b.stderr);
    assert!(
        waited.contains("waiting for the migration lock, held by"),
        "{a:?}\n{b:?}"
    );
    if db.backend == Backend::Postgres {
        // CREATE INDEX CONCURRENTLY ran while the other runner waited: no deadlock, and the
        // index is usable.
        let conn = db.connect().await;
        let valid = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT i.indisvalid FROM pg_catalog.pg_index i \
                 JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
                 WHERE c.relname = 'idx_gadgets_note'",
            ))
            .await
            .unwrap()
            .expect("idx_gadgets_note is missing");
        assert!(
            valid.try_get_by_index::<bool>(0).unwrap(),
            "the index is not valid"
        );
    }

    // A burst of twenty on a fresh database ends as one run would.
    let burst_db = TestDb::create(db.backend).await.unwrap();
    let children: Vec<Child> = (0..20)
        .map(|_| runner(&burst_db, 1, &["up"]).spawn().unwrap())
        .collect();
    let mut runs = Vec::new();
    for child in children {
        runs.push(finish(child).await);
    }
    for run in &runs {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_no_database_error(run);
    }
    let conn = burst_db.connect().await;
    assert_eq!(ledger(&conn).await, applied(&[FIRST, SLOW, INDEX]));
    assert_eq!(
        history(&conn).await,
        [FIRST, SLOW, INDEX]
            .iter()
            .map(|v| ((*v).to_owned(), "apply".to_owned(), "success".to_owned()))
            .collect::<Vec<_>>(),
        "every version is applied exactly once"
    );
}

/// Holds the migration lock from outside any runner, as another tool's session would, until
/// the returned connection or file is dropped.
async fn hold_lock_outside(db: &TestDb) -> Box<dyn std::any::Any + Send> {
    let ledger = Ledger::new(db.backend.db_backend(), None, "schema_migrations");
    match db.backend {
        Backend::Sqlite => {
            let path = sqlite_lock_path(&db.sqlite_path().unwrap());
            let file = std::fs::File::create(path).unwrap();
            file.lock().unwrap();
            Box::new(file)
        }
        Backend::Postgres => {
            let conn = db.connect().await;
            let key = postgres_key(db.database_name().unwrap(), &ledger);
            conn.execute_unprepared(&format!("SELECT pg_advisory_lock({key})"))
                .await
                .unwrap();
            Box::new(conn)
        }
        Backend::MariaDb => {
            let conn = db.connect().await;
            let name = mysql_lock_name(db.database_name().unwrap(), &ledger);
            conn.execute_unprepared(&format!("SELECT GET_LOCK('{name}', 10)"))
                .await
                .unwrap();
            Box::new(conn)
        }
    }
}

async fn a_held_lock_times_out_naming_the_holder(db: TestDb) {
    let holder = hold_lock_outside(&db).await;
    let started = Instant::now();
    let run = migrate(&db, 0, &["--lock-timeout", "2", "up"]).await;
    let waited = started.elapsed();
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(waited >= Duration::from_secs(2), "gave up after {waited:?}");
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {run:?}"));
    assert!(error.contains("the migration lock is held by"), "{run:?}");
    assert!(error.contains("--lock-timeout"), "{run:?}");
    assert!(db.table_names().await.is_empty(), "the database changed");
    drop(holder);
}

/// Kills a runner while its slow migration runs, then checks the next runner is not blocked.
async fn a_killed_runner_leaves_no_stale_lock(db: TestDb) {
    // Every run here renders the slow migration alike (its wait is part of its SQL).
    let mut victim = runner(&db, 4, &["up"]).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    victim.kill().unwrap();
    let _ = victim.wait();

    let next = migrate(&db, 4, &["--lock-timeout", "15", "up"]).await;
    if db.backend == Backend::MariaDb {
        // The slow migration had committed DDL. Its `running` row, found under the lock,
        // belongs to a runner that stopped: it is reported as interrupted and marked failed,
        // which blocks until repaired.
        assert_eq!(next.code, Some(4), "{next:?}");
        assert!(next.stderr.contains(SLOW), "{next:?}");
        assert!(next.stderr.contains("was interrupted"), "{next:?}");
        assert!(!next.stderr.contains("is running"), "{next:?}");
        assert!(next.stderr.contains("repair --mark-applied"), "{next:?}");
        assert!(next.stderr.contains("repair --remove"), "{next:?}");
        let conn = db.connect().await;
        assert_eq!(
            ledger(&conn).await,
            [
                (FIRST.to_owned(), "applied".to_owned()),
                (SLOW.to_owned(), "failed".to_owned())
            ]
        );
        let repair = migrate(&db, 4, &["repair", "--mark-applied", SLOW]).await;
        assert_eq!(repair.code, Some(0), "{repair:?}");
        let rest = migrate(&db, 4, &["up"]).await;
        assert_eq!(rest.code, Some(0), "{rest:?}");
    } else {
        // Rolled back: the next runner applies it as if nothing had happened.
        assert_eq!(next.code, Some(0), "{next:?}");
        assert!(next.stdout.contains(SLOW), "{next:?}");
    }
    let conn = db.connect().await;
    assert_eq!(ledger(&conn).await, applied(&[FIRST, SLOW, INDEX]));
}

async fn interrupted(db: TestDb, signal: &str, code: i32) {
    interrupted_under(db, signal, code, runner).await;
}

/// Interrupts a runner `start` makes while its slow migration runs, with `signal`, which it
/// exits with `code`; checks what it left, and that the next runner is not blocked.
async fn interrupted_under(
    db: TestDb,
    signal: &str,
    code: i32,
    start: fn(&TestDb, u64, &[&str]) -> Command,
) {
    let child = start(&db, 4, &["up"]).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let run = finish(child).await;
    assert_eq!(run.code, Some(code), "{run:?}");
    assert!(
        run.stderr.contains(&format!("interrupted by SIG{signal}")),
        "{run:?}"
    );

    let conn = db.connect().await;
    if db.backend == Backend::MariaDb {
        assert_eq!(
            ledger(&conn).await,
            [
                (FIRST.to_owned(), "applied".to_owned()),
                (SLOW.to_owned(), "failed".to_owned())
            ]
        );
        // The lock is free: the next command is refused for the failed row, not for the lock.
        let next = finish(
            start(&db, 0, &["--lock-timeout", "5", "up"])
                .spawn()
                .unwrap(),
        )
        .await;
        assert_eq!(next.code, Some(4), "{next:?}");
    } else {
        // PostgreSQL commits each migration; SQLite commits a run's migrations together, so the
        // whole interrupted run is rolled back.
        let kept: &[&str] = if db.backend == Backend::Sqlite {
            &[]
        } else {
            &[FIRST]
        };
        assert_eq!(ledger(&conn).await, applied(kept));
        let next = finish(
            start(&db, 0, &["--lock-timeout", "5", "up"])
                .spawn()
                .unwrap(),
        )
        .await;
        assert_eq!(next.code, Some(0), "{next:?}");
    }
}

async fn sigint_stops_a_run_cleanly(db: TestDb) {
    interrupted(db, "INT", 130).await;
}

async fn sigterm_stops_a_run_cleanly(db: TestDb) {
    interrupted(db, "TERM", 143).await;
}

/// SQLite takes no table lock: a run asking for one is refused before it touches anything,
/// with one line that names the fix. Returns whether `db` is SQLite.
async fn refuses_the_table_lock(db: &TestDb) -> bool {
    if db.backend != Backend::Sqlite {
        return false;
    }
    let run = finish(table_runner(db, 0, &["up"]).spawn().unwrap()).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: the `table` lock strategy needs a database server"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--lock-strategy session"), "{run:?}");
    assert!(db.table_names().await.is_empty(), "the database changed");
    true
}

async fn sigint_stops_a_run_under_the_table_lock_cleanly(db: TestDb) {
    if refuses_the_table_lock(&db).await {
        return;
    }
    interrupted_under(db, "INT", 130, table_runner).await;
}

async fn runners_started_together_under_the_table_lock_apply_each_migration_once(db: TestDb) {
    if refuses_the_table_lock(&db).await {
        return;
    }
    let children: Vec<Child> = (0..8)
        .map(|_| table_runner(&db, 1, &["up"]).spawn().unwrap())
        .collect();
    let mut runs = Vec::new();
    for child in children {
        runs.push(finish(child).await);
    }
    for run in &runs {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_no_database_error(run);
    }
    let applied_by = runs
        .iter()
        .filter(|r| r.stdout.contains("Applied 3 migration(s)"))
        .count();
    assert_eq!(applied_by, 1, "{runs:#?}");
    assert!(
        runs.iter().any(|r| r
            .stderr
            .contains("waiting for the migration lock, held by `migrate up`")),
        "{runs:#?}"
    );
    let conn = db.connect().await;
    assert_eq!(ledger(&conn).await, applied(&[FIRST, SLOW, INDEX]));
    assert_eq!(
        history(&conn).await,
        [FIRST, SLOW, INDEX]
            .iter()
            .map(|v| ((*v).to_owned(), "apply".to_owned(), "success".to_owned()))
            .collect::<Vec<_>>(),
        "every version is applied exactly once"
    );
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT token FROM schema_migrations_lock",
        ))
        .await
        .unwrap();
    assert!(rows.is_empty(), "the last runner released the lock row");
}

/// A runner under the table lock killed while its slow migration runs: the next runner waits,
/// naming it, until its two-second lease has run out, then takes the lock over.
async fn a_killed_table_lock_holder_is_taken_over_once_its_lease_runs_out(db: TestDb) {
    if refuses_the_table_lock(&db).await {
        return;
    }
    let mut victim = table_runner(&db, 4, &["up"]).spawn().unwrap();
    let pid = victim.id();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    victim.kill().unwrap();
    let _ = victim.wait();
    let killed = Instant::now();

    let next = finish(
        table_runner(&db, 4, &["--lock-timeout", "20", "up"])
            .spawn()
            .unwrap(),
    )
    .await;
    let waited = killed.elapsed();
    assert!(
        next.stderr
            .contains("waiting for the migration lock, held by `migrate up`, on ")
            && next.stderr.contains(&format!("pid {pid}")),
        "the waiter named the killed holder: {next:?}"
    );
    assert!(
        waited >= Duration::from_millis(500),
        "took over after {waited:?}"
    );
    if db.backend == Backend::MariaDb {
        // The slow migration's DDL had committed: its row is interrupted, to be repaired.
        assert_eq!(next.code, Some(4), "{next:?}");
        assert!(next.stderr.contains("was interrupted"), "{next:?}");
    } else {
        // Rolled back with the killed runner's connection: applied as if nothing happened.
        assert_eq!(next.code, Some(0), "{next:?}");
        let conn = db.connect().await;
        assert_eq!(ledger(&conn).await, applied(&[FIRST, SLOW, INDEX]));
    }
}

/// A replica starting while another holds the lock starts at once when nothing is pending: a
/// no-op `up` (and `status`) reads the ledger and takes no lock. With something pending it
/// waits for the lock like any run.
async fn a_no_op_up_takes_no_lock(db: TestDb) {
    let first = migrate(&db, 0, &["up", "-n", "2"]).await;
    assert_eq!(first.code, Some(0), "{first:?}");

    let held = hold_lock_outside(&db).await;
    let waiting = migrate(&db, 0, &["--lock-timeout", "1", "up"]).await;
    assert_eq!(waiting.code, Some(3), "{waiting:?}");
    drop(held);

    let rest = migrate(&db, 0, &["up"]).await;
    assert_eq!(rest.code, Some(0), "{rest:?}");
    let _held = hold_lock_outside(&db).await;
    for args in [&["--lock-timeout", "1", "up"][..], &["status"]] {
        let run = migrate(&db, 0, args).await;
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(!run.stderr.contains("waiting"), "{run:?}");
    }
    let conn = db.connect().await;
    assert_eq!(ledger(&conn).await, applied(&[FIRST, SLOW, INDEX]));
}

/// A table another session keeps busy: the migration's DDL waits `--lock-timeout-ddl` and no
/// longer, and says the database is unchanged and the run can be retried.
async fn a_busy_table_fails_fast_with_a_ddl_lock_timeout(db: TestDb) {
    if db.backend == Backend::Sqlite {
        // SQLite has no table locks to wait for: writers queue on the database file.
        return;
    }
    let first = migrate(&db, 0, &["up", "-n", "1"]).await;
    assert_eq!(first.code, Some(0), "{first:?}");
    let busy = db.connect().await;
    let txn = sea_orm::TransactionTrait::begin(&busy).await.unwrap();
    txn.execute_unprepared("SELECT * FROM gadgets")
        .await
        .unwrap();

    let started = Instant::now();
    let run = migrate(&db, 0, &["--lock-timeout-ddl", "1", "up"]).await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("safe to retry"), "{run:?}");
    txn.rollback().await.unwrap();

    let conn = db.connect().await;
    let columns = db.columns("gadgets").await;
    assert!(
        !columns.iter().any(|c| c.starts_with("backfilled")),
        "{columns:?}"
    );
    if db.backend == Backend::Postgres {
        assert_eq!(ledger(&conn).await, applied(&[FIRST]));
        let retry = migrate(&db, 0, &["up"]).await;
        assert_eq!(retry.code, Some(0), "{retry:?}");
    }
}

/// Fails after creating a table, so the start-up API has something to report.
struct Broken;

impl MigrationName for Broken {
    fn name(&self) -> &str {
        "m20990101_000001_broken"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Broken {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("SELECT no_such_column FROM no_such_table")
            .await
            .map(drop)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Creates one table.
struct Fine;

impl MigrationName for Fine {
    fn name(&self) -> &str {
        "m20990101_000002_fine"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Fine {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("fine")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("fine").to_owned())
            .await
    }
}

async fn a_failed_startup_run_leaves_the_lock_free(db: TestDb) {
    let app_pool = db.connect().await;
    let options = StartupOptions {
        lock_timeout: Duration::from_secs(3),
        ..StartupOptions::default()
    };
    let broken = MigrationSet::new(vec![Box::new(Broken)]).unwrap();
    let err = run_pending(&app_pool, &broken, &options).await.unwrap_err();
    assert!(
        matches!(err, EngineError::MigrationFailed { .. }),
        "{err:?}"
    );

    // The same long-lived process calls again: the lock is free, so the call is answered at
    // once instead of timing out on a lock the failed run kept.
    let fine = MigrationSet::new(vec![Box::new(Fine)]).unwrap();
    let second = run_pending(&app_pool, &fine, &options).await;
    if db.backend == Backend::MariaDb {
        // MariaDB records the attempt as failed: the next run refuses until `repair`, a
        // validation refusal rather than a lock timeout.
        let err = second.unwrap_err();
        assert!(matches!(err, EngineError::Dirty { .. }), "{err:?}");
    } else {
        let report = second.unwrap_or_else(|e| panic!("second start-up run failed: {e}"));
        assert_eq!(report.steps.len(), 1, "{report:?}");
    }
    // The application's own pool was not disturbed.
    app_pool.execute_unprepared("SELECT 1").await.unwrap();
}

backend_matrix!(
    runners_started_together_apply_each_migration_once,
    a_held_lock_times_out_naming_the_holder,
    a_killed_runner_leaves_no_stale_lock,
    sigint_stops_a_run_cleanly,
    sigterm_stops_a_run_cleanly,
    sigint_stops_a_run_under_the_table_lock_cleanly,
    runners_started_together_under_the_table_lock_apply_each_migration_once,
    a_killed_table_lock_holder_is_taken_over_once_its_lease_runs_out,
    a_no_op_up_takes_no_lock,
    a_busy_table_fails_fast_with_a_ddl_lock_timeout,
    a_failed_startup_run_leaves_the_lock_free,
);

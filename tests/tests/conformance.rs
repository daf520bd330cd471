//! The backend conformance suite: what the engine needs from every database it supports, checked
//! through the engine's own backend code on SQLite, PostgreSQL and MariaDB alike (in the manner
//! of golang-migrate's `database/testing`).
//!
//! Each check is one `async fn(TestDb)`, and [`backend_matrix!`] runs it once per backend on a
//! database of its own: the migration lock (a second runner waits, times out naming the holder,
//! gets in on release; a holder whose connection died frees the lock), the ledger round trip
//! (every column, updates, and the upgrade of a ledger from before the newest columns),
//! `running` and `failed` rows, cancelling a statement from the lock's connection, the scratch
//! database `verify` works in, the session timeouts, and wiping a schema.
//!
//! Where a backend cannot do what the others do, the check says what holds there instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use migration_engine::backend::lock::{
    Holder, Identity, LockOptions, LockStrategy, MigrationLock, mysql_lock_name,
};
use migration_engine::backend::scratch::Scratch;
use migration_engine::backend::target::DEFAULT_MIGRATION_TABLE;
use migration_engine::backend::{self, wipe};
use migration_engine::plan::INTERRUPTED;
use migration_engine::store::history;
use migration_engine::store::ledger::{Ledger, LedgerRow, Rendered, RowState, encode_statements};
use migration_engine::{
    Engine, EngineError, MigrationSet, Operations, RunOptions, Session, SessionOptions, State,
    Target, UpTarget,
};
use sea_orm::sea_query::{Alias, Expr, MysqlQueryBuilder, PostgresQueryBuilder, Query, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use sea_orm_migration::prelude::*;
use tests::{Backend, TestDb, backend_matrix, server_has_database};

/// How long any single step may take before the check fails instead of hanging: a deadlock in
/// the lock or a cancel that does not arrive must show as a failure.
const LIMIT: Duration = Duration::from_secs(30);

/// How long the engine may take to connect.
const CONNECT: Duration = Duration::from_secs(10);

/// Fails the check when `future` does not finish within `limit`.
async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

fn target(db: &TestDb) -> Target {
    Target::new(&db.url, None, None, None).unwrap()
}

/// A migration connection, as the engine opens one: a single connection to the target.
async fn connect(db: &TestDb) -> DatabaseConnection {
    target(db).connect(CONNECT).await.unwrap()
}

fn ledger(db: &TestDb) -> Ledger {
    Ledger::new(
        db.backend.db_backend(),
        None,
        DEFAULT_MIGRATION_TABLE.to_owned(),
    )
}

/// One value of the first row `sql` returns, as `T`.
async fn scalar<T: sea_orm::TryGetable>(
    conn: &DatabaseConnection,
    sql: &str,
    values: Vec<Value>,
) -> T {
    let backend = conn.get_database_backend();
    conn.query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
        .unwrap_or_else(|| panic!("{sql}: no row"))
        .try_get_by_index(0)
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

async fn execute(conn: &impl ConnectionTrait, statements: &[&str]) {
    for sql in statements {
        if let Err(err) = conn.execute_unprepared(sql).await {
            panic!("{sql}: {err}");
        }
    }
}

/// The server's id for a connection, as the engine cancels by (`None` on SQLite).
async fn session_id(conn: &DatabaseConnection) -> Option<i64> {
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => "SELECT CAST(pg_backend_pid() AS bigint)",
        DbBackend::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
        _ => return None,
    };
    Some(scalar(conn, sql, Vec::new()).await)
}

// --- The migration lock -------------------------------------------------------------------

/// The identity of the first runner in the lock checks: what a waiter should be told.
fn holder() -> Identity {
    Identity {
        command: "conformance holder".to_owned(),
        host: "conformance-host".to_owned(),
        pid: 4242,
    }
}

/// How the lock checks take the lock: `strategy`, waiting up to `timeout`, with a lease of two
/// seconds (renewed every two thirds of a second), so a holder that stops renewing is taken
/// over within the check's time.
fn lock_options(strategy: LockStrategy, timeout: Duration) -> LockOptions {
    LockOptions {
        strategy,
        lease: Duration::from_secs(2),
        timeout,
    }
}

/// Takes the lock for `db` with `strategy`, failing the check when it is found taken.
async fn acquire_with(
    conn: &DatabaseConnection,
    ledger: &Ledger,
    me: &Identity,
    strategy: LockStrategy,
) -> MigrationLock {
    within(
        LIMIT,
        "acquiring a free lock",
        MigrationLock::acquire(
            conn,
            ledger,
            me,
            &lock_options(strategy, Duration::from_secs(5)),
            |holder: &Holder| panic!("the lock should be free, but is held by {holder}"),
        ),
    )
    .await
    .unwrap()
}

/// Takes the session lock for `db`, failing the check when it is found taken.
async fn acquire(conn: &DatabaseConnection, ledger: &Ledger, me: &Identity) -> MigrationLock {
    acquire_with(conn, ledger, me, LockStrategy::Session).await
}

/// How a waiter names the lock's holder on `db`'s backend. PostgreSQL and SQLite know the
/// holder's own identity (its `application_name`, the line in the lock file), as the table
/// lock's row does everywhere; MariaDB's session lock knows the server connection that holds
/// `GET_LOCK`.
async fn expected_holder(db: &TestDb, ledger: &Ledger, strategy: LockStrategy) -> String {
    match (db.backend, strategy) {
        (Backend::MariaDb, LockStrategy::Session) => {
            let admin = db.connect().await;
            let name = mysql_lock_name(db.database_name().unwrap(), ledger);
            let id: i64 = scalar(
                &admin,
                "SELECT CAST(IS_USED_LOCK(?) AS SIGNED)",
                vec![name.into()],
            )
            .await;
            let _ = admin.close().await;
            format!("pid {id} (server connection)")
        }
        _ => "`conformance holder`, on conformance-host, pid 4242".to_owned(),
    }
}

/// Whether the table lock is out of the check on `db`: SQLite refuses it, with a one-line
/// error that names the fix, and that much is checked here.
async fn no_table_lock_here(db: &TestDb) -> bool {
    if db.backend != Backend::Sqlite {
        return false;
    }
    let conn = connect(db).await;
    let refused = MigrationLock::acquire(
        &conn,
        &ledger(db),
        &holder(),
        &lock_options(LockStrategy::Table, Duration::from_secs(1)),
        |_| {},
    )
    .await;
    let Err(EngineError::Config { message }) = &refused else {
        panic!("SQLite should refuse the table lock, got {refused:?}");
    };
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("--lock-strategy session"), "{message}");
    assert!(
        db.table_names().await.is_empty(),
        "the refusal created something"
    );
    true
}

async fn waits_and_times_out_naming_the_holder(db: TestDb, strategy: LockStrategy) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let first = acquire_with(&conn, &ledger, &holder(), strategy).await;
    let expected = expected_holder(&db, &ledger, strategy).await;

    let mut told: Vec<String> = Vec::new();
    let started = Instant::now();
    let second = within(
        LIMIT,
        "a second acquire",
        MigrationLock::acquire(
            &conn,
            &ledger,
            &Identity::current("conformance waiter"),
            &lock_options(strategy, Duration::from_secs(1)),
            |holder: &Holder| told.push(holder.to_string()),
        ),
    )
    .await;
    let elapsed = started.elapsed();

    let Err(EngineError::LockTimeout { holder, waited }) = &second else {
        panic!("expected a lock timeout, got {second:?}");
    };
    assert!(holder.contains(&expected), "{holder:?} names {expected:?}");
    assert_eq!(*waited, Duration::from_secs(1));
    assert!(
        elapsed >= Duration::from_secs(1),
        "gave up after {elapsed:?}"
    );
    assert_eq!(
        told.len(),
        1,
        "the waiter is told once why it waits: {told:?}"
    );
    assert!(told[0].contains(&expected), "{told:?} names {expected:?}");
    if strategy == LockStrategy::Table {
        assert!(told[0].contains("lease until"), "{told:?}");
    }
    let message = second.unwrap_err().to_string();
    assert!(message.contains(&expected), "{message}");
    first.release().await.unwrap();
}

async fn a_second_acquire_waits_and_times_out_naming_the_holder(db: TestDb) {
    waits_and_times_out_naming_the_holder(db, LockStrategy::Session).await;
}

async fn a_second_table_lock_waits_and_times_out_naming_the_holder(db: TestDb) {
    if no_table_lock_here(&db).await {
        return;
    }
    waits_and_times_out_naming_the_holder(db, LockStrategy::Table).await;
}

async fn release_lets_the_waiting_runner_in(db: TestDb, strategy: LockStrategy) {
    let ledger = ledger(&db);
    let conn = connect(&db).await;
    let first = acquire_with(&conn, &ledger, &holder(), strategy).await;
    assert_eq!(first.strategy(), strategy);

    // Another runner, with its own connection, waits for it.
    let other = connect(&db).await;
    let told = Arc::new(AtomicUsize::new(0));
    let waiter = tokio::spawn({
        let ledger = ledger.clone();
        let told = Arc::clone(&told);
        async move {
            let me = Identity::current("conformance next");
            let options = lock_options(strategy, Duration::from_secs(20));
            MigrationLock::acquire(&other, &ledger, &me, &options, |_| {
                told.fetch_add(1, Ordering::SeqCst);
            })
            .await
        }
    });
    within(LIMIT, "the second runner finding the lock taken", async {
        while told.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // Still waiting a while later, through several polls (and, for a table lock, past its
    // two-second lease: the holder renews it).
    let still = match strategy {
        LockStrategy::Table => Duration::from_millis(3000),
        _ => Duration::from_millis(800),
    };
    tokio::time::sleep(still).await;
    assert!(!waiter.is_finished(), "the second runner got a held lock");
    assert_eq!(told.load(Ordering::SeqCst), 1, "a waiter is told once");

    let released = Instant::now();
    within(LIMIT, "releasing the lock", first.release())
        .await
        .unwrap();
    let next = within(LIMIT, "the waiting runner", waiter)
        .await
        .unwrap()
        .unwrap();
    let after = released.elapsed();
    assert!(
        after < Duration::from_secs(5),
        "got in {after:?} after release"
    );
    within(LIMIT, "releasing the lock", next.release())
        .await
        .unwrap();

    // Released twice over, the lock is free for a third runner at once.
    let third = acquire_with(&conn, &ledger, &holder(), strategy).await;
    third.release().await.unwrap();
}

async fn releasing_the_lock_lets_the_waiting_runner_in(db: TestDb) {
    release_lets_the_waiting_runner_in(db, LockStrategy::Session).await;
}

async fn releasing_the_table_lock_lets_the_waiting_runner_in(db: TestDb) {
    if no_table_lock_here(&db).await {
        return;
    }
    release_lets_the_waiting_runner_in(db, LockStrategy::Table).await;
}

/// The server session of the lock's connection, found from another connection.
async fn lock_session(db: &TestDb, admin: &DatabaseConnection, ledger: &Ledger) -> i64 {
    match db.backend {
        Backend::Postgres => {
            scalar(
                admin,
                "SELECT CAST(l.pid AS bigint) FROM pg_catalog.pg_locks l \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
                   (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
                Vec::new(),
            )
            .await
        }
        Backend::MariaDb => {
            let name = mysql_lock_name(db.database_name().unwrap(), ledger);
            scalar(
                admin,
                "SELECT CAST(IS_USED_LOCK(?) AS SIGNED)",
                vec![name.into()],
            )
            .await
        }
        Backend::Sqlite => unreachable!("SQLite's lock is a file, not a session"),
    }
}

async fn a_lock_whose_holder_died_is_freed_and_its_release_reports_the_loss(db: TestDb) {
    let ledger = ledger(&db);
    let conn = connect(&db).await;
    let lock = acquire(&conn, &ledger, &holder()).await;

    if db.backend == Backend::Sqlite {
        // SQLite's lock is an OS lock on `<database>.lock`, held by the process: there is no
        // connection to lose. What holds instead: a holder that goes away without releasing
        // (a dropped lock, as when the process dies) frees the lock for the next runner.
        drop(lock);
    } else {
        // The server ends the lock's session, as when its host vanishes.
        let admin = db.connect().await;
        let session = lock_session(&db, &admin, &ledger).await;
        match db.backend {
            Backend::Postgres => {
                let ended: bool = scalar(
                    &admin,
                    "SELECT pg_terminate_backend(CAST($1 AS integer))",
                    vec![session.into()],
                )
                .await;
                assert!(ended, "pg_terminate_backend({session}) ended nothing");
            }
            _ => execute(&admin, &[&format!("KILL {session}")]).await,
        }
        let released = within(LIMIT, "releasing a lost lock", lock.release()).await;
        assert!(
            matches!(released, Err(EngineError::Lock { .. })),
            "releasing over a dead connection reports it: {released:?}"
        );
        let _ = admin.close().await;
    }

    // The server (or the OS) freed the lock with its holder: the next runner gets in.
    let next = within(
        LIMIT,
        "acquiring after the holder died",
        MigrationLock::acquire(
            &conn,
            &ledger,
            &Identity::current("conformance next"),
            &lock_options(LockStrategy::Session, Duration::from_secs(10)),
            |_| {},
        ),
    )
    .await
    .unwrap();
    next.release().await.unwrap();
}

/// The lock table's row as `sql` (a statement on `schema_migrations_lock`) changes it, from
/// outside the engine.
async fn alter_lock_row(db: &TestDb, sql: &str) {
    let admin = db.connect().await;
    let changed = admin.execute_unprepared(sql).await.unwrap();
    assert_eq!(changed.rows_affected(), 1, "{sql}");
    let _ = admin.close().await;
}

async fn a_table_lock_whose_holder_died_is_taken_over_once_its_lease_runs_out(db: TestDb) {
    if no_table_lock_here(&db).await {
        return;
    }
    let ledger = ledger(&db);
    let conn = connect(&db).await;
    // A holder that goes away without releasing (dropped, as when its process is killed)
    // stops renewing its lease; its row stays.
    let gone = acquire_with(&conn, &ledger, &holder(), LockStrategy::Table).await;
    let taken = Instant::now();
    drop(gone);

    let mut told = Vec::new();
    let next = within(
        LIMIT,
        "acquiring after the holder died",
        MigrationLock::acquire(
            &conn,
            &ledger,
            &Identity::current("conformance next"),
            &lock_options(LockStrategy::Table, Duration::from_secs(15)),
            |holder: &Holder| told.push(holder.to_string()),
        ),
    )
    .await
    .unwrap();
    let after = taken.elapsed();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("`conformance holder`, on conformance-host, pid 4242"),
        "the waiter named the dead holder: {told:?}"
    );
    assert!(
        after >= Duration::from_millis(1500),
        "taken over after {after:?}, before the two-second lease ran out"
    );
    assert!(
        after < Duration::from_secs(10),
        "taken over after {after:?}"
    );

    // A holder whose row another runner took over finds out: its renewals stop, and its
    // release reports the loss instead of deleting the other's row.
    alter_lock_row(
        &db,
        "UPDATE schema_migrations_lock SET token = 'taken over by another runner'",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let released = within(LIMIT, "releasing a lost lock", next.release()).await;
    let Err(EngineError::Lock { detail }) = &released else {
        panic!("releasing a lock taken over reports it: {released:?}");
    };
    assert!(
        detail.contains("another runner took the lock over"),
        "{detail}"
    );
    let admin = db.connect().await;
    let left: i64 = scalar(
        &admin,
        "SELECT COUNT(*) FROM schema_migrations_lock WHERE token = 'taken over by another runner'",
        Vec::new(),
    )
    .await;
    assert_eq!(left, 1, "the other runner's row is left alone");
    let _ = admin.close().await;
}

async fn auto_takes_the_session_lock_on_a_server_of_one_node(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    assert_eq!(
        backend::lock::resolve(&conn, LockStrategy::Auto)
            .await
            .unwrap(),
        LockStrategy::Session
    );
    let lock = acquire_with(&conn, &ledger, &holder(), LockStrategy::Auto).await;
    assert_eq!(lock.strategy(), LockStrategy::Session);
    assert_eq!(lock.token(), None);
    lock.release().await.unwrap();
    assert!(
        !db.table_names().await.iter().any(|t| t.ends_with("_lock")),
        "a session lock makes no lock table"
    );
}

// --- The ledger -----------------------------------------------------------------------------

/// A timestamp every backend stores exactly (microseconds).
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_225_600_000_000 + seconds * 1_000_000 + 123_456).unwrap()
}

/// A ledger row with every optional column empty.
fn row(version: &str, state: RowState) -> LedgerRow {
    LedgerRow {
        version: version.to_owned(),
        name: format!("conformance_{version}"),
        checksum: format!("{version:0>64}"),
        state,
        batch: 1,
        applied_at: at(0),
        execution_ms: 0,
        applied_by: "tester@conformance-host".to_owned(),
        down_sql: None,
        error: None,
        environment: None,
        plan: None,
        via: None,
        render_stop: None,
        down_stop: None,
        runner: None,
    }
}

/// Rows that use every column, in each state.
fn full_rows() -> Vec<LedgerRow> {
    let down = vec![
        "DROP TABLE \"alpha\"".to_owned(),
        "DELETE FROM `beta` WHERE note = 'it''s; done' -- ünïcode ✓".to_owned(),
    ];
    vec![
        LedgerRow {
            batch: 1,
            applied_at: at(1),
            execution_ms: 17,
            down_sql: Some(encode_statements(&down)),
            environment: Some("production".to_owned()),
            ..row("20990101000001", RowState::Applied)
        },
        LedgerRow {
            batch: 2,
            applied_at: at(2),
            execution_ms: 9_000_000_000,
            plan: Some("hotfix".to_owned()),
            via: Some("20990101000009_consolidated".to_owned()),
            render_stop: Some("statement 2 reads data: SELECT count(*) FROM alpha".to_owned()),
            down_stop: Some("the down reads data".to_owned()),
            ..row("20990101000002", RowState::Applied)
        },
        LedgerRow {
            batch: 3,
            applied_at: at(3),
            runner: Some("0123456789abcdef0123456789abcdef".to_owned()),
            ..row("20990101000003", RowState::Running)
        },
        LedgerRow {
            batch: 3,
            applied_at: at(4),
            error: Some("relation \"gamma\" already exists\nsecond line".to_owned()),
            ..row("20990101000004", RowState::Failed)
        },
    ]
}

/// Reads the ledger, failing the check when it is absent.
async fn read(conn: &DatabaseConnection, ledger: &Ledger) -> Vec<LedgerRow> {
    ledger.read(conn).await.unwrap().expect("the ledger exists")
}

/// Rows compared in full (`LedgerRow` has no `PartialEq`: its `Debug` shows every field).
fn shown(rows: &[LedgerRow]) -> String {
    format!("{rows:#?}")
}

async fn a_database_without_a_ledger_reads_as_none_and_upgrades_to_nothing(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    assert!(ledger.read(&conn).await.unwrap().is_none());
    assert_eq!(ledger.upgrade(&conn).await.unwrap(), Vec::<String>::new());
    assert!(
        db.table_names().await.is_empty(),
        "reading and upgrading created something"
    );
}

async fn ledger_rows_read_back_as_written(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    conn.execute(&ledger.create_table()).await.unwrap();
    assert!(read(&conn, &ledger).await.is_empty());

    let rows = full_rows();
    // Inserted out of order: reads come back in version order.
    for row in rows.iter().rev() {
        conn.execute(&ledger.insert(row)).await.unwrap();
    }
    // Creating the table again (every command does) keeps what it holds.
    conn.execute(&ledger.create_table()).await.unwrap();

    let back = read(&conn, &ledger).await;
    assert_eq!(shown(&back), shown(&rows));
    assert_eq!(back[0].down_statements(), rows[0].down_statements());
    assert_eq!(
        back[2].state,
        RowState::Running,
        "a running row reads as such"
    );
    assert_eq!(back[3].state, RowState::Failed);
    // A second connection sees the same rows: they are committed, not session state.
    let other = connect(&db).await;
    assert_eq!(shown(&read(&other, &ledger).await), shown(&rows));
}

async fn state_checksum_and_removal_updates_read_back_as_written(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    conn.execute(&ledger.create_table()).await.unwrap();
    let mut rows = full_rows();
    for row in &rows {
        conn.execute(&ledger.insert(row)).await.unwrap();
    }

    // The tracked protocol: a running row completed with its duration ...
    conn.execute(&ledger.set_state("20990101000003", RowState::Applied, None, Some(42)))
        .await
        .unwrap();
    rows[2].state = RowState::Applied;
    rows[2].execution_ms = 42;
    // ... a failed one marked failed again with a new error, its duration kept ...
    conn.execute(&ledger.set_state(
        "20990101000004",
        RowState::Failed,
        Some("second failure".to_owned()),
        None,
    ))
    .await
    .unwrap();
    rows[3].error = Some("second failure".to_owned());
    // ... and, set twice, a state stays what it was set to.
    for _ in 0..2 {
        conn.execute(&ledger.set_state("20990101000001", RowState::Running, None, None))
            .await
            .unwrap();
    }
    rows[0].state = RowState::Running;
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&rows));

    // A checksum re-recorded with its rendering, and the rendering cleared again.
    let rendered = Rendered {
        checksum: "f".repeat(64),
        render_stop: Some("statement 1 reads data".to_owned()),
        down_sql: Some(encode_statements(&["DROP TABLE delta".to_owned()])),
        down_stop: None,
    };
    conn.execute(&ledger.set_checksum("20990101000002", &rendered))
        .await
        .unwrap();
    rows[1].checksum = rendered.checksum.clone();
    rows[1].render_stop = rendered.render_stop.clone();
    rows[1].down_sql = rendered.down_sql.clone();
    rows[1].down_stop = None;
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&rows));

    conn.execute(&ledger.delete("20990101000002"))
        .await
        .unwrap();
    rows.remove(1);
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&rows));
}

/// The ledger columns added after its first shape, which an old ledger lacks.
const ADDED_COLUMNS: [&str; 3] = ["render_stop", "down_stop", "runner"];

async fn an_old_ledger_is_read_without_the_newest_columns_and_upgraded_in_place(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let backend = db.backend.db_backend();
    // A ledger as an earlier version created it: today's, without the columns added since.
    conn.execute(&ledger.create_table()).await.unwrap();
    for column in ADDED_COLUMNS {
        let alter = Table::alter()
            .table(Alias::new(DEFAULT_MIGRATION_TABLE))
            .drop_column(Alias::new(column))
            .to_owned();
        conn.execute(&alter).await.unwrap();
    }
    let old = LedgerRow {
        down_sql: Some(encode_statements(&["DROP TABLE alpha".to_owned()])),
        environment: Some("staging".to_owned()),
        ..row("20990101000001", RowState::Applied)
    };
    let insert = Query::insert()
        .into_table(Alias::new(DEFAULT_MIGRATION_TABLE))
        .columns(
            [
                "version",
                "name",
                "checksum",
                "state",
                "batch",
                "applied_at",
                "execution_ms",
                "applied_by",
                "down_sql",
                "environment",
            ]
            .map(Alias::new),
        )
        .values_panic(
            [
                old.version.clone().into(),
                old.name.clone().into(),
                old.checksum.clone().into(),
                "applied".into(),
                old.batch.into(),
                backend::timestamp_value(backend, old.applied_at),
                old.execution_ms.into(),
                old.applied_by.clone().into(),
                old.down_sql.clone().into(),
                old.environment.clone().into(),
            ]
            .map(Expr::val),
        )
        .to_owned();
    conn.execute(&insert).await.unwrap();

    // Read as it is: the missing columns read as empty.
    assert_eq!(
        shown(&read(&conn, &ledger).await),
        shown(std::slice::from_ref(&old))
    );

    // Upgraded once, then left alone.
    assert_eq!(ledger.upgrade(&conn).await.unwrap(), ADDED_COLUMNS);
    assert_eq!(ledger.upgrade(&conn).await.unwrap(), Vec::<String>::new());
    let columns = db.columns(DEFAULT_MIGRATION_TABLE).await;
    for column in ADDED_COLUMNS {
        assert!(
            columns.iter().any(|c| c.starts_with(&format!("{column} "))),
            "{column} in {columns:?}"
        );
    }

    // The upgraded ledger takes and returns full rows, and the old row is unchanged.
    let new = LedgerRow {
        render_stop: Some("statement 3 reads data".to_owned()),
        down_stop: Some("the down reads data".to_owned()),
        ..row("20990101000002", RowState::Applied)
    };
    conn.execute(&ledger.insert(&new)).await.unwrap();
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&[old, new]));
}

async fn a_ledger_from_before_the_runner_column_is_read_with_everything_else_it_has(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    conn.execute(&ledger.create_table()).await.unwrap();
    let kept = LedgerRow {
        render_stop: Some("statement 3 reads data".to_owned()),
        down_stop: Some("the down reads data".to_owned()),
        ..row("20990101000001", RowState::Applied)
    };
    conn.execute(&ledger.insert(&kept)).await.unwrap();
    let alter = Table::alter()
        .table(Alias::new(DEFAULT_MIGRATION_TABLE))
        .drop_column(Alias::new("runner"))
        .to_owned();
    conn.execute(&alter).await.unwrap();
    assert_eq!(
        shown(&read(&conn, &ledger).await),
        shown(std::slice::from_ref(&kept))
    );
    assert_eq!(ledger.upgrade(&conn).await.unwrap(), ["runner"]);
    assert_eq!(
        shown(&read(&conn, &ledger).await),
        shown(std::slice::from_ref(&kept))
    );
}

// --- `running` and `failed` rows -------------------------------------------------------------

async fn fail_running_marks_running_rows_failed_and_leaves_the_rest(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    conn.execute(&ledger.create_table()).await.unwrap();
    let mut rows = vec![
        row("20990101000001", RowState::Applied),
        row("20990101000002", RowState::Running),
        LedgerRow {
            error: Some("boom".to_owned()),
            ..row("20990101000003", RowState::Failed)
        },
    ];
    for row in &rows {
        conn.execute(&ledger.insert(row)).await.unwrap();
    }

    let marked = conn
        .execute(&ledger.fail_running("interrupted by SIGTERM"))
        .await
        .unwrap();
    assert_eq!(marked.rows_affected(), 1);
    rows[1].state = RowState::Failed;
    rows[1].error = Some("interrupted by SIGTERM".to_owned());
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&rows));

    // An interrupted run writes this through the lock's connection, the migration's own being
    // cancelled.
    let running = row("20990101000004", RowState::Running);
    conn.execute(&ledger.insert(&running)).await.unwrap();
    rows.push(running);
    let mut lock = acquire(&conn, &ledger, &holder()).await;
    let mark = ledger.fail_running("interrupted by SIGINT");
    let sql = match db.backend {
        Backend::Postgres => mark.to_string(PostgresQueryBuilder),
        _ => mark.to_string(MysqlQueryBuilder),
    };
    lock.execute(&sql).await.unwrap();
    lock.release().await.unwrap();
    if db.backend == Backend::Sqlite {
        // SQLite's lock has no connection: nothing is written through it. What holds
        // instead: an interrupted SQLite run rolls back whole (its migrations share one
        // transaction), so it leaves no `running` row to mark.
    } else {
        rows[3].state = RowState::Failed;
        rows[3].error = Some("interrupted by SIGINT".to_owned());
    }
    assert_eq!(shown(&read(&conn, &ledger).await), shown(&rows));
}

/// Does nothing, both ways: its ledger row is what the check is about.
struct Step;

impl MigrationName for Step {
    fn name(&self) -> &str {
        "m20990101_000001_conformance_step"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Step {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

async fn a_running_row_whose_runner_is_gone_is_reported_failed_and_marked_interrupted(db: TestDb) {
    const VERSION: &str = "20990101000001";
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let set = MigrationSet::new(vec![Box::new(Step)]).unwrap();
    conn.execute(&ledger.create_table()).await.unwrap();
    let started = LedgerRow {
        name: "conformance_step".to_owned(),
        ..row(VERSION, RowState::Running)
    };
    conn.execute(&ledger.insert(&started)).await.unwrap();
    let engine = Engine::new(conn.clone(), &set, ledger.clone());

    // Status reads only, and reports the migration as failed, not applied or pending.
    let status = engine.status().await.unwrap();
    let line = status
        .migrations
        .iter()
        .find(|line| line.version == VERSION)
        .expect("the migration is in the status");
    assert_eq!(line.state, State::Failed);
    assert_eq!(read(&conn, &ledger).await[0].state, RowState::Running);
    assert!(
        !engine
            .up_to_date(&UpTarget::default(), &RunOptions::default())
            .await,
        "a running row is not up to date"
    );

    // Under the lock no other runner can be at work: the row is marked interrupted, and the
    // run is refused until it is repaired.
    let options = SessionOptions {
        lock_timeout: Duration::from_secs(5),
        ..SessionOptions::new("conformance")
    };
    let session = Session::beside(&conn, None, ledger.clone(), &options, |holder| {
        panic!("the lock should be free, but is held by {holder}")
    })
    .await
    .unwrap();
    let ops = Operations::new(session, &set);
    let up = ops.up(&UpTarget::default(), &RunOptions::default()).await;
    ops.release().await.unwrap();
    match &up {
        Err(EngineError::Dirty {
            version,
            state,
            what,
            ..
        }) => {
            assert_eq!(version, VERSION);
            assert_eq!(state, "failed");
            assert!(what.starts_with("was interrupted"), "{what}");
        }
        other => panic!("expected the run to be refused as dirty, got {other:?}"),
    }
    let rows = read(&conn, &ledger).await;
    assert_eq!(rows[0].state, RowState::Failed);
    let error = rows[0].error.as_deref().unwrap_or_default();
    assert!(error.starts_with(INTERRUPTED), "{error}");
    let line = engine.status().await.unwrap().migrations.remove(0);
    assert_eq!(line.state, State::Failed);
}

/// A session beside `conn` taking the lock with `strategy`, which must be free.
async fn session_with(
    conn: &DatabaseConnection,
    ledger: &Ledger,
    strategy: LockStrategy,
) -> Session {
    let options = SessionOptions {
        lock_timeout: Duration::from_secs(5),
        lock_strategy: strategy,
        lock_lease: Duration::from_secs(2),
        ..SessionOptions::new("conformance")
    };
    Session::beside(conn, None, ledger.clone(), &options, |holder| {
        panic!("the lock should be free, but is held by {holder}")
    })
    .await
    .unwrap()
}

async fn a_running_row_whose_runner_is_at_work_stays_running_and_nothing_advises_repair(
    db: TestDb,
) {
    if no_table_lock_here(&db).await {
        return;
    }
    const VERSION: &str = "20990101000001";
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let set = MigrationSet::new(vec![Box::new(Step)]).unwrap();
    conn.execute(&ledger.create_table()).await.unwrap();
    // A runner elsewhere (on another node of a cluster) holds the table lock and has marked
    // its migration running, with the token of its lock.
    let holding = acquire_with(&conn, &ledger, &holder(), LockStrategy::Table).await;
    let started = LedgerRow {
        name: "conformance_step".to_owned(),
        runner: holding.token().map(str::to_owned),
        ..row(VERSION, RowState::Running)
    };
    conn.execute(&ledger.insert(&started)).await.unwrap();
    let engine = Engine::new(conn.clone(), &set, ledger.clone());

    // Status: running, on the holder's host and pid; not failed.
    let status = engine.status().await.unwrap();
    let line = status
        .migrations
        .iter()
        .find(|line| line.version == VERSION)
        .expect("the migration is in the status");
    assert_eq!(line.state, State::Running);
    let runner = line.runner.as_ref().expect("the status names the runner");
    assert_eq!(runner.host.as_deref(), Some("conformance-host"));
    assert_eq!(runner.pid.as_deref(), Some("4242"));
    assert!(
        runner
            .text
            .starts_with("running on conformance-host pid 4242 (`conformance holder`"),
        "{}",
        runner.text
    );

    // A dry run cannot know what the runner will leave: it says to wait, not to repair.
    let dry = engine
        .dry_run_up(&UpTarget::default(), &RunOptions::default())
        .await;
    let Err(refused @ EngineError::Running { .. }) = &dry else {
        panic!("expected the dry run to wait for the runner, got {dry:?}");
    };
    let message = refused.to_string();
    assert!(
        message.contains("is running on conformance-host pid 4242"),
        "{message}"
    );
    assert!(!message.contains("repair"), "{message}");

    // A runner under the session lock (which the table lock does not exclude) leaves the row
    // alone, and is refused the same way.
    let ops = Operations::new(
        session_with(&conn, &ledger, LockStrategy::Session).await,
        &set,
    );
    let up = ops.up(&UpTarget::default(), &RunOptions::default()).await;
    ops.release().await.unwrap();
    assert!(matches!(up, Err(EngineError::Running { .. })), "{up:?}");
    assert_eq!(read(&conn, &ledger).await[0].state, RowState::Running);

    // Once the runner is gone (released here; killed, its lease runs out), the same row reads
    // as interrupted, and the next run under the table lock marks it so.
    holding.release().await.unwrap();
    let line = engine.status().await.unwrap().migrations.remove(0);
    assert_eq!(line.state, State::Failed);
    assert!(line.runner.is_none());
    let ops = Operations::new(
        session_with(&conn, &ledger, LockStrategy::Table).await,
        &set,
    );
    let up = ops.up(&UpTarget::default(), &RunOptions::default()).await;
    ops.release().await.unwrap();
    match &up {
        Err(EngineError::Dirty { state, what, .. }) => {
            assert_eq!(state, "failed");
            assert!(what.starts_with("was interrupted"), "{what}");
        }
        other => panic!("expected the run to be refused as dirty, got {other:?}"),
    }
    let rows = read(&conn, &ledger).await;
    assert_eq!(rows[0].state, RowState::Failed);
    assert!(
        rows[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with(INTERRUPTED)
    );
}

// --- Schema statements sent together -------------------------------------------------------

/// Creates `sent_a`, a table whose column default holds a quote and a backslash, then `sent_b`
/// twice: the second fails.
struct CreatesTwiceAndFails;

impl MigrationName for CreatesTwiceAndFails {
    fn name(&self) -> &str {
        "m20990102_000001_creates_twice"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatesTwiceAndFails {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = |name: &str| {
            Table::create()
                .table(Alias::new(name))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Alias::new("note"))
                        .string_len(40)
                        .default("it's a \\ test"),
                )
                .to_owned()
        };
        manager.create_table(table("sent_a")).await?;
        manager.create_table(table("sent_b")).await?;
        manager.create_table(table("sent_b")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("sent_b")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("sent_a")).to_owned())
            .await
    }
}

/// Whether `table` exists on `conn`.
async fn has_table(conn: &DatabaseConnection, table: &str) -> bool {
    sea_orm_migration::SchemaManager::new(conn)
        .has_table(table)
        .await
        .unwrap()
}

async fn a_migration_sent_as_its_rendered_statements_fails_exactly_as_its_code_would(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let set = MigrationSet::new(vec![Box::new(CreatesTwiceAndFails)]).unwrap();
    let ops = Operations::new(
        session_with(&conn, &ledger, LockStrategy::Session).await,
        &set,
    );
    let up = ops.up(&UpTarget::default(), &RunOptions::default()).await;
    ops.release().await.unwrap();
    let Err(EngineError::MigrationFailed { rolled_back, .. }) = &up else {
        panic!("expected the migration to fail, got {up:?}");
    };
    let entries = history::read(&conn, &ledger, None).await.unwrap();
    let failed = entries.first().expect("the failure is in the history");
    assert_eq!(failed.outcome, history::Outcome::Failed);
    assert_eq!(
        failed.statements.len(),
        3,
        "what was sent, the failing statement last: {:?}",
        failed.statements
    );
    assert!(
        failed.statements[2].contains("sent_b"),
        "{:?}",
        failed.statements
    );
    if db.backend == Backend::MariaDb {
        // DDL committed statement by statement: what ran before the failure stays, and the
        // row says the migration failed.
        assert!(!rolled_back);
        assert!(has_table(&conn, "sent_a").await && has_table(&conn, "sent_b").await);
        assert_eq!(read(&conn, &ledger).await[0].state, RowState::Failed);
    } else {
        assert!(rolled_back);
        assert!(!has_table(&conn, "sent_a").await && !has_table(&conn, "sent_b").await);
        assert!(read(&conn, &ledger).await.is_empty());
    }
}

async fn a_migration_sent_as_its_rendered_statements_records_them_as_sent(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let set = MigrationSet::new(vec![Box::new(CreatesTwice)]).unwrap();
    let ops = Operations::new(
        session_with(&conn, &ledger, LockStrategy::Session).await,
        &set,
    );
    ops.up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    ops.release().await.unwrap();
    assert!(has_table(&conn, "sent_a").await && has_table(&conn, "sent_b").await);
    let rendered = migration_engine::store::render::render(
        set.iter().next().unwrap(),
        conn.get_database_backend(),
        migration_engine::store::render::Direction::Up,
    )
    .await;
    let entries = history::read(&conn, &ledger, None).await.unwrap();
    assert_eq!(
        entries[0].statements, rendered.statements,
        "quotes and backslashes intact"
    );
    assert_eq!(read(&conn, &ledger).await[0].state, RowState::Applied);
    let ops = Operations::new(
        session_with(&conn, &ledger, LockStrategy::Session).await,
        &set,
    );
    ops.down(&migration_engine::DownTarget::All, &RunOptions::default())
        .await
        .unwrap();
    ops.release().await.unwrap();
    assert!(!has_table(&conn, "sent_a").await && !has_table(&conn, "sent_b").await);
}

/// [`CreatesTwiceAndFails`] without the second `sent_b`.
struct CreatesTwice;

impl MigrationName for CreatesTwice {
    fn name(&self) -> &str {
        "m20990102_000002_creates_two"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatesTwice {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = |name: &str| {
            Table::create()
                .table(Alias::new(name))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Alias::new("note"))
                        .string_len(40)
                        .default("it's a \\ test"),
                )
                .to_owned()
        };
        manager.create_table(table("sent_a")).await?;
        manager.create_table(table("sent_b")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        CreatesTwiceAndFails.down(manager).await
    }
}

// --- Cancel ---------------------------------------------------------------------------------

/// Waits until the connection `session` is running `fragment`.
async fn wait_until_running(admin: &DatabaseConnection, session: i64, fragment: &str) {
    let sql = match admin.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM pg_catalog.pg_stat_activity \
             WHERE pid = $1 AND state = 'active' AND query LIKE $2"
        }
        _ => "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ? AND info LIKE ?",
    };
    let pattern = format!("%{fragment}%");
    let deadline = Instant::now() + LIMIT;
    while scalar::<i64>(admin, sql, vec![session.into(), pattern.clone().into()]).await == 0 {
        assert!(
            Instant::now() < deadline,
            "session {session} never ran {fragment}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_long_statement_is_cancelled_from_the_lock_connection(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    let mut lock = acquire(&conn, &ledger, &holder()).await;

    let Some(session) = session_id(&conn).await else {
        // SQLite runs in the process, with no server session to cancel: `cancel` does
        // nothing. What holds instead: a run that stops (its task dropped, or the process
        // gone) rolls back the transaction it had open and leaves the database writable.
        assert!(lock.cancel(0).await.is_ok());
        let (inside, entered) = tokio::sync::oneshot::channel();
        let run = tokio::spawn({
            let conn = conn.clone();
            async move {
                let txn = conn.begin().await.unwrap();
                execute(&txn, &["CREATE TABLE stopped (id INTEGER)"]).await;
                inside.send(()).unwrap();
                std::future::pending::<()>().await;
                drop(txn);
            }
        });
        within(LIMIT, "the run's first statement", entered)
            .await
            .unwrap();
        run.abort();
        assert!(run.await.unwrap_err().is_cancelled());
        let other = db.connect().await;
        within(
            LIMIT,
            "writing after the stopped run",
            execute(&other, &["CREATE TABLE after_stop (id INTEGER)"]),
        )
        .await;
        assert_eq!(db.table_names().await, ["after_stop"]);
        lock.release().await.unwrap();
        return;
    };

    let (sleep, fragment, interrupted) = match db.backend {
        Backend::Postgres => (
            "SELECT pg_sleep(60)",
            "pg_sleep(60)",
            "canceling statement due to user request",
        ),
        _ => (
            "SELECT SLEEP(60)",
            "SLEEP(60)",
            "Query execution was interrupted",
        ),
    };
    let started = Instant::now();
    let statement = tokio::spawn({
        let conn = conn.clone();
        async move { conn.execute_unprepared(sleep).await }
    });
    let admin = db.connect().await;
    within(
        LIMIT,
        "starting the long statement",
        wait_until_running(&admin, session, fragment),
    )
    .await;

    within(LIMIT, "cancelling", lock.cancel(session))
        .await
        .unwrap();
    let outcome = within(LIMIT, "the cancelled statement", statement)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let err = outcome.expect_err("the statement was cancelled");
    assert!(err.to_string().contains(interrupted), "{err}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");

    // Cancel stops the statement, not the session: the migration connection goes on, and the
    // lock is still held.
    let one = match db.backend {
        Backend::Postgres => "SELECT CAST(1 AS bigint)",
        _ => "SELECT CAST(1 AS SIGNED)",
    };
    assert_eq!(scalar::<i64>(&conn, one, Vec::new()).await, 1);
    assert_eq!(session_id(&conn).await, Some(session));
    let second = MigrationLock::acquire(
        &conn,
        &ledger,
        &Identity::current("conformance waiter"),
        &lock_options(LockStrategy::Session, Duration::from_millis(500)),
        |_| {},
    )
    .await;
    assert!(
        matches!(second, Err(EngineError::LockTimeout { .. })),
        "{second:?}"
    );
    lock.release().await.unwrap();
    let _ = admin.close().await;
}

// --- The scratch database -------------------------------------------------------------------

/// Where a scratch database is: its name on the server, or its file.
enum ScratchPlace {
    Server(String),
    File(PathBuf),
}

impl ScratchPlace {
    fn of(scratch: &Scratch) -> Self {
        let url = scratch.target.url();
        match scratch.target.backend() {
            DbBackend::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                ScratchPlace::File(PathBuf::from(path.split('?').next().unwrap()))
            }
            _ => ScratchPlace::Server(
                url::Url::parse(url)
                    .unwrap()
                    .path()
                    .trim_start_matches('/')
                    .to_owned(),
            ),
        }
    }

    async fn exists(&self, backend: Backend) -> bool {
        match self {
            ScratchPlace::Server(name) => server_has_database(backend, name).await,
            ScratchPlace::File(path) => path.exists(),
        }
    }
}

async fn a_scratch_database_is_created_empty_beside_the_target_and_gone_after_destroy(db: TestDb) {
    let target = target(&db);
    let conn = connect(&db).await;
    execute(&conn, &["CREATE TABLE outside (id INTEGER PRIMARY KEY)"]).await;

    let scratch = within(LIMIT, "creating", Scratch::create(&target, CONNECT))
        .await
        .unwrap();
    assert_eq!(scratch.target.backend(), target.backend());
    assert_ne!(scratch.target.url(), target.url());
    let place = ScratchPlace::of(&scratch);
    if let ScratchPlace::Server(name) = &place {
        assert_ne!(Some(name.as_str()), db.database_name());
        assert!(place.exists(db.backend).await, "{name} was not created");
    }

    // Empty, and a database of its own: what is made there stays there.
    let inside = scratch.connect().await.unwrap();
    assert!(wipe::list_objects(&inside).await.unwrap().is_empty());
    execute(&inside, &["CREATE TABLE inside (id INTEGER PRIMARY KEY)"]).await;
    assert!(
        place.exists(db.backend).await,
        "the scratch database exists"
    );
    assert_eq!(db.table_names().await, ["outside"]);

    // Dropped even with a session still connected to it (a cancelled run leaves those).
    within(LIMIT, "destroying", scratch.destroy())
        .await
        .unwrap();
    assert!(
        !place.exists(db.backend).await,
        "the scratch database is gone"
    );
    if let ScratchPlace::File(path) = &place {
        assert!(!path.parent().unwrap().exists(), "its directory is gone");
    }
    drop(inside);
    assert_eq!(
        db.table_names().await,
        ["outside"],
        "the target is untouched"
    );
}

// --- Session timeouts -----------------------------------------------------------------------

async fn session_timeouts_are_accepted_and_bound_lock_waits_and_statements(db: TestDb) {
    let backend = db.backend.db_backend();
    let lock_wait = Duration::from_secs(1);
    let statement = Duration::from_secs(3);
    let sql = backend::session_timeouts(backend, Some(lock_wait), Some(statement));
    if db.backend == Backend::Sqlite {
        // SQLite has no table locks to wait for (writers queue on the file) and no statement
        // timeout: there is nothing to set.
        assert!(sql.is_empty(), "{sql:?}");
        return;
    }
    assert_eq!(sql.len(), 2, "{sql:?}");
    let conn = connect(&db).await;
    for statement in &sql {
        conn.execute_unprepared(statement)
            .await
            .unwrap_or_else(|err| panic!("{statement} refused: {err}"));
    }
    let (settings, shown): (&str, [&str; 2]) = match db.backend {
        Backend::Postgres => (
            "SELECT current_setting('lock_timeout') || ' ' || current_setting('statement_timeout')",
            ["1s", "3s"],
        ),
        _ => (
            "SELECT CAST(CONCAT(@@SESSION.lock_wait_timeout, ' ', \
                                @@SESSION.max_statement_time) AS CHAR)",
            ["1", "3.000000"],
        ),
    };
    assert_eq!(
        scalar::<String>(&conn, settings, Vec::new()).await,
        shown.join(" ")
    );

    // A table another session keeps busy: DDL waits the lock timeout, then fails as a lock
    // wait the engine knows to be safe to retry.
    execute(&conn, &["CREATE TABLE busy (id INTEGER PRIMARY KEY)"]).await;
    let other = db.connect().await;
    let txn = other.begin().await.unwrap();
    execute(&txn, &["SELECT * FROM busy"]).await;
    let started = Instant::now();
    let alter = within(
        LIMIT,
        "DDL on a busy table",
        conn.execute_unprepared("ALTER TABLE busy ADD COLUMN note INTEGER"),
    )
    .await;
    let elapsed = started.elapsed();
    txn.rollback().await.unwrap();
    let err = alter.expect_err("the DDL waited for the lock and gave up");
    assert!(backend::is_lock_wait_timeout(&err), "{err}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < statement,
        "gave up after {elapsed:?}"
    );

    // A statement that runs too long is stopped.
    let sleep = match db.backend {
        Backend::Postgres => "SELECT pg_sleep(20)",
        _ => "SELECT SLEEP(20)",
    };
    let started = Instant::now();
    let slept = within(LIMIT, "a long statement", conn.execute_unprepared(sleep)).await;
    let elapsed = started.elapsed();
    let err = slept.expect_err("the statement timed out");
    assert!(
        err.to_string().contains("statement timeout")
            || err.to_string().contains("max_statement_time"),
        "{err}"
    );
    assert!(
        elapsed >= Duration::from_millis(2900) && elapsed < Duration::from_secs(15),
        "stopped after {elapsed:?}"
    );

    if db.backend == Backend::MariaDb {
        // MariaDB counts lock waits in whole seconds: a shorter wait is one second, never 0.
        let short = backend::session_timeouts(backend, Some(Duration::from_millis(300)), None);
        execute(&conn, &short.iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert_eq!(
            scalar::<String>(
                &conn,
                "SELECT CAST(@@SESSION.lock_wait_timeout AS CHAR)",
                Vec::new()
            )
            .await,
            "1"
        );
    }
}

// --- Wipe -----------------------------------------------------------------------------------

/// Objects of every kind the backend's wipe must find, tied together by dependencies.
fn schema_objects(backend: Backend) -> Vec<&'static str> {
    let mut sql = match backend {
        Backend::Postgres => vec![
            "CREATE TYPE mood AS ENUM ('calm', 'busy')",
            "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
            "CREATE SEQUENCE tickets",
            "CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS 'SELECT 42'",
            "CREATE TABLE parents (id integer PRIMARY KEY, mood mood, size positive)",
        ],
        Backend::MariaDb => vec![
            "CREATE FUNCTION answer() RETURNS INT DETERMINISTIC RETURN 42",
            "CREATE PROCEDURE nothing() BEGIN END",
            "CREATE TABLE parents (id INTEGER PRIMARY KEY)",
        ],
        Backend::Sqlite => vec!["CREATE TABLE parents (id INTEGER PRIMARY KEY)"],
    };
    sql.extend([
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, \
         FOREIGN KEY (parent_id) REFERENCES parents (id))",
        "CREATE INDEX idx_children_parent ON children (parent_id)",
        "CREATE VIEW child_ids AS SELECT id FROM children",
        "INSERT INTO parents (id) VALUES (1)",
        "INSERT INTO children (id, parent_id) VALUES (1, 1)",
    ]);
    if backend == Backend::Sqlite {
        sql.push("CREATE TRIGGER children_touch AFTER INSERT ON children BEGIN SELECT 1; END");
    }
    sql
}

/// How many objects of any kind the catalog shows in the working schema, counted without the
/// engine's help.
async fn catalog_objects(conn: &DatabaseConnection) -> i64 {
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT (SELECT COUNT(*) FROM pg_catalog.pg_class c \
                     WHERE c.relnamespace = current_schema()::regnamespace) \
                  + (SELECT COUNT(*) FROM pg_catalog.pg_proc p \
                     WHERE p.pronamespace = current_schema()::regnamespace) \
                  + (SELECT COUNT(*) FROM pg_catalog.pg_type t \
                     WHERE t.typnamespace = current_schema()::regnamespace)"
        }
        DbBackend::MySql => {
            "SELECT (SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = DATABASE()) \
                  + (SELECT COUNT(*) FROM information_schema.routines \
                     WHERE routine_schema = DATABASE())"
        }
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    };
    let count: i64 = scalar(conn, sql, Vec::new()).await;
    count
}

async fn drop_all_leaves_an_empty_schema_the_ledger_included(db: TestDb) {
    let conn = connect(&db).await;
    let ledger = ledger(&db);
    execute(&conn, &schema_objects(db.backend)).await;
    conn.execute(&ledger.create_table()).await.unwrap();
    conn.execute(&history::create_table(&ledger)).await.unwrap();
    conn.execute(&ledger.insert(&row("20990101000001", RowState::Applied)))
        .await
        .unwrap();

    let listed: Vec<String> = wipe::list_objects(&conn)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    for table in [
        "parents",
        "children",
        "schema_migrations",
        "schema_migrations_history",
    ] {
        assert!(
            listed.iter().any(|object| object.contains(table)),
            "{table} is not listed: {listed:?}"
        );
    }
    let dropped: Vec<String> = within(LIMIT, "drop_all", wipe::drop_all(&conn, |_| false))
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(dropped, listed, "drop_all drops what list_objects lists");

    assert!(wipe::list_objects(&conn).await.unwrap().is_empty());
    assert_eq!(
        catalog_objects(&conn).await,
        0,
        "the catalog still shows objects"
    );
    assert!(db.table_names().await.is_empty());
    // As `fresh` goes on to do: the emptied schema takes a new ledger.
    assert!(ledger.read(&conn).await.unwrap().is_none());
    conn.execute(&ledger.create_table()).await.unwrap();
    assert!(read(&conn, &ledger).await.is_empty());
}

backend_matrix!(
    a_second_acquire_waits_and_times_out_naming_the_holder,
    a_second_table_lock_waits_and_times_out_naming_the_holder,
    releasing_the_lock_lets_the_waiting_runner_in,
    releasing_the_table_lock_lets_the_waiting_runner_in,
    a_lock_whose_holder_died_is_freed_and_its_release_reports_the_loss,
    a_table_lock_whose_holder_died_is_taken_over_once_its_lease_runs_out,
    auto_takes_the_session_lock_on_a_server_of_one_node,
    a_database_without_a_ledger_reads_as_none_and_upgrades_to_nothing,
    ledger_rows_read_back_as_written,
    state_checksum_and_removal_updates_read_back_as_written,
    an_old_ledger_is_read_without_the_newest_columns_and_upgraded_in_place,
    a_ledger_from_before_the_runner_column_is_read_with_everything_else_it_has,
    fail_running_marks_running_rows_failed_and_leaves_the_rest,
    a_running_row_whose_runner_is_gone_is_reported_failed_and_marked_interrupted,
    a_running_row_whose_runner_is_at_work_stays_running_and_nothing_advises_repair,
    a_long_statement_is_cancelled_from_the_lock_connection,
    a_scratch_database_is_created_empty_beside_the_target_and_gone_after_destroy,
    session_timeouts_are_accepted_and_bound_lock_waits_and_statements,
    drop_all_leaves_an_empty_schema_the_ledger_included,
    a_migration_sent_as_its_rendered_statements_fails_exactly_as_its_code_would,
    a_migration_sent_as_its_rendered_statements_records_them_as_sent,
);

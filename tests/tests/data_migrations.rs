//! SeaORM migrations that read and write data run unchanged on every backend: they are applied,
//! reported, dry-run, reverted, verified and adopted; what each run sent is in the history; and a
//! panic, an error after the first statement or a failing atomic migration leave the database as
//! any failure does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::schema::verify;
use migration_engine::store::ledger::{Ledger, RowState};
use migration_engine::{
    DownTarget, Engine, EngineError, MigrationSet, Operations, RunOptions, Session, SessionOptions,
    StartupOptions, State, Target, UpTarget, VerifyOptions,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Statement};
use sea_orm_migration::MigratorTrait;
use std::path::Path;
use std::time::Duration;
use tests::data::{self, widget};
use tests::{Backend, Run, TestDb, backend_matrix, run_in};

const INSERT: &str = "20990201000002";
const UPDATE: &str = "20990201000003";
const DECIDE: &str = "20990201000005";
const MANUAL: &str = "20990201000007";

fn set() -> MigrationSet {
    MigrationSet::new(data::migrations()).unwrap()
}

/// The operations of `set` on `db`, in a session of their own (so under the migration lock
/// until dropped).
async fn engine<'a>(db: &TestDb, set: &'a MigrationSet) -> Operations<'a> {
    let target = Target::new(&db.url, None, None, None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    Operations::new(session, set)
}

/// An engine of `set` on `db` that only reads, taking no lock.
async fn reader<'a>(db: &TestDb, set: &'a MigrationSet) -> Engine<'a> {
    let target = Target::new(&db.url, None, None, None).unwrap();
    let conn = target.connect(Duration::from_secs(10)).await.unwrap();
    Engine::new(conn, set, ledger(db))
}

fn ledger(db: &TestDb) -> Ledger {
    Ledger::new(db.backend.db_backend(), None, "schema_migrations")
}

async fn widgets(conn: &DatabaseConnection) -> Vec<(String, i32)> {
    widget::Entity::find()
        .order_by_asc(widget::Column::Name)
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.name, w.size))
        .collect()
}

async fn count(conn: &DatabaseConnection, table: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The schema-changing half every test ends with: nothing of the migrations is left.
async fn assert_only_the_ledger_is_left(db: &TestDb) {
    let tables = db.table_names().await;
    assert_eq!(
        tables,
        ["schema_migrations", "schema_migrations_history"],
        "{tables:?}"
    );
}

async fn data_migrations_apply_report_and_revert(db: TestDb) {
    let set = set();
    let e = engine(&db, &set).await;

    // Before anything runs: every migration is listed, the ones that read marked as such.
    let status = e.status().await.unwrap();
    let partly: Vec<&str> = status
        .migrations
        .iter()
        .filter(|m| m.partly_rendered.is_some())
        .map(|m| m.version.as_str())
        .collect();
    assert!(partly.contains(&INSERT), "{partly:?}");
    assert!(partly.contains(&UPDATE), "{partly:?}");
    assert!(partly.contains(&DECIDE), "{partly:?}");
    assert!(!partly.contains(&MANUAL), "{partly:?}");
    let decide = status
        .migrations
        .iter()
        .find(|m| m.version == DECIDE)
        .unwrap();
    assert!(
        decide
            .partly_rendered
            .as_deref()
            .unwrap()
            .contains("COUNT(*)"),
        "the read that stopped rendering is named: {decide:?}"
    );

    // A dry run never fails for a migration that reads, and says where rendering stopped.
    let before = db.dump().await;
    let script = e
        .dry_run_up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let text = script.to_string();
    assert!(
        text.contains("Partly rendered: stopped at a read"),
        "{text}"
    );
    assert!(
        text.contains("'alpha'"),
        "the write before the read is shown: {text}"
    );
    assert_eq!(db.dump().await, before, "a dry run changes nothing");

    // `up` runs the migrations' own code against the database.
    let report = e
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(report.steps.len(), 8);
    let conn = db.connect().await;
    assert_eq!(
        widgets(&conn).await,
        [("alpha".to_owned(), 10), ("gamma".to_owned(), 3)]
    );
    let columns = db.columns("widgets").await;
    assert!(
        columns.iter().any(|c| c.starts_with("note ")),
        "{columns:?}"
    );
    assert!(
        columns.iter().any(|c| c.starts_with("color ")),
        "{columns:?}"
    );
    assert_eq!(count(&conn, "gadgets").await, 2);

    // Re-rendered, every migration matches what ran: nothing is modified or pending.
    let states: Vec<State> = e
        .status()
        .await
        .unwrap()
        .migrations
        .iter()
        .map(|m| m.state)
        .collect();
    assert_eq!(states, vec![State::Applied; 8]);
    assert!(
        e.up_to_date(&UpTarget::default(), &RunOptions::default())
            .await
    );

    // The ledger keeps a `down` only where it rendered completely, and says why otherwise.
    let rows = ledger(&db).read(&conn).await.unwrap().unwrap();
    let row = |v: &str| rows.iter().find(|r| r.version == v).unwrap();
    assert!(row(INSERT).down_sql.is_some(), "{:?}", row(INSERT));
    assert!(row(INSERT).render_stop.is_some());
    assert!(row(UPDATE).down_sql.is_none());
    assert!(
        row(UPDATE).down_stop.as_deref().unwrap().contains("SELECT"),
        "{:?}",
        row(UPDATE)
    );

    // The history holds what each run sent, read off the real connection.
    let history = e.history(None).await.unwrap();
    let applied = |v: &str| {
        history
            .iter()
            .find(|h| h.version == v)
            .unwrap()
            .statements
            .join("\n")
    };
    let inserted = applied(INSERT);
    assert!(
        inserted.contains("INSERT INTO")
            && inserted.contains("'alpha'")
            && inserted.contains("'beta'"),
        "{inserted}"
    );
    let updated = applied(UPDATE);
    assert!(
        updated.contains("SELECT") && updated.contains("UPDATE") && updated.contains("10"),
        "{updated}"
    );
    assert!(applied(MANUAL).contains("gadgets"), "{}", applied(MANUAL));

    // `down --all` runs every `down` from its code and leaves only the ledger.
    let dry = e
        .dry_run_down(&DownTarget::All, &RunOptions::default())
        .await
        .unwrap()
        .to_string();
    assert!(dry.contains("Partly rendered"), "{dry}");
    let reverted = e
        .down(&DownTarget::All, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(reverted.steps.len(), 8);
    assert_only_the_ledger_is_left(&db).await;
    let reverts = e.history(Some(8)).await.unwrap();
    assert!(
        reverts
            .iter()
            .any(|h| h.statements.iter().any(|s| s.contains("DELETE FROM"))),
        "{reverts:?}"
    );
}

async fn verify_reports_rows_changed_and_put_back(db: TestDb) {
    let set = set();
    let target = Target::new(&db.url, None, None, None).unwrap();
    let options = VerifyOptions {
        from: None,
        connect_timeout: Duration::from_secs(10),
    };
    let report = verify::verify(&target, &set, &options).await.unwrap();
    assert!(report.is_clean(), "{report}");
    let changed = |v: &str| {
        report
            .data
            .iter()
            .filter(|c| c.migration.contains(v))
            .collect::<Vec<_>>()
    };
    let inserted = changed("insert_widgets");
    assert_eq!(inserted.len(), 1, "{report}");
    assert_eq!(inserted[0].table, "widgets");
    assert_eq!(
        (inserted[0].before, inserted[0].after_up),
        (Some(0), Some(2))
    );
    assert!(inserted[0].restored(), "{report}");
    assert!(changed("delete_widget")[0].restored(), "{report}");
    assert!(
        changed("update_widget").is_empty(),
        "an update keeps the count: {report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("insert_widgets changed rows on the way up")
            && text.contains("its down put the row count back"),
        "{text}"
    );
}

/// Adopts a database that SeaORM's own migrator migrated with the same modules.
async fn adopting_what_seaorm_applied_keeps_every_migration_applied(db: TestDb) {
    let conn = db.connect().await;
    data::SeaOrmMigrator::up(&conn, None).await.unwrap();
    let set = set();
    let e = engine(&db, &set).await;
    // Nothing is pending: `up` has nothing to run, and `adopt` carries the rows over.
    assert!(
        e.up_to_date(&UpTarget::default(), &RunOptions::default())
            .await
    );
    let report = e.adopt().await.unwrap();
    assert_eq!(report.adopted.len(), 8, "{report:?}");
    assert!(report.steps.is_empty(), "nothing runs twice: {report:?}");
    let states: Vec<State> = e
        .status()
        .await
        .unwrap()
        .migrations
        .iter()
        .map(|m| m.state)
        .collect();
    assert_eq!(states, vec![State::Applied; 8]);
    assert_eq!(
        widgets(&conn).await,
        [("alpha".to_owned(), 10), ("gamma".to_owned(), 3)]
    );
    e.down(&DownTarget::All, &RunOptions::default())
        .await
        .unwrap();
    let mut left = db.table_names().await;
    left.retain(|t| t != "seaql_migrations");
    assert_eq!(left, ["schema_migrations", "schema_migrations_history"]);
}

/// The state a failed third migration leaves: rolled back where the backend allows, a failed
/// row on MySQL/MariaDB; the first two stay applied; the history keeps what it sent.
async fn assert_failed_midway(db: &TestDb, e: &Engine<'_>, version: &str) {
    let conn = db.connect().await;
    let tables = db.table_names().await;
    let rows = ledger(db).read(&conn).await.unwrap().unwrap();
    let failed_row = rows.iter().find(|r| r.version == version);
    if db.backend == Backend::MariaDb {
        assert!(tables.contains(&"doomed".to_owned()), "DDL commits itself");
        assert_eq!(failed_row.unwrap().state, RowState::Failed);
    } else {
        assert!(!tables.contains(&"doomed".to_owned()), "{tables:?}");
        assert!(failed_row.is_none(), "{rows:?}");
    }
    assert_eq!(
        rows.iter().filter(|r| r.state == RowState::Applied).count(),
        2
    );
    let history = e.history(Some(1)).await.unwrap();
    assert!(
        history[0].statements.iter().any(|s| s.contains("doomed")),
        "{history:?}"
    );
}

async fn a_panicking_migration_fails_like_any_other(db: TestDb) {
    let set = MigrationSet::new(data::panicking()).unwrap();
    let e = engine(&db, &set).await;
    let err = e
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap_err();
    let EngineError::MigrationPanicked {
        migration,
        message,
        completed,
        ..
    } = &err
    else {
        panic!("expected a panic to be reported: {err:?}");
    };
    assert!(migration.contains("panics_midway"), "{err}");
    assert_eq!(message, "the widgets ran out midway");
    assert_eq!(completed.len(), 2, "{err}");
    assert!(
        err.to_string().starts_with(
            "migration 20990201000009_panics_midway panicked during up: the widgets ran out midway"
        ),
        "{err}"
    );
    assert_failed_midway(&db, &e, "20990201000009").await;
}

async fn an_error_after_the_first_statement_fails_the_migration(db: TestDb) {
    let set = MigrationSet::new(vec![
        Box::new(data::CreateWidgets),
        Box::new(data::InsertWidgets),
        Box::new(data::FailsMidway),
    ])
    .unwrap();
    let e = engine(&db, &set).await;
    let err = e
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::MigrationFailed { migration, .. } if migration.contains("fails_midway")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("the widgets ran out midway"),
        "{err}"
    );
    assert_failed_midway(&db, &e, "20990201000009").await;
}

/// `use_transaction() == Some(true)` gets a transaction on MySQL/MariaDB too: its inserts are
/// undone when it fails.
async fn an_atomic_migration_undoes_its_rows_when_it_fails(db: TestDb) {
    let set = MigrationSet::new(vec![
        Box::new(data::CreateWidgets),
        Box::new(data::AtomicInsertFails),
    ])
    .unwrap();
    let e = engine(&db, &set).await;
    let err = e
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("refusing after the inserts"),
        "{err}"
    );
    let conn = db.connect().await;
    assert_eq!(
        count(&conn, "widgets").await,
        0,
        "the inserts were rolled back"
    );
}

/// The start-up API runs data migrations too, and holds the lock while it does.
async fn run_pending_applies_data_migrations(db: TestDb) {
    let app_pool = db.connect().await;
    let set = set();
    let options = StartupOptions {
        lock_timeout: Duration::from_secs(5),
        ..StartupOptions::default()
    };
    let report = migration_engine::run_pending(&app_pool, &set, &options)
        .await
        .unwrap();
    assert_eq!(report.steps.len(), 8);
    assert_eq!(
        widgets(&app_pool).await,
        [("alpha".to_owned(), 10), ("gamma".to_owned(), 3)]
    );
}

/// Inserts a widget without reading, counts the widgets (a read), then inserts another: what is
/// before the read is checksummed, what follows it is not.
struct CountBetween {
    before: &'static str,
    after: &'static str,
}

impl sea_orm_migration::MigrationName for CountBetween {
    fn name(&self) -> &str {
        "m20990201_000003_count_between"
    }
}

#[async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for CountBetween {
    async fn up(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
        use sea_orm::PaginatorTrait;
        use sea_orm_migration::prelude::Query;
        let insert = |name: &str| {
            Query::insert()
                .into_table("widgets")
                .columns(["name", "size"])
                .values_panic([name.into(), 1.into()])
                .to_owned()
        };
        manager.exec_stmt(insert(self.before)).await?;
        let n = widget::Entity::find()
            .count(manager.get_connection())
            .await?;
        manager
            .exec_stmt(insert(&format!("{}{n}", self.after)))
            .await
    }

    async fn down(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
        widget::Entity::delete_many()
            .exec(manager.get_connection())
            .await
            .map(drop)
    }
}

async fn state_of(db: &TestDb, set: MigrationSet) -> State {
    let e = reader(db, &set).await;
    e.status().await.unwrap().migrations[1].state
}

fn counting(before: &'static str, after: &'static str) -> MigrationSet {
    MigrationSet::new(vec![
        Box::new(data::CreateWidgets),
        Box::new(CountBetween { before, after }),
    ])
    .unwrap()
}

async fn a_partly_rendered_checksum_covers_what_comes_before_the_first_read(db: TestDb) {
    let applied = counting("first", "second");
    let e = engine(&db, &applied).await;
    e.up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let conn = db.connect().await;
    assert_eq!(
        widgets(&conn).await,
        [("first".to_owned(), 1), ("second1".to_owned(), 1)],
        "the code ran on the real data"
    );
    assert_eq!(
        state_of(&db, counting("first", "second")).await,
        State::Applied
    );
    // An edit past the read is not seen: the ledger said so all along.
    assert_eq!(
        state_of(&db, counting("first", "later")).await,
        State::Applied
    );
    // An edit before it is.
    assert_eq!(
        state_of(&db, counting("other", "second")).await,
        State::Modified
    );
}

/// A `down` that reads data is not stored: once its code is gone, it is not reverted at all.
async fn a_missing_migration_whose_down_reads_is_not_reverted_in_part(db: TestDb) {
    let full = MigrationSet::new(vec![
        Box::new(data::CreateWidgets),
        Box::new(data::InsertWidgets),
        Box::new(data::UpdateWidget),
    ])
    .unwrap();
    engine(&db, &full)
        .await
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let before = db.dump().await;
    let without = MigrationSet::new(vec![
        Box::new(data::CreateWidgets),
        Box::new(data::InsertWidgets),
    ])
    .unwrap();
    let e = engine(&db, &without).await;
    let confirmed = RunOptions {
        confirmed_missing: true,
        ..RunOptions::default()
    };
    let err = e.down(&DownTarget::Steps(1), &confirmed).await.unwrap_err();
    let EngineError::MissingWithoutDown { why, .. } = &err else {
        panic!("expected a refusal: {err:?}");
    };
    assert!(why.as_deref().unwrap().contains("SELECT"), "{err}");
    assert!(
        err.to_string().contains("no `down` SQL was stored"),
        "{err}"
    );
    assert_eq!(migration_engine::cli::exit::code(&err), 4);
    assert_eq!(db.dump().await, before, "nothing changed");
}

fn cli(bin: &str, db: &TestDb, dir: &Path, args: &[&str]) -> Run {
    let bin = match bin {
        "data" => Path::new(env!("CARGO_BIN_EXE_migrate_data")),
        _ => Path::new(env!("CARGO_BIN_EXE_migrate_panic")),
    };
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    run_in(bin, dir, &all)
}

async fn the_command_line_runs_data_migrations(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let status = cli("data", &db, dir, &["status", "--format", "json"]).code(0);
    let json = status.json();
    let partly = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["partly_rendered"].is_string())
        .count();
    assert_eq!(partly, 5, "{status:?}");
    cli("data", &db, dir, &["check"]).code(6);
    let dry = cli("data", &db, dir, &["up", "--dry-run"]).code(0);
    assert!(dry.stdout.contains("Partly rendered"), "{dry:?}");
    cli("data", &db, dir, &["up"]).code(0);
    cli("data", &db, dir, &["check"]).code(0);
    let history = cli("data", &db, dir, &["history", "--verbose"]).code(0);
    assert!(
        history.stdout.contains("the statements it sent") && history.stdout.contains("'gamma'"),
        "{history:?}"
    );
    let json = cli("data", &db, dir, &["history", "--format", "json"])
        .code(0)
        .json();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|e| e["statements"].as_array().is_some_and(|s| !s.is_empty())),
        "{json}"
    );
    cli("data", &db, dir, &["verify"]).code(0);
    cli("data", &db, dir, &["down", "--all", "--yes"]).code(0);
    assert_only_the_ledger_is_left(&db).await;
}

async fn a_panic_is_one_line_and_frees_the_lock(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let run = cli("panic", &db, dir, &["up"]).refused(
        1,
        &["migration 20990201000009_panics_midway panicked during up: the widgets ran out midway"],
    );
    assert!(
        !run.stderr.contains("thread") && !run.stderr.contains("internal error"),
        "{run:?}"
    );
    // The lock was released: the next command is answered at once.
    let next = cli("panic", &db, dir, &["--lock-timeout", "3", "up"]);
    if db.backend == Backend::MariaDb {
        next.refused(4, &["panics_midway", "failed", "repair"]);
    } else {
        next.refused(1, &["panicked"]);
    }
}

backend_matrix!(
    data_migrations_apply_report_and_revert,
    verify_reports_rows_changed_and_put_back,
    adopting_what_seaorm_applied_keeps_every_migration_applied,
    a_panicking_migration_fails_like_any_other,
    an_error_after_the_first_statement_fails_the_migration,
    an_atomic_migration_undoes_its_rows_when_it_fails,
    run_pending_applies_data_migrations,
    the_command_line_runs_data_migrations,
    a_panic_is_one_line_and_frees_the_lock,
    a_partly_rendered_checksum_covers_what_comes_before_the_first_read,
    a_missing_migration_whose_down_reads_is_not_reverted_in_part,
);

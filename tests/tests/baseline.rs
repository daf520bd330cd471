//! A schema without a ledger, on every backend: `up`, the start-up API and every command that
//! plans on the ledger refuse it before running or creating anything, and `migrate baseline`
//! records the migrations that built it as applied, with the rows an `up` records, so the
//! ledger carries on from there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::state_words;
use migration_engine::{
    EngineError, MigrationSet, Operations, RunOptions, Session, SessionOptions, StartupOptions,
    Target,
};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;
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

async fn execute(db: &TestDb, statements: &[&str]) {
    let conn = db.connect().await;
    for sql in statements {
        conn.execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let _ = conn.close().await;
}

/// Drops the ledger and its history, as someone cleaning up by hand might.
async fn drop_ledger(db: &TestDb) {
    execute(
        db,
        &[
            "DROP TABLE schema_migrations_history",
            "DROP TABLE schema_migrations",
        ],
    )
    .await;
}

/// One ledger row: what an apply records to trust and revert it.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    version: String,
    checksum: String,
    down_sql: Option<String>,
    batch: i32,
    applied_by: String,
}

async fn ledger_rows(db: &TestDb) -> Vec<Row> {
    let conn = db.connect().await;
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version, checksum, down_sql, batch, applied_by FROM schema_migrations \
             ORDER BY version",
        ))
        .await
        .unwrap();
    let _ = conn.close().await;
    rows.iter()
        .map(|r| Row {
            version: r.try_get("", "version").unwrap(),
            checksum: r.try_get("", "checksum").unwrap(),
            down_sql: r.try_get("", "down_sql").unwrap(),
            batch: r.try_get("", "batch").unwrap(),
            applied_by: r.try_get("", "applied_by").unwrap(),
        })
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

async fn a_schema_without_a_ledger_is_refused_until_it_is_baselined(db: TestDb) {
    migrate(&db, &["up"]).code(0);
    let applied = ledger_rows(&db).await;
    drop_ledger(&db).await;
    let before = db.dump().await;

    // Everything that plans on the ledger refuses, naming what is there, and creates nothing:
    // not even the ledger.
    for args in [
        &["up"][..],
        &["up", "--dry-run"],
        &["down"],
        &["redo"],
        &["reset", "--yes"],
        &["refresh", "--yes"],
    ] {
        let run = migrate(&db, args).refused(
            4,
            &[
                "but no ledger `schema_migrations`",
                "table audit_logs",
                "migrate baseline",
            ],
        );
        assert_eq!(db.dump().await, before, "{run:?}");
    }
    // Reading is fine: nothing is applied.
    assert_eq!(state_words(&status(&db)), first_applied(0));

    // Without a terminal, baseline needs --yes; its dry run lists what it would record.
    migrate(&db, &["baseline"]).refused(5, &["records 11 migration(s)", "--yes"]);
    let dry = migrate(&db, &["baseline", "--dry-run", "--format", "json"])
        .code(0)
        .json();
    insta::assert_snapshot!(
        "baseline_dry_run",
        serde_json::to_string_pretty(&dry).unwrap()
    );
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["batch"], 1, "{dry}");
    assert_eq!(dry["baselined"].as_array().unwrap().len(), 11, "{dry}");
    assert_eq!(dry["baselined"][0]["version"], v(1), "{dry}");
    assert_eq!(db.dump().await, before);

    let run = migrate(
        &db,
        &["baseline", "--yes", "--reason", "restored from a dump"],
    )
    .code(0);
    assert!(
        run.stdout
            .contains("Recorded 11 migration(s) as applied in batch 1, without running them"),
        "{run:?}"
    );

    // The rows are those the `up` recorded, checksums and stored `down` SQL alike; only who
    // applied them differs: nobody ran them.
    let baselined = ledger_rows(&db).await;
    assert_eq!(baselined.len(), 11);
    for (b, a) in baselined.iter().zip(&applied) {
        assert_eq!(
            (&b.version, &b.checksum, &b.down_sql, b.batch),
            (&a.version, &a.checksum, &a.down_sql, a.batch)
        );
        assert_eq!(b.applied_by, "baseline");
    }
    let json = status(&db);
    assert_eq!(state_words(&json), first_applied(11));
    assert!(
        json["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["baseline"] == true),
        "{json}"
    );
    let text = migrate(&db, &["status"]).code(0);
    assert!(text.stdout.contains("applied (baseline)"), "{text:?}");
    let entries = history(&db);
    assert_eq!(entries.len(), 11);
    for e in &entries {
        assert_eq!(e["action"], "baseline", "{e}");
        assert_eq!(e["reason"], "restored from a dump", "{e}");
        assert_eq!(e["batch"], 1, "{e}");
    }
    let text = migrate(&db, &["history", "--limit", "1"]).code(0);
    assert!(text.stdout.contains("baseline"), "{text:?}");

    // From here the ledger carries on as after an `up`.
    let up = migrate(&db, &["up"]).code(0);
    assert!(up.stdout.contains("Nothing to do"), "{up:?}");
    migrate(&db, &["down"]).code(0);
    migrate(&db, &["up"]).code(0);
    assert_eq!(state_words(&status(&db)), first_applied(11));

    // A ledger that records migrations is never baselined over.
    let before = db.dump().await;
    migrate(&db, &["baseline", "--yes"]).refused(4, &["already records 11 migration(s)"]);
    assert_eq!(db.dump().await, before);
}

async fn baseline_to_a_version_leaves_the_rest_for_up(db: TestDb) {
    migrate(&db, &["up", "--to", &v(5)]).code(0);
    drop_ledger(&db).await;
    migrate(&db, &["baseline", "--to", "20990101000000", "--yes"]).refused(2, &["20990101000000"]);
    let run = migrate(&db, &["baseline", "--to", "20240813_000005", "--yes"]).code(0);
    assert!(
        run.stdout.contains("6 later migration(s) stay pending"),
        "{run:?}"
    );
    assert_eq!(state_words(&status(&db)), first_applied(5));

    let up = migrate(&db, &["up"]).code(0);
    assert!(
        up.stdout.contains("Applied 6 migration(s) in batch 2"),
        "{up:?}"
    );
    assert_eq!(state_words(&status(&db)), first_applied(11));
    let actions: Vec<String> = history(&db)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "baseline").count(), 5);
    assert_eq!(actions.iter().filter(|a| *a == "apply").count(), 6);
}

async fn baseline_refuses_an_empty_database(db: TestDb) {
    migrate(&db, &["baseline", "--yes"]).refused(4, &["nothing to baseline", "migrate up"]);
    assert_eq!(db.table_names().await, Vec::<String>::new());
    // An empty database is what `up` starts from.
    migrate(&db, &["up"]).code(0);
}

/// Creates one table, `alpha`.
struct CreateAlpha;

impl MigrationName for CreateAlpha {
    fn name(&self) -> &str {
        "m20240101_000001_create_alpha"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAlpha {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("alpha")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("alpha").to_owned())
            .await
    }
}

/// The operations of `set` on `db`, in a session of their own (so under the migration lock
/// until released).
async fn engine<'a>(db: &TestDb, set: &'a MigrationSet) -> Operations<'a> {
    let target = Target::new(&db.url, None, None, None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    Operations::new(session, set)
}

async fn the_startup_api_refuses_a_schema_without_a_ledger(db: TestDb) {
    execute(
        &db,
        &["CREATE TABLE alpha (id INTEGER NOT NULL PRIMARY KEY)"],
    )
    .await;
    let set = MigrationSet::new(vec![Box::new(CreateAlpha)]).unwrap();
    let pool = db.connect().await;
    let err = migration_engine::run_pending(&pool, &set, &StartupOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Unledgered { count: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("(table alpha)"), "{err}");
    assert_eq!(db.table_names().await, ["alpha"], "nothing may be created");

    let e = engine(&db, &set).await;
    let report = e.baseline(None, &RunOptions::default()).await.unwrap();
    assert_eq!(report.baselined.len(), 1);
    e.release().await.unwrap();
    let report = migration_engine::run_pending(&pool, &set, &StartupOptions::default())
        .await
        .unwrap();
    assert!(report.steps.is_empty(), "{report:?}");
}

async fn a_seaorm_database_is_adopted_not_baselined(db: TestDb) {
    struct Stock;
    impl MigratorTrait for Stock {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(CreateAlpha)]
        }
    }
    let conn = db.connect().await;
    <Stock as MigratorTrait>::up(&conn, None).await.unwrap();
    let set = MigrationSet::new(vec![Box::new(CreateAlpha)]).unwrap();
    let e = engine(&db, &set).await;
    let err = e.baseline(None, &RunOptions::default()).await.unwrap_err();
    assert!(matches!(err, EngineError::Baseline { .. }), "{err:?}");
    assert!(err.to_string().contains("migrate adopt"), "{err}");
    // `up` does not refuse it (nothing is pending), and `adopt` carries it into the ledger.
    let report = e
        .up(
            &migration_engine::UpTarget::default(),
            &RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(report.steps.is_empty(), "{report:?}");
    assert_eq!(e.adopt().await.unwrap().adopted.len(), 1);
}

backend_matrix!(
    a_schema_without_a_ledger_is_refused_until_it_is_baselined,
    baseline_to_a_version_leaves_the_rest_for_up,
    baseline_refuses_an_empty_database,
    the_startup_api_refuses_a_schema_without_a_ledger,
    a_seaorm_database_is_adopted_not_baselined,
);

//! `verify` on every backend: the reference schema passes; test-only migrations with broken
//! `down`s are each named precisely (on PostgreSQL in schemas besides the current one too);
//! `--from` starts later; the scratch database is dropped and the target never touched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::schema::verify;
use migration_engine::{
    Difference, EngineError, MigrationSet, Target, VerifyOptions, VerifyReport,
};
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tests::{Backend, TestDb, backend_matrix, server_has_database};

/// Runs statements one by one.
async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

/// A migration given as SQL per backend: `up` and `down` run their statements for the backend at
/// hand; `down: None` leaves SeaORM's default `down`, which refuses (an irreversible migration).
struct Sql {
    name: &'static str,
    up: fn(DbBackend) -> Vec<&'static str>,
    down: Option<fn(DbBackend) -> Vec<&'static str>>,
}

impl MigrationName for Sql {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Sql {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &(self.up)(manager.get_database_backend())).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match self.down {
            Some(down) => run(manager, &down(manager.get_database_backend())).await,
            None => Err(DbErr::Migration("this migration has no down".to_owned())),
        }
    }
}

fn nothing(_: DbBackend) -> Vec<&'static str> {
    Vec::new()
}

/// Creates `accounts`, `bookings` and `tags` (and on PostgreSQL the trigger function the next
/// migrations use); its `down` is right.
fn create_base() -> Sql {
    Sql {
        name: "m20990101_000001_create_base",
        up: |backend| match backend {
            DbBackend::Postgres => vec![
                "CREATE TABLE accounts (id bigserial PRIMARY KEY, email varchar(100) NOT NULL)",
                "CREATE TABLE bookings (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, status varchar(20) NOT NULL DEFAULT 'new')",
                "CREATE TABLE tags (id bigserial PRIMARY KEY, label varchar(40))",
                "CREATE FUNCTION touch_bookings() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            ],
            DbBackend::MySql => vec![
                "CREATE TABLE accounts (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL)",
                "CREATE TABLE bookings (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id BIGINT NOT NULL, status VARCHAR(20) NOT NULL DEFAULT 'new', CONSTRAINT fk_bookings_account_id FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE)",
                "CREATE TABLE tags (id BIGINT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(40))",
            ],
            _ => vec![
                "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(100) NOT NULL)",
                "CREATE TABLE bookings (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, status VARCHAR(20) NOT NULL DEFAULT 'new')",
                "CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT, label VARCHAR(40))",
            ],
        },
        down: Some(|backend| {
            let mut sql = vec![
                "DROP TABLE bookings",
                "DROP TABLE accounts",
                "DROP TABLE tags",
            ];
            if backend == DbBackend::Postgres {
                sql.push("DROP FUNCTION touch_bookings()");
            }
            sql
        }),
    }
}

/// The broken migrations, each after `create_base`, in order, and one right one at the end.
fn broken() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(create_base()),
        Box::new(Sql {
            name: "m20990101_000002_forget_index",
            up: |_| vec!["CREATE INDEX idx_bookings_status ON bookings (status)"],
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000003_forget_trigger",
            up: |backend| match backend {
                DbBackend::Postgres => vec![
                    "CREATE TRIGGER trg_bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch_bookings()",
                ],
                DbBackend::MySql => vec![
                    "CREATE TRIGGER trg_bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW SET NEW.status = NEW.status",
                ],
                _ => vec![
                    "CREATE TRIGGER trg_bookings_touch AFTER UPDATE ON bookings BEGIN UPDATE tags SET label = label WHERE 0; END",
                ],
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000004_keep_column",
            up: |_| vec!["ALTER TABLE bookings ADD COLUMN note VARCHAR(200)"],
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000005_forget_view",
            up: |_| {
                vec![
                    "CREATE VIEW v_open_bookings AS SELECT id, status FROM bookings WHERE status = 'new'",
                ]
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000006_forget_function",
            up: |backend| match backend {
                DbBackend::Postgres => vec![
                    "CREATE FUNCTION booking_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM bookings $$",
                ],
                DbBackend::MySql => vec![
                    "CREATE FUNCTION booking_count() RETURNS BIGINT READS SQL DATA RETURN (SELECT COUNT(*) FROM bookings)",
                ],
                // SQLite has no stored functions.
                _ => Vec::new(),
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000007_loosen_column",
            up: |backend| match backend {
                DbBackend::Postgres => {
                    vec!["ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL"]
                }
                DbBackend::MySql => vec!["ALTER TABLE accounts MODIFY email VARCHAR(100) NULL"],
                // SQLite cannot change a column's nullability in place.
                _ => Vec::new(),
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000008_drop_too_much",
            up: |_| vec!["CREATE TABLE extras (id INTEGER PRIMARY KEY)"],
            down: Some(|_| vec!["DROP TABLE extras", "DROP TABLE tags"]),
        }),
        Box::new(Sql {
            name: "m20990101_000009_create_notes",
            up: |_| {
                vec![
                    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(200))",
                    "CREATE INDEX idx_notes_body ON notes (body)",
                ]
            },
            down: Some(|_| vec!["DROP TABLE notes"]),
        }),
        Box::new(UnstableDown),
        Box::new(Sql {
            name: "m20990101_000011_failing_down",
            up: |_| vec!["CREATE TABLE fragile (id INTEGER PRIMARY KEY)"],
            down: Some(|_| vec!["DROP TABLE fragile_typo"]),
        }),
        Box::new(Sql {
            name: "m20990101_000012_irreversible",
            up: |_| vec!["CREATE TABLE permanent (id INTEGER PRIMARY KEY)"],
            down: None,
        }),
        Box::new(Sql {
            name: "m20990101_000013_create_final",
            up: |_| vec!["CREATE TABLE final_notes (id INTEGER PRIMARY KEY)"],
            down: Some(|_| vec!["DROP TABLE final_notes"]),
        }),
    ]
}

/// A `down` that renders differently each time (it numbers its statements), so the SQL stored at
/// apply time never matches what the code renders later; its effect on the schema is right.
struct UnstableDown;

static RENDERS: AtomicU64 = AtomicU64::new(0);

impl MigrationName for UnstableDown {
    fn name(&self) -> &str {
        "m20990101_000010_unstable_down"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UnstableDown {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &["CREATE TABLE stable (id INTEGER PRIMARY KEY)"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &["DROP TABLE stable"]).await?;
        let n = RENDERS.fetch_add(1, Ordering::Relaxed);
        manager
            .get_connection()
            .execute_unprepared(&format!("SELECT {n}"))
            .await
            .map(drop)
    }
}

fn options(from: Option<&str>) -> VerifyOptions {
    VerifyOptions {
        from: from.map(str::to_owned),
        connect_timeout: Duration::from_secs(10),
    }
}

async fn verify_on(db: &TestDb, set: &MigrationSet, from: Option<&str>) -> VerifyReport {
    let target = Target::new(&db.url, None, None, None).unwrap();
    verify::verify(&target, set, &options(from)).await.unwrap()
}

/// What must hold after every run: the scratch database is gone and the target untouched.
async fn assert_scratch_gone_and_target_untouched(db: &TestDb, report: &VerifyReport) {
    match db.backend {
        Backend::Sqlite => {
            // Never opened: a SQLite URL with mode=rwc would have created the file.
            assert!(
                !db.sqlite_path().unwrap().exists(),
                "the target file was created"
            );
            let scratch = report
                .scratch
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            assert!(
                !std::path::Path::new(&scratch).exists(),
                "{scratch} was left behind"
            );
        }
        backend => {
            let name = url::Url::parse(&report.scratch)
                .unwrap()
                .path()
                .trim_start_matches('/')
                .to_owned();
            let target = db.database_name().unwrap();
            assert!(
                name.starts_with(&target[..target.len().min(20)]) && name.contains("_verify_"),
                "{name}"
            );
            assert!(
                !server_has_database(backend, &name).await,
                "{name} was left behind"
            );
            assert!(db.table_names().await.is_empty(), "the target was changed");
        }
    }
}

async fn verify_passes_on_the_reference_schema(db: TestDb) {
    let set = MigrationSet::from_migrator::<migration::Migrator>().unwrap();
    let report = verify_on(&db, &set, None).await;
    let found: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(report.verified.len(), set.len());
    assert_eq!(
        report.verified[0],
        set.iter().next().unwrap().id.module_name()
    );
    assert_scratch_gone_and_target_untouched(&db, &report).await;
}

/// Every difference the broken list must produce on `backend`, as sentences; a trailing `*`
/// means "starts with" (error texts and render counters vary).
fn expected(backend: Backend, from: u32) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = vec![
        (
            2,
            "down of m20990101_000002_forget_index leaves index idx_bookings_status on bookings"
                .into(),
        ),
        (
            3,
            "down of m20990101_000003_forget_trigger leaves trigger trg_bookings_touch on bookings"
                .into(),
        ),
        (
            4,
            "down of m20990101_000004_keep_column leaves column bookings.note".into(),
        ),
        (
            5,
            "down of m20990101_000005_forget_view leaves view v_open_bookings".into(),
        ),
    ];
    match backend {
        Backend::Postgres => out.push((
            6,
            "down of m20990101_000006_forget_function leaves function booking_count()".into(),
        )),
        Backend::MariaDb => out.push((
            6,
            "down of m20990101_000006_forget_function leaves function booking_count".into(),
        )),
        Backend::Sqlite => {}
    }
    if backend != Backend::Sqlite {
        out.push((7, "down of m20990101_000007_loosen_column changes column accounts.email: not null -> nullable".into()));
    }
    out.extend([
        (8, "down of m20990101_000008_drop_too_much drops table tags that existed before up".into()),
        (10, "the down SQL stored when m20990101_000010_unstable_down was applied is not what its code renders now: statement 2 was stored as `SELECT *".into()),
        (11, "down of m20990101_000011_failing_down fails: *".into()),
        (12, "m20990101_000012_irreversible has no down (*".into()),
    ]);
    out.retain(|(n, _)| *n >= from);
    out
}

fn assert_differences(report: &VerifyReport, backend: Backend, from: u32) {
    let found: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    let expected = expected(backend, from);
    let matches = found.len() == expected.len()
        && found
            .iter()
            .zip(&expected)
            .all(|(f, (_, e))| match e.strip_suffix('*') {
                Some(prefix) => f.starts_with(prefix),
                None => f == e,
            });
    let expected: Vec<&str> = expected.iter().map(|(_, e)| e.as_str()).collect();
    assert!(matches, "found:\n{found:#?}\nexpected:\n{expected:#?}");
}

async fn verify_names_every_broken_down(db: TestDb) {
    let set = MigrationSet::new(broken()).unwrap();
    let report = verify_on(&db, &set, None).await;
    assert_differences(&report, db.backend, 1);
    assert_eq!(
        report.verified.len(),
        set.len(),
        "every migration was checked"
    );
    assert!(!report.is_clean());
    // Typed as well as worded.
    assert!(matches!(
        &report.differences[0],
        Difference::Down { migration, .. } if migration == "m20990101_000002_forget_index"
    ));
    assert_scratch_gone_and_target_untouched(&db, &report).await;
}

async fn verify_from_a_version_checks_only_that_one_and_later(db: TestDb) {
    let set = MigrationSet::new(broken()).unwrap();
    let report = verify_on(&db, &set, Some("20990101_000005")).await;
    assert_differences(&report, db.backend, 5);
    assert_eq!(report.from.as_deref(), Some("20990101000005"));
    assert_eq!(report.verified[0], "m20990101_000005_forget_view");
    assert_eq!(report.verified.len(), set.len() - 4);
    assert_scratch_gone_and_target_untouched(&db, &report).await;
}

async fn verify_refuses_an_unknown_from_before_creating_anything(db: TestDb) {
    let set = MigrationSet::new(broken()).unwrap();
    let target = Target::new(&db.url, None, None, None).unwrap();
    let err = verify::verify(&target, &set, &options(Some("20000101000000")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::UnknownVersion { ref version } if version == "20000101000000"),
        "{err}"
    );
}

async fn a_failing_up_is_an_error_and_still_drops_the_scratch_database(db: TestDb) {
    let set = MigrationSet::new(vec![
        Box::new(create_base()),
        Box::new(Sql {
            name: "m20990101_000002_fails",
            up: |_| vec!["THIS IS NOT SQL"],
            down: Some(nothing),
        }),
    ])
    .unwrap();
    let target = Target::new(&db.url, None, None, None).unwrap();
    let stopped = verify::verify_until(&target, &set, &options(None), async {
        // Not reached: the failure comes first.
        tokio::time::sleep(Duration::from_secs(600)).await;
        "SIGINT"
    })
    .await
    .unwrap_err();
    assert!(
        matches!(stopped, EngineError::MigrationFailed { ref migration, .. } if migration.contains("fails")),
        "{stopped}"
    );
    if db.backend == Backend::Sqlite {
        assert!(!db.sqlite_path().unwrap().exists());
    } else {
        assert!(db.table_names().await.is_empty());
    }
}

async fn an_interrupted_verify_drops_its_scratch_database(db: TestDb) {
    let set = MigrationSet::from_migrator::<migration::Migrator>().unwrap();
    let target = Target::new(&db.url, None, None, None).unwrap();

    // Stopped before it starts: nothing is created.
    let err = verify::verify_until(&target, &set, &options(None), async { "SIGINT" })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::Interrupted { signal: "SIGINT", cleanup } if cleanup.contains("nothing")),
        "{err}"
    );

    // Stopped while it runs: the scratch database is dropped.
    let stop = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        "SIGTERM"
    };
    let err = verify::verify_until(&target, &set, &options(None), stop)
        .await
        .unwrap_err();
    let EngineError::Interrupted { signal, cleanup } = &err else {
        panic!("{err}");
    };
    assert_eq!(*signal, "SIGTERM");
    assert!(cleanup.contains("was dropped"), "{cleanup}");
    let scratch = cleanup
        .split_whitespace()
        .find(|w| w.contains("://"))
        .unwrap();
    match db.backend {
        Backend::Sqlite => {
            let file = scratch
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap();
            assert!(!std::path::Path::new(file).exists(), "{file} left behind");
            assert!(!db.sqlite_path().unwrap().exists());
        }
        backend => {
            let name = url::Url::parse(scratch)
                .unwrap()
                .path()
                .trim_start_matches('/')
                .to_owned();
            assert!(
                !server_has_database(backend, &name).await,
                "{name} left behind"
            );
            assert!(db.table_names().await.is_empty());
        }
    }
}

backend_matrix!(
    verify_passes_on_the_reference_schema,
    verify_names_every_broken_down,
    verify_from_a_version_checks_only_that_one_and_later,
    verify_refuses_an_unknown_from_before_creating_anything,
    a_failing_up_is_an_error_and_still_drops_the_scratch_database,
    an_interrupted_verify_drops_its_scratch_database,
);

/// On PostgreSQL, migrations that work in a schema besides the current one: one forgets
/// `DROP SCHEMA`, one forgets a table there (with a foreign key to `public`), one leaves rows in
/// a table there, and one gets everything right.
fn in_other_schemas() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(create_base()),
        Box::new(Sql {
            name: "m20990101_000002_forget_drop_schema",
            up: |_| vec!["CREATE SCHEMA archive"],
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000003_forget_table_in_schema",
            up: |_| {
                vec![
                    "CREATE TABLE archive.old_bookings (id bigint PRIMARY KEY, \
                     account_id bigint REFERENCES accounts (id))",
                ]
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000004_keep_rows_in_schema",
            // Numbered after the rows already there, so that running it again succeeds.
            up: |_| {
                vec![
                    "INSERT INTO archive.old_bookings (id) \
                     SELECT coalesce(max(id), 0) + 1 FROM archive.old_bookings",
                ]
            },
            down: Some(nothing),
        }),
        Box::new(Sql {
            name: "m20990101_000005_create_reports",
            up: |_| {
                vec![
                    "CREATE SCHEMA reports",
                    "CREATE TYPE reports.period AS ENUM ('day', 'month')",
                    "CREATE TABLE reports.totals (id bigserial PRIMARY KEY, \
                     period reports.period NOT NULL, account_id bigint REFERENCES accounts (id))",
                    "CREATE VIEW reports.daily AS SELECT id FROM reports.totals WHERE period = 'day'",
                    "CREATE FUNCTION reports.total_count() RETURNS bigint LANGUAGE sql \
                     AS $$ SELECT count(*) FROM reports.totals $$",
                ]
            },
            down: Some(|_| {
                vec![
                    "DROP FUNCTION reports.total_count()",
                    "DROP VIEW reports.daily",
                    "DROP TABLE reports.totals",
                    "DROP TYPE reports.period",
                    "DROP SCHEMA reports",
                ]
            }),
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_compares_the_schemas_besides_the_current_one() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let set = MigrationSet::new(in_other_schemas()).unwrap();
    let report = verify_on(&db, &set, None).await;
    let found: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "down of m20990101_000002_forget_drop_schema leaves schema archive",
            "down of m20990101_000003_forget_table_in_schema leaves table archive.old_bookings",
            "down of m20990101_000004_keep_rows_in_schema leaves 1 row(s) in table archive.old_bookings, which held 0 before up",
        ],
        "{report}"
    );
    assert_eq!(report.verified.len(), set.len());
    assert_scratch_gone_and_target_untouched(&db, &report).await;

    // The same, with the ledger in a schema of its own: that schema is the engine's, not a
    // difference.
    let target = Target::new(&db.url, None, Some("ledger".to_owned()), None).unwrap();
    let report = verify::verify(&target, &set, &options(None)).await.unwrap();
    let again: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(again, found, "{report}");
}

/// The JSON shape of a report is part of `migrate verify --format json`'s contract.
#[tokio::test]
async fn the_report_json_has_a_stable_shape() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let mut list = broken();
    list.truncate(4);
    list.remove(2);
    let set = MigrationSet::new(list).unwrap();
    let report = verify_on(&db, &set, None).await;
    // As printed, in field order; only the scratch database's random name is masked.
    let json = serde_json::to_string_pretty(&report)
        .unwrap()
        .replace(&report.scratch, "[scratch]");
    insta::assert_snapshot!("verify_report", json);
}

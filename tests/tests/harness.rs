//! Tests of the test harness itself: per-test databases, inspection helpers, clean-up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sea_orm::ConnectionTrait;
use tests::{Backend, TestDb, backend_matrix, server_has_database};

/// Runs raw SQL statements one by one, panicking with the statement on failure.
async fn execute(db: &TestDb, statements: &[&str]) {
    let conn = db.connect().await;
    for sql in statements {
        if let Err(err) = conn.execute_unprepared(sql).await {
            panic!("{sql}: {err}");
        }
    }
    conn.close().await.unwrap();
}

const CREATE_WIDGETS: &[&str] = &[
    "CREATE TABLE widgets (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL, note VARCHAR(50))",
    "CREATE INDEX idx_widgets_name ON widgets (name)",
    "INSERT INTO widgets (id, name, note) VALUES (2, 'b', NULL), (1, 'a', 'first')",
];

fn row_lines(dump: &str) -> Vec<&str> {
    dump.lines()
        .filter(|line| line.trim_start().starts_with("row "))
        .collect()
}

async fn a_new_database_has_no_tables_and_an_empty_dump(db: TestDb) {
    assert_eq!(db.table_names().await, Vec::<String>::new());
    assert_eq!(db.dump().await, "");
}

async fn a_table_created_with_raw_sql_shows_in_table_names_and_dump(db: TestDb) {
    execute(&db, CREATE_WIDGETS).await;

    assert_eq!(db.table_names().await, ["widgets"]);
    let dump = db.dump().await;
    assert!(dump.starts_with("table widgets\n"), "{dump}");
    for column in ["  column id ", "  column name ", "  column note "] {
        assert!(dump.contains(column), "no {column:?} in\n{dump}");
    }
    assert!(dump.contains("  index idx_widgets_name"), "{dump}");
    let rows = row_lines(&dump);
    assert_eq!(rows.len(), 2, "{dump}");
    assert!(rows[0].contains("\"first\""), "rows are sorted: {dump}");
    assert!(rows[1].contains("null"), "NULL is rendered: {dump}");
}

async fn the_dump_is_deterministic_and_sees_every_change(db: TestDb) {
    execute(&db, CREATE_WIDGETS).await;
    let before = db.dump().await;
    assert_eq!(db.dump().await, before);

    execute(&db, &["UPDATE widgets SET note = 'changed' WHERE id = 2"]).await;
    let updated = db.dump().await;
    assert_ne!(updated, before, "a changed value changes the dump");

    execute(&db, &["CREATE INDEX idx_widgets_note ON widgets (note)"]).await;
    let indexed = db.dump().await;
    assert_ne!(indexed, updated, "a new index changes the dump");
    assert!(indexed.contains("  index idx_widgets_note"), "{indexed}");

    execute(
        &db,
        &[
            "CREATE TABLE gadgets (id INTEGER NOT NULL PRIMARY KEY, widget_id INTEGER, \
           FOREIGN KEY (widget_id) REFERENCES widgets (id))",
        ],
    )
    .await;
    let with_gadgets = db.dump().await;
    assert!(
        with_gadgets.starts_with("table gadgets\n"),
        "tables are sorted: {with_gadgets}"
    );
    assert!(
        with_gadgets.contains("  foreign key ") && with_gadgets.contains("REFERENCES widgets"),
        "{with_gadgets}"
    );
    assert_eq!(db.table_names().await, ["gadgets", "widgets"]);
}

async fn the_dump_renders_a_whole_sqlite_table_like_this(db: TestDb) {
    // The exact text is backend-specific; SQLite is bundled, so its dump is stable everywhere.
    if db.backend != Backend::Sqlite {
        return;
    }
    execute(&db, CREATE_WIDGETS).await;
    assert_eq!(
        db.dump().await,
        "table widgets\n\
         \x20 column id INTEGER not null\n\
         \x20 column name VARCHAR(50) not null\n\
         \x20 column note VARCHAR(50) null\n\
         \x20 index idx_widgets_name: CREATE INDEX idx_widgets_name ON widgets (name)\n\
         \x20 row {\"id\":1,\"name\":\"a\",\"note\":\"first\"}\n\
         \x20 row {\"id\":2,\"name\":\"b\",\"note\":null}\n"
    );
}

async fn two_test_databases_on_one_backend_are_isolated(db: TestDb) {
    let other = TestDb::create(db.backend)
        .await
        .expect("the backend is available");
    assert_ne!(db.url, other.url);

    execute(&db, CREATE_WIDGETS).await;
    assert_eq!(db.table_names().await, ["widgets"]);
    assert_eq!(other.table_names().await, Vec::<String>::new());
}

async fn dropping_the_test_database_removes_it(db: TestDb) {
    execute(&db, CREATE_WIDGETS).await;
    // An open pool must not keep the database alive.
    let conn = db.connect().await;

    match db.backend {
        Backend::Sqlite => {
            let path = db.sqlite_path().unwrap();
            assert!(path.exists());
            drop(db);
            assert!(!path.exists(), "{} is still there", path.display());
        }
        Backend::Postgres | Backend::MariaDb => {
            let backend = db.backend;
            let name = db.database_name().unwrap().to_owned();
            assert!(server_has_database(backend, &name).await);
            drop(db);
            assert!(
                !server_has_database(backend, &name).await,
                "{name} still exists on {backend}"
            );
        }
    }
    drop(conn);
}

backend_matrix!(
    a_new_database_has_no_tables_and_an_empty_dump,
    a_table_created_with_raw_sql_shows_in_table_names_and_dump,
    the_dump_is_deterministic_and_sees_every_change,
    the_dump_renders_a_whole_sqlite_table_like_this,
    two_test_databases_on_one_backend_are_isolated,
    dropping_the_test_database_removes_it,
);

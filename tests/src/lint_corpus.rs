//! The lint corpus: pairs of migrations, one that a rule must flag and one that does the same
//! job safely and must not be flagged, on the backend the rule is about. Each case runs after a
//! setup migration that creates (and fills) the *existing* tables `accounts`, `orders` and
//! `events`, so "existing table" means what it means in a project.
//!
//! Most bodies are raw SQL, as migrations send it through `execute_unprepared`; some go through
//! SeaQuery and the `SchemaManager`, so the rules are also tried on SeaQuery's own rendering.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// The future a code body returns.
pub type BoxUp<'a> = Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;

/// A migration body written with SeaQuery through the `SchemaManager`.
pub type UpFn = for<'a, 'c> fn(&'a SchemaManager<'c>) -> BoxUp<'a>;

/// What a migration's `up` does.
#[derive(Clone, Copy)]
pub enum Body {
    /// These statements, in order, through `execute_unprepared`.
    Sql(&'static [&'static str]),
    /// SeaQuery code.
    Code(UpFn),
}

/// What its `down` does.
#[derive(Clone, Copy)]
pub enum Down {
    /// These statements.
    Sql(&'static [&'static str]),
    /// SeaORM's default `down`, which fails: the migration cannot be reverted.
    Missing,
    /// Nothing to undo worth the corpus' attention: an empty `down`.
    Nothing,
}

/// One migration of a case.
#[derive(Clone, Copy)]
pub struct Step {
    /// Its `up`.
    pub body: Body,
    /// `use_transaction()`: `None` is the default (a transaction where DDL is transactional).
    pub transaction: Option<bool>,
    /// Its `down`.
    pub down: Down,
}

/// A bad/good pair for one rule on one backend.
#[derive(Clone, Copy)]
pub struct Case {
    /// A name for messages.
    pub name: &'static str,
    /// The backend whose rendering is linted.
    pub backend: DbBackend,
    /// The rule `bad` must trigger and `good` must not.
    pub rule: &'static str,
    /// The dangerous migration.
    pub bad: Step,
    /// The safe one.
    pub good: Step,
}

/// The module name of the setup migration.
pub const SETUP: &str = "m20990101_000001_lint_setup";
/// The module name of a case's migration.
pub const CASE: &str = "m20990101_000002_lint_case";
/// Its version.
pub const CASE_VERSION: &str = "20990101000002";

/// A migration built from a [`Step`].
pub struct StepMigration {
    /// Its module name.
    pub name: &'static str,
    /// What it does.
    pub step: Step,
}

impl MigrationName for StepMigration {
    fn name(&self) -> &str {
        self.name
    }
}

async fn run_sql(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for sql in statements {
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for StepMigration {
    fn use_transaction(&self) -> Option<bool> {
        self.step.transaction
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match self.step.body {
            Body::Sql(statements) => run_sql(manager, statements).await,
            Body::Code(up) => up(manager).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match self.step.down {
            Down::Sql(statements) => run_sql(manager, statements).await,
            Down::Missing => Err(DbErr::Migration("We Don't Do That Here".to_owned())),
            Down::Nothing => Ok(()),
        }
    }
}

/// The existing tables, filled with a row each, on `backend`.
pub fn setup(backend: DbBackend) -> Step {
    let up: &'static [&'static str] = match backend {
        DbBackend::Postgres => &[
            "CREATE TABLE accounts (id serial PRIMARY KEY, email varchar(40) NOT NULL, name varchar(40), amount integer, note text, status varchar(20))",
            "CREATE TABLE orders (id serial PRIMARY KEY, account_id integer, code varchar(20), total numeric(10,2))",
            "CREATE TABLE events (id integer NOT NULL PRIMARY KEY, kind varchar(10) NOT NULL)",
            "CREATE INDEX idx_orders_code ON orders (code)",
            "CREATE TYPE mood AS ENUM ('happy', 'sad')",
            "INSERT INTO accounts (email, name, amount, note, status) VALUES ('a@example.com', 'a', 1, 'n', 'new')",
            "INSERT INTO orders (account_id, code, total) VALUES (1, 'o1', 9.5)",
            "INSERT INTO events (id, kind) VALUES (1, 'k')",
        ],
        DbBackend::MySql => &[
            "CREATE TABLE accounts (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, email varchar(40) NOT NULL, name varchar(40), amount int, note text, status varchar(20))",
            "CREATE TABLE orders (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, account_id int, code varchar(40), total decimal(10,2))",
            "CREATE TABLE events (id int NOT NULL PRIMARY KEY, kind varchar(10) NOT NULL)",
            "CREATE INDEX idx_orders_code ON orders (code)",
            "INSERT INTO accounts (email, name, amount, note, status) VALUES ('a@example.com', 'a', 1, 'n', 'new')",
            "INSERT INTO orders (account_id, code, total) VALUES (1, 'o1', 9.5)",
            "INSERT INTO events (id, kind) VALUES (1, 'k')",
        ],
        _ => &[
            "CREATE TABLE accounts (id integer PRIMARY KEY AUTOINCREMENT, email varchar(40) NOT NULL, name varchar(40), amount integer, note text, status varchar(20))",
            "CREATE TABLE orders (id integer PRIMARY KEY AUTOINCREMENT, account_id integer REFERENCES accounts (id) ON DELETE CASCADE, code varchar(20), total numeric(10,2))",
            "CREATE TABLE events (id integer NOT NULL PRIMARY KEY, kind varchar(10) NOT NULL)",
            "CREATE INDEX idx_orders_code ON orders (code)",
            "INSERT INTO accounts (email, name, amount, note, status) VALUES ('a@example.com', 'a', 1, 'n', 'new')",
            "INSERT INTO orders (account_id, code, total) VALUES (1, 'o1', 9.5)",
            "INSERT INTO events (id, kind) VALUES (1, 'k')",
        ],
    };
    Step {
        body: Body::Sql(up),
        transaction: None,
        down: Down::Nothing,
    }
}

/// The setup and `step` as a set's migrations.
pub fn migrations(backend: DbBackend, step: Step) -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(StepMigration {
            name: SETUP,
            step: setup(backend),
        }),
        Box::new(StepMigration { name: CASE, step }),
    ]
}

const fn sql(statements: &'static [&'static str]) -> Step {
    Step {
        body: Body::Sql(statements),
        transaction: None,
        down: Down::Nothing,
    }
}

const fn sql_outside_transaction(statements: &'static [&'static str]) -> Step {
    Step {
        body: Body::Sql(statements),
        transaction: Some(false),
        down: Down::Nothing,
    }
}

const fn code(up: UpFn) -> Step {
    Step {
        body: Body::Code(up),
        transaction: None,
        down: Down::Nothing,
    }
}

const PG: DbBackend = DbBackend::Postgres;
const MY: DbBackend = DbBackend::MySql;
const LITE: DbBackend = DbBackend::Sqlite;

const fn case(
    name: &'static str,
    backend: DbBackend,
    rule: &'static str,
    bad: Step,
    good: Step,
) -> Case {
    Case {
        name,
        backend,
        rule,
        bad,
        good,
    }
}

fn index_on_orders<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.create_index(
            Index::create()
                .name("idx_orders_total")
                .table("orders")
                .col("total")
                .to_owned(),
        )
        .await
    })
}

fn index_on_new_table<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.create_table(
            Table::create()
                .table("coupons")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("code").string_len(20).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_coupons_code")
                .table("coupons")
                .col("code")
                .to_owned(),
        )
        .await
    })
}

fn add_not_null_integer<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(ColumnDef::new("level").integer().not_null())
                .to_owned(),
        )
        .await
    })
}

fn add_not_null_integer_with_default<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(ColumnDef::new("level").integer().not_null().default(0))
                .to_owned(),
        )
        .await
    })
}

fn modify_status_not_null<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .modify_column(ColumnDef::new("status").string_len(20).not_null())
                .to_owned(),
        )
        .await
    })
}

fn modify_status_not_null_after_check<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        let conn = m.get_connection();
        conn.execute_unprepared(
            "ALTER TABLE accounts ADD CONSTRAINT accounts_status_nn CHECK (status IS NOT NULL) NOT VALID",
        )
        .await?;
        conn.execute_unprepared("ALTER TABLE accounts VALIDATE CONSTRAINT accounts_status_nn")
            .await?;
        modify_status_not_null(m).await?;
        conn.execute_unprepared("ALTER TABLE accounts DROP CONSTRAINT accounts_status_nn")
            .await?;
        Ok(())
    })
}

fn widen_amount<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .modify_column(ColumnDef::new("amount").big_integer())
                .to_owned(),
        )
        .await
    })
}

fn add_nullable_bio<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(ColumnDef::new("bio").text().null())
                .to_owned(),
        )
        .await
    })
}

fn foreign_key_on_orders<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.create_foreign_key(
            ForeignKey::create()
                .name("fk_orders_account")
                .from("orders", "account_id")
                .to("accounts", "id")
                .to_owned(),
        )
        .await
    })
}

fn new_table_with_foreign_key<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.create_table(
            Table::create()
                .table("payments")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("account_id").integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_payments_account")
                        .from("payments", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await
    })
}

/// The SQLite rebuild of `accounts` (making `name` NOT NULL), done right: outside a
/// transaction with foreign keys off, checked before the commit.
const SQLITE_REBUILD_RIGHT: &[&str] = &[
    "PRAGMA foreign_keys = OFF",
    "BEGIN",
    "CREATE TABLE accounts_new (id integer PRIMARY KEY AUTOINCREMENT, email varchar(40) NOT NULL, name varchar(40) NOT NULL DEFAULT '', amount integer, note text, status varchar(20))",
    "INSERT INTO accounts_new (id, email, name, amount, note, status) SELECT id, email, coalesce(name, ''), amount, note, status FROM accounts",
    "DROP TABLE accounts",
    "ALTER TABLE accounts_new RENAME TO accounts",
    "PRAGMA foreign_key_check",
    "COMMIT",
    "PRAGMA foreign_keys = ON",
];

/// The migrations of `migrate_lint`, the test binary of `up --lint`: a table, then a migration
/// that renames one of its columns (`common.rename-column`, an error on every backend).
pub fn renaming() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(StepMigration {
            name: "m20990301_000001_create_gadgets",
            step: Step {
                body: Body::Code(create_gadgets),
                transaction: None,
                down: Down::Sql(&["DROP TABLE gadgets"]),
            },
        }),
        Box::new(StepMigration {
            name: "m20990301_000002_rename_gadget_name",
            step: Step {
                body: Body::Sql(&["ALTER TABLE gadgets RENAME COLUMN name TO title"]),
                transaction: None,
                down: Down::Sql(&["ALTER TABLE gadgets RENAME COLUMN title TO name"]),
            },
        }),
    ]
}

fn create_gadgets<'a>(m: &'a SchemaManager<'_>) -> BoxUp<'a> {
    Box::pin(async move {
        m.create_table(
            Table::create()
                .table("gadgets")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("name").string_len(40).not_null())
                .to_owned(),
        )
        .await
    })
}

/// The corpus.
pub fn cases() -> Vec<Case> {
    vec![
        // PostgreSQL
        case(
            "index on an existing table",
            PG,
            "pg.index-not-concurrent",
            sql(&["CREATE INDEX idx_accounts_name ON accounts (name)"]),
            sql_outside_transaction(&[
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_accounts_name ON accounts (name)",
            ]),
        ),
        case(
            "index dropped from an existing table",
            PG,
            "pg.index-not-concurrent",
            sql(&["DROP INDEX idx_orders_code"]),
            sql_outside_transaction(&["DROP INDEX CONCURRENTLY IF EXISTS idx_orders_code"]),
        ),
        case(
            "SeaQuery index: existing table vs table of the same migration",
            PG,
            "pg.index-not-concurrent",
            code(index_on_orders),
            code(index_on_new_table),
        ),
        case(
            "CONCURRENTLY in the migration's transaction",
            PG,
            "pg.concurrently-in-transaction",
            sql(&["CREATE INDEX CONCURRENTLY idx_accounts_email ON accounts (email)"]),
            sql_outside_transaction(&[
                "CREATE INDEX CONCURRENTLY idx_accounts_email ON accounts (email)",
            ]),
        ),
        case(
            "DROP INDEX CONCURRENTLY in a transaction the migration opens",
            PG,
            "pg.concurrently-in-transaction",
            sql_outside_transaction(&[
                "BEGIN",
                "DROP INDEX CONCURRENTLY idx_orders_code",
                "COMMIT",
            ]),
            sql_outside_transaction(&["DROP INDEX CONCURRENTLY idx_orders_code"]),
        ),
        case(
            "NOT NULL column without a default",
            PG,
            "pg.add-column-not-null-without-default",
            sql(&["ALTER TABLE accounts ADD COLUMN plan varchar(10) NOT NULL"]),
            sql(&["ALTER TABLE accounts ADD COLUMN plan varchar(10) NOT NULL DEFAULT 'free'"]),
        ),
        case(
            "SeaQuery NOT NULL column without a default",
            PG,
            "pg.add-column-not-null-without-default",
            code(add_not_null_integer),
            code(add_not_null_integer_with_default),
        ),
        case(
            "SET NOT NULL scanning the table",
            PG,
            "pg.set-not-null",
            sql(&["ALTER TABLE accounts ALTER COLUMN name SET NOT NULL"]),
            sql(&[
                "ALTER TABLE accounts ADD CONSTRAINT accounts_name_nn CHECK (name IS NOT NULL) NOT VALID",
                "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_name_nn",
                "ALTER TABLE accounts ALTER COLUMN name SET NOT NULL",
                "ALTER TABLE accounts DROP CONSTRAINT accounts_name_nn",
            ]),
        ),
        case(
            "SeaQuery modify_column(not_null)",
            PG,
            "pg.set-not-null",
            code(modify_status_not_null),
            code(modify_status_not_null_after_check),
        ),
        case(
            "volatile default",
            PG,
            "pg.volatile-default",
            sql(&["ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid()"]),
            sql(&[
                "ALTER TABLE accounts ADD COLUMN token uuid",
                "ALTER TABLE accounts ALTER COLUMN token SET DEFAULT gen_random_uuid()",
            ]),
        ),
        case(
            "serial column added to an existing table",
            PG,
            "pg.volatile-default",
            sql(&["ALTER TABLE orders ADD COLUMN position bigserial"]),
            sql(&["ALTER TABLE orders ADD COLUMN placed_at timestamptz DEFAULT now()"]),
        ),
        case(
            "integer to bigint",
            PG,
            "pg.column-type-rewrite",
            sql(&["ALTER TABLE accounts ALTER COLUMN amount TYPE bigint"]),
            sql(&["ALTER TABLE accounts ALTER COLUMN name TYPE varchar(80)"]),
        ),
        case(
            "numeric scale change",
            PG,
            "pg.column-type-rewrite",
            sql(&["ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,3)"]),
            sql(&["ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2)"]),
        ),
        case(
            "type change with USING",
            PG,
            "pg.column-type-rewrite",
            sql(&["ALTER TABLE accounts ALTER COLUMN note TYPE text USING upper(note)"]),
            sql(&["ALTER TABLE accounts ALTER COLUMN status TYPE text"]),
        ),
        case(
            "foreign key validated under the lock",
            PG,
            "pg.constraint-without-not-valid",
            sql(&[
                "ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id)",
            ]),
            sql(&[
                "ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID",
            ]),
        ),
        case(
            "check validated under the lock",
            PG,
            "pg.constraint-without-not-valid",
            sql(&["ALTER TABLE accounts ADD CONSTRAINT amount_positive CHECK (amount >= 0)"]),
            sql(&[
                "ALTER TABLE accounts ADD CONSTRAINT amount_positive CHECK (amount >= 0) NOT VALID",
            ]),
        ),
        case(
            "SeaQuery foreign key on an existing table",
            PG,
            "pg.constraint-without-not-valid",
            code(foreign_key_on_orders),
            code(new_table_with_foreign_key),
        ),
        case(
            "unique constraint building its index",
            PG,
            "pg.unique-without-index",
            sql(&["ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email)"]),
            sql_outside_transaction(&[
                "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_idx ON accounts (email)",
                "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_idx",
            ]),
        ),
        case(
            "primary key building its index",
            PG,
            "pg.unique-without-index",
            sql(&[
                "ALTER TABLE events DROP CONSTRAINT events_pkey",
                "ALTER TABLE events ADD PRIMARY KEY (id, kind)",
            ]),
            sql_outside_transaction(&[
                "CREATE UNIQUE INDEX CONCURRENTLY events_id_kind_idx ON events (id, kind)",
                "ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_kind_idx",
            ]),
        ),
        case(
            "enum value added in a transaction",
            PG,
            "pg.enum-value-in-transaction",
            sql(&["ALTER TYPE mood ADD VALUE 'meh'"]),
            sql_outside_transaction(&["ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh'"]),
        ),
        case(
            "DDL without a lock timeout",
            PG,
            "pg.lock-timeout-missing",
            sql(&["ALTER TABLE accounts ADD COLUMN bio text"]),
            sql(&[
                "SET LOCAL lock_timeout = '3s'",
                "ALTER TABLE accounts ADD COLUMN bio text",
            ]),
        ),
        // MariaDB / MySQL
        case(
            "integer widened",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE accounts MODIFY amount bigint"]),
            sql(&["ALTER TABLE accounts MODIFY name varchar(60)"]),
        ),
        case(
            "VARCHAR crossing 255 bytes",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE accounts MODIFY name varchar(70)"]),
            sql(&["ALTER TABLE accounts MODIFY status varchar(70)"]),
        ),
        case(
            "charset conversion",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE accounts CONVERT TO CHARACTER SET latin1"]),
            sql(&["ALTER TABLE accounts DEFAULT CHARACTER SET latin1"]),
        ),
        case(
            "primary key dropped without a new one",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE events DROP PRIMARY KEY"]),
            sql(&["ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, kind)"]),
        ),
        case(
            "stored generated column",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE accounts ADD COLUMN double_amount int AS (amount * 2) STORED"]),
            sql(&["ALTER TABLE accounts ADD COLUMN double_amount int AS (amount * 2) VIRTUAL"]),
        ),
        case(
            "SeaQuery modify_column to a wider integer",
            MY,
            "mysql.copy-algorithm",
            code(widen_amount),
            code(add_nullable_bio),
        ),
        case(
            "type change that says what it accepts",
            MY,
            "mysql.copy-algorithm",
            sql(&["ALTER TABLE orders MODIFY code varchar(80), ALGORITHM=COPY"]),
            sql(&["ALTER TABLE orders MODIFY code varchar(60), ALGORITHM=INPLACE, LOCK=NONE"]),
        ),
        case(
            "NOT NULL column without a default",
            MY,
            "mysql.add-column-not-null-without-default",
            sql(&["ALTER TABLE accounts ADD COLUMN plan varchar(10) NOT NULL"]),
            sql(&["ALTER TABLE accounts ADD COLUMN plan varchar(10) NOT NULL DEFAULT 'free'"]),
        ),
        case(
            "SeaQuery NOT NULL column without a default",
            MY,
            "mysql.add-column-not-null-without-default",
            code(add_not_null_integer),
            code(add_not_null_integer_with_default),
        ),
        case(
            "MODIFY to another type",
            MY,
            "mysql.column-type-change",
            sql(&["ALTER TABLE accounts MODIFY name varchar(60)"]),
            sql(&["ALTER TABLE accounts MODIFY name varchar(40) NULL DEFAULT 'anonymous'"]),
        ),
        case(
            "CHANGE to another type",
            MY,
            "mysql.column-type-change",
            sql(&["ALTER TABLE accounts CHANGE amount amount bigint"]),
            sql(&["ALTER TABLE accounts CHANGE amount amount int(11) NULL COMMENT 'cents'"]),
        ),
        case(
            "foreign key checked row by row",
            MY,
            "mysql.foreign-key-on-populated-table",
            sql(&[
                "ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id)",
            ]),
            sql(&[
                "SET foreign_key_checks = 0",
                "ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id)",
                "SET foreign_key_checks = 1",
            ]),
        ),
        case(
            "SeaQuery foreign key on an existing table",
            MY,
            "mysql.foreign-key-on-populated-table",
            code(foreign_key_on_orders),
            code(new_table_with_foreign_key),
        ),
        // SQLite
        case(
            "table rebuilt",
            LITE,
            "sqlite.table-rebuild",
            sql_outside_transaction(SQLITE_REBUILD_RIGHT),
            sql(&["ALTER TABLE accounts ADD COLUMN bio text"]),
        ),
        case(
            "rebuild with foreign keys turned off inside the transaction",
            LITE,
            "sqlite.rebuild-foreign-keys",
            sql(&[
                "PRAGMA foreign_keys = OFF",
                "CREATE TABLE accounts_new (id integer PRIMARY KEY AUTOINCREMENT, email varchar(40) NOT NULL, name varchar(40) NOT NULL DEFAULT '', amount integer, note text, status varchar(20))",
                "INSERT INTO accounts_new (id, email, name, amount, note, status) SELECT id, email, coalesce(name, ''), amount, note, status FROM accounts",
                "DROP TABLE accounts",
                "ALTER TABLE accounts_new RENAME TO accounts",
                "PRAGMA foreign_key_check",
            ]),
            sql_outside_transaction(SQLITE_REBUILD_RIGHT),
        ),
        case(
            "rebuild not checked afterwards",
            LITE,
            "sqlite.rebuild-foreign-keys",
            sql_outside_transaction(&[
                "PRAGMA foreign_keys = OFF",
                "BEGIN",
                "CREATE TABLE accounts_new (id integer PRIMARY KEY AUTOINCREMENT, email varchar(40) NOT NULL, name varchar(40) NOT NULL DEFAULT '', amount integer, note text, status varchar(20))",
                "INSERT INTO accounts_new (id, email, name, amount, note, status) SELECT id, email, coalesce(name, ''), amount, note, status FROM accounts",
                "DROP TABLE accounts",
                "ALTER TABLE accounts_new RENAME TO accounts",
                "COMMIT",
                "PRAGMA foreign_keys = ON",
            ]),
            sql_outside_transaction(SQLITE_REBUILD_RIGHT),
        ),
        case(
            "rebuild by renaming the old table away",
            LITE,
            "sqlite.rebuild-foreign-keys",
            sql(&[
                "ALTER TABLE events RENAME TO events_old",
                "CREATE TABLE events (id integer NOT NULL PRIMARY KEY, kind varchar(20) NOT NULL)",
                "INSERT INTO events (id, kind) SELECT id, kind FROM events_old",
                "DROP TABLE events_old",
            ]),
            sql_outside_transaction(&[
                "PRAGMA foreign_keys = OFF",
                "BEGIN",
                "CREATE TABLE events_new (id integer NOT NULL PRIMARY KEY, kind varchar(20) NOT NULL)",
                "INSERT INTO events_new (id, kind) SELECT id, kind FROM events",
                "DROP TABLE events",
                "ALTER TABLE events_new RENAME TO events",
                "PRAGMA foreign_key_check",
                "COMMIT",
                "PRAGMA foreign_keys = ON",
            ]),
        ),
        case(
            "SeaQuery modify_column on SQLite",
            LITE,
            "sqlite.unsupported-alter",
            code(widen_amount),
            code(add_nullable_bio),
        ),
        case(
            "SeaQuery foreign key added to an existing SQLite table",
            LITE,
            "sqlite.unsupported-alter",
            code(foreign_key_on_orders),
            code(new_table_with_foreign_key),
        ),
        // Every backend
        case(
            "drop table (PostgreSQL)",
            PG,
            "common.drop-table",
            sql(&["DROP TABLE orders"]),
            sql(&["CREATE TABLE scratch (id integer)", "DROP TABLE scratch"]),
        ),
        case(
            "drop table (MariaDB)",
            MY,
            "common.drop-table",
            sql(&["DROP TABLE orders"]),
            sql(&["CREATE TABLE scratch (id integer)", "DROP TABLE scratch"]),
        ),
        case(
            "drop table (SQLite)",
            LITE,
            "common.drop-table",
            sql(&["DROP TABLE orders"]),
            sql(&["CREATE TABLE scratch (id integer)", "DROP TABLE scratch"]),
        ),
        case(
            "drop column (PostgreSQL)",
            PG,
            "common.drop-column",
            sql(&["ALTER TABLE accounts DROP COLUMN note"]),
            sql(&[
                "CREATE TABLE scratch (id integer, tmp integer)",
                "ALTER TABLE scratch DROP COLUMN tmp",
            ]),
        ),
        case(
            "drop column (MariaDB)",
            MY,
            "common.drop-column",
            sql(&["ALTER TABLE accounts DROP COLUMN note"]),
            sql(&[
                "CREATE TABLE scratch (id integer, tmp integer)",
                "ALTER TABLE scratch DROP COLUMN tmp",
            ]),
        ),
        case(
            "drop column (SQLite)",
            LITE,
            "common.drop-column",
            sql(&["ALTER TABLE accounts DROP COLUMN note"]),
            sql(&[
                "CREATE TABLE scratch (id integer, tmp integer)",
                "ALTER TABLE scratch DROP COLUMN tmp",
            ]),
        ),
        case(
            "rename table (PostgreSQL)",
            PG,
            "common.rename-table",
            sql(&["ALTER TABLE orders RENAME TO purchases"]),
            sql(&[
                "CREATE TABLE scratch (id integer)",
                "ALTER TABLE scratch RENAME TO scratch_two",
            ]),
        ),
        case(
            "rename table (MariaDB)",
            MY,
            "common.rename-table",
            sql(&["RENAME TABLE orders TO purchases"]),
            sql(&[
                "CREATE TABLE scratch (id integer)",
                "RENAME TABLE scratch TO scratch_two",
            ]),
        ),
        case(
            "rename table (SQLite)",
            LITE,
            "common.rename-table",
            sql(&["ALTER TABLE orders RENAME TO purchases"]),
            sql(&[
                "CREATE TABLE scratch (id integer)",
                "ALTER TABLE scratch RENAME TO scratch_two",
            ]),
        ),
        case(
            "rename column (PostgreSQL)",
            PG,
            "common.rename-column",
            sql(&["ALTER TABLE accounts RENAME COLUMN name TO full_name"]),
            sql(&["ALTER TABLE accounts ADD COLUMN full_name varchar(40)"]),
        ),
        case(
            "rename column (MariaDB)",
            MY,
            "common.rename-column",
            sql(&["ALTER TABLE accounts RENAME COLUMN name TO full_name"]),
            sql(&["ALTER TABLE accounts ADD COLUMN full_name varchar(40)"]),
        ),
        case(
            "rename column through CHANGE (MariaDB)",
            MY,
            "common.rename-column",
            sql(&["ALTER TABLE accounts CHANGE name full_name varchar(40)"]),
            sql(&["ALTER TABLE accounts CHANGE name name varchar(40) COMMENT 'display name'"]),
        ),
        case(
            "rename column (SQLite)",
            LITE,
            "common.rename-column",
            sql(&["ALTER TABLE accounts RENAME COLUMN name TO full_name"]),
            sql(&["ALTER TABLE accounts ADD COLUMN full_name varchar(40)"]),
        ),
        case(
            "data migration without a down (PostgreSQL)",
            PG,
            "common.data-migration-without-down",
            Step {
                down: Down::Missing,
                ..sql(&["UPDATE accounts SET status = 'active' WHERE status = 'new'"])
            },
            Step {
                down: Down::Sql(&["UPDATE accounts SET status = 'new' WHERE status = 'active'"]),
                ..sql(&["UPDATE accounts SET status = 'active' WHERE status = 'new'"])
            },
        ),
        case(
            "data migration without a down (MariaDB)",
            MY,
            "common.data-migration-without-down",
            Step {
                down: Down::Missing,
                ..sql(&["INSERT INTO events (id, kind) VALUES (2, 'seeded')"])
            },
            Step {
                down: Down::Sql(&["DELETE FROM events WHERE id = 2"]),
                ..sql(&["INSERT INTO events (id, kind) VALUES (2, 'seeded')"])
            },
        ),
        case(
            "data migration with a down that does nothing (SQLite)",
            LITE,
            "common.data-migration-without-down",
            sql(&["DELETE FROM orders WHERE total < 1"]),
            Step {
                down: Down::Sql(&["UPDATE orders SET code = lower(code)"]),
                ..sql(&["UPDATE orders SET code = upper(code)"])
            },
        ),
    ]
}

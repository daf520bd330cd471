//! Column and constraint conventions shared by the reference schema's migrations.
//!
//! Every business table has a `bigint` id, a `tenant_id`, time-zone aware `created_at` /
//! `updated_at` kept by the database, and foreign keys named `fk_<table>_<column>` with an
//! explicit `ON DELETE` rule. Writing those once keeps eleven migrations consistent.
//!
//! Changing anything here changes the SQL of every migration that uses it, so `migrate status`
//! will show applied migrations as `modified`: treat these helpers as frozen once released, and
//! add new ones rather than editing old ones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// A `bigint` auto-increment primary key named `id`.
pub fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

/// A required `bigint` reference column (the other end is declared with [`fk`]).
pub fn reference(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

/// An optional `bigint` reference column.
pub fn optional_reference(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}

/// The current time as each backend stores a time-zone aware timestamp.
///
/// SQLite keeps such timestamps as text and compares them as text, so the database writes them
/// exactly as SeaORM does, RFC 3339 with an offset (`YYYY-MM-DDTHH:MM:SS.SSS+00:00`), rather
/// than `CURRENT_TIMESTAMP`'s bare `YYYY-MM-DD HH:MM:SS`.
pub fn now(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Sqlite => Expr::cust("strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"),
        _ => Expr::current_timestamp(),
    }
}

/// A required time-zone aware timestamp.
pub fn timestamp(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

/// An optional time-zone aware timestamp.
pub fn optional_timestamp(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

/// `created_at`, set by the database on insert.
pub fn created_at(backend: DbBackend) -> ColumnDef {
    timestamp("created_at").default(now(backend)).take()
}

/// `updated_at`, set by the database on insert and on every update.
///
/// MariaDB/MySQL maintain it with `ON UPDATE CURRENT_TIMESTAMP`; PostgreSQL and SQLite with the
/// triggers of [`create_updated_at_trigger`].
pub fn updated_at(backend: DbBackend) -> ColumnDef {
    let mut column = timestamp("updated_at").default(now(backend)).take();
    if backend == DbBackend::MySql {
        column.extra("ON UPDATE CURRENT_TIMESTAMP");
    }
    column
}

/// A required `varchar(len)`.
pub fn string(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().take()
}

/// An optional `varchar(len)`.
pub fn optional_string(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).null().take()
}

/// A required boolean with a default.
pub fn flag(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(default)
        .take()
}

/// A required integer with a default.
pub fn count(name: &'static str, default: i32) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .default(default)
        .take()
}

/// A required `varchar(16)` holding one of `allowed`, enforced by a check named
/// `ck_<table>_<name>`. Plain strings rather than database enums keep the three backends alike.
pub fn one_of(
    table: &'static str,
    name: &'static str,
    default: Option<&'static str>,
    allowed: &[&'static str],
) -> (ColumnDef, Check) {
    let mut column = string(name, 16);
    if let Some(default) = default {
        column.default(default);
    }
    let check = Check::named(
        format!("ck_{table}_{name}"),
        Expr::col(name).is_in(allowed.iter().copied()),
    );
    (column, check)
}

/// A named check constraint, `ck_<table>_<what>`.
pub fn check(table: &'static str, what: &str, expr: impl Into<Expr>) -> Check {
    Check::named(format!("ck_{table}_{what}"), expr.into())
}

/// A foreign key `fk_<table>_<column>` from `table.column` to `target.id` with an explicit
/// `ON DELETE` rule (and `ON UPDATE` left at the backend's default, which ids never need).
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .take()
}

/// A unique constraint `uq_<table>_<columns>`, created with the table.
pub fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create()
        .name(format!("uq_{table}_{}", columns.join("_")))
        .table(table)
        .unique()
        .take();
    for column in columns {
        index.col(*column);
    }
    index
}

/// Creates the table and then its unique indexes, in that order.
pub async fn create_table(
    manager: &SchemaManager<'_>,
    mut table: TableCreateStatement,
    uniques: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    manager.create_table(table.take()).await?;
    for index in uniques {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops the tables, in the order given (dependents first).
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).take())
            .await?;
    }
    Ok(())
}

/// Runs raw statements in order: the DDL SeaQuery has no builder for (triggers, views,
/// functions, extensions).
pub async fn execute_all(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// The trigger that keeps `table.updated_at` current on PostgreSQL and SQLite; MariaDB/MySQL
/// need none (see [`updated_at`]).
fn create_updated_at_trigger(backend: DbBackend, table: &str) -> Option<String> {
    match backend {
        DbBackend::Postgres => Some(format!(
            "CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON \"{table}\" \
             FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )),
        // The trigger's own UPDATE does not fire it again: SQLite's recursive_triggers is off
        // by default. The WHEN clause keeps an explicit updated_at from being overwritten.
        DbBackend::Sqlite => Some(format!(
            "CREATE TRIGGER trg_{table}_updated_at AFTER UPDATE ON \"{table}\" \
             FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at BEGIN \
             UPDATE \"{table}\" SET updated_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') \
             WHERE id = NEW.id; END"
        )),
        _ => None,
    }
}

/// Creates the `updated_at` triggers of these tables.
pub async fn add_updated_at_triggers(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let statements: Vec<String> = tables
        .iter()
        .filter_map(|table| create_updated_at_trigger(backend, table))
        .collect();
    execute_all(manager, &statements).await
}

//! What every set shares: where a table lives on each backend, the timestamp type, and running
//! the raw SQL that SeaQuery has no builder for (functions, procedures, DO blocks, events).
//!
//! PostgreSQL keeps the pipeline's objects in its own schemas (`timeseries.measurements`,
//! `payload.ess_signals`). A MariaDB "schema" is a database, which a migration running inside
//! the application database cannot create objects in, and SQLite has none: on both, the schema
//! becomes a prefix of the name in the current database (`timeseries_measurements`).
//!
//! Changing a helper changes the SQL of every migration that uses it, so the engine would show
//! applied migrations as `modified`: add new helpers rather than editing these once released.

use migration_engine::database_of;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// `schema.name` on PostgreSQL, `schema_name` in the current database elsewhere.
pub(crate) fn table(backend: DbBackend, schema: &'static str, name: &'static str) -> TableName {
    match backend {
        DbBackend::Postgres => TableName(Some(schema.into()), name.into()),
        _ => TableName(None, format!("{schema}_{name}").into()),
    }
}

/// A required point in time, in UTC.
///
/// PostgreSQL: `timestamptz`. MariaDB: `DATETIME(6)` holding UTC, because its `TIMESTAMP`
/// ends in 2038 and can only be partitioned through `UNIX_TIMESTAMP()`, while `DATETIME` takes
/// `TO_DAYS()`. SQLite: text, as SeaORM writes it (RFC 3339 with an offset).
pub(crate) fn timestamp(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom("DATETIME(6)"),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().take()
}

/// A required `varchar(64)`: device, metric, site and unit identifiers.
pub(crate) fn key(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().take()
}

/// A required `double precision`.
pub(crate) fn number(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().not_null().take()
}

/// An optional `double precision`.
pub(crate) fn optional_number(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().null().take()
}

/// The clause that makes a table range-partitioned on its `ts` column, where the backend has
/// declarative partitioning; `None` on SQLite.
///
/// PostgreSQL creates no partitions with the table: `timeseries.register_table` does, through
/// pg_partman or the set's own functions. MariaDB needs at least one partition in the statement:
/// the catch-all `p_max`, which `timeseries_create_partitions` splits into days.
pub(crate) fn partitioned_by_ts(backend: DbBackend) -> Option<&'static str> {
    match backend {
        DbBackend::Postgres => Some("PARTITION BY RANGE (ts)"),
        DbBackend::MySql => {
            Some("PARTITION BY RANGE (TO_DAYS(ts)) (PARTITION p_max VALUES LESS THAN MAXVALUE)")
        }
        _ => None,
    }
}

/// Runs raw statements in order, each on its own (MariaDB/MySQL get no session state between
/// them: outside a transaction each may go to another connection of the pool).
pub(crate) async fn execute_all(
    manager: &SchemaManager<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// How a payload table is partitioned and for how long its rows are kept; the row it gets in
/// the `timeseries` set's track table.
pub(crate) struct Partitioning {
    /// The table's schema on PostgreSQL, its name prefix elsewhere.
    pub schema: &'static str,
    /// The table's name within the schema.
    pub table: &'static str,
    /// The range-partitioned column.
    pub column: &'static str,
    /// The width of a partition: `1 day` or `1 month` (PostgreSQL also takes `1 hour`).
    pub interval: &'static str,
    /// How many partitions are kept ready ahead of now (and created behind it at first).
    pub premake: i32,
    /// After how many days whole partitions are dropped by the retention job.
    pub retention_days: i32,
}

impl Partitioning {
    /// The name the track table knows the table by (see [`registered_name`]).
    pub(crate) fn registered_name(&self, backend: DbBackend) -> String {
        registered_name(backend, self.schema, self.table)
    }
}

/// A column of a payload table that identifies a series, and the table describing its values,
/// if any, as `(schema, table)`.
pub(crate) type Dimension = (&'static str, Option<(&'static str, &'static str)>);

/// The name the track tables know a table by: `schema.table` on PostgreSQL (what pg_partman
/// and `regclass` take), `schema_table` elsewhere.
pub(crate) fn registered_name(backend: DbBackend, schema: &str, table: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("{schema}.{table}"),
        _ => format!("{schema}_{table}"),
    }
}

/// Partitions the table and records it in the track table: `timeseries.register_table` on
/// PostgreSQL, `timeseries_register_table` on MariaDB/MySQL; on SQLite, which has no
/// partitioning, only the row (marked as managed by `none`).
pub(crate) async fn register(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let name = table.registered_name(backend);
    let db = manager.get_connection();
    match backend {
        DbBackend::Postgres => {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "SELECT timeseries.register_table($1::regclass, $2, $3::interval, $4, \
                 make_interval(days => $5))",
                [
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                ],
            ))
            .await?;
        }
        DbBackend::MySql => {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "CALL timeseries_register_table(?, ?, ?, ?, ?)",
                [
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                ],
            ))
            .await?;
        }
        _ => {
            let insert = Query::insert()
                .into_table(self::table(backend, "timeseries", "partitioned_tables"))
                .columns([
                    "table_name",
                    "partition_column",
                    "partition_interval",
                    "premake",
                    "retention_days",
                    "managed_by",
                ])
                .values_panic([
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                    "none".into(),
                ])
                .to_owned();
            db.execute(&insert).await?;
        }
    }
    Ok(())
}

/// Undoes [`register`]: on PostgreSQL `timeseries.unregister_table` (which also removes what
/// pg_partman keeps about the table); elsewhere the track table's row. The partitions go with
/// the table when it is dropped.
pub(crate) async fn unregister(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let name = table.registered_name(backend);
    let db = manager.get_connection();
    if backend == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT timeseries.unregister_table($1::regclass)",
            [name.into()],
        ))
        .await?;
    } else {
        let delete = Query::delete()
            .from_table(self::table(backend, "timeseries", "partitioned_tables"))
            .and_where(Expr::col("table_name").eq(name))
            .to_owned();
        db.execute(&delete).await?;
    }
    Ok(())
}

/// Records which columns of a registered table identify a series, and the table describing
/// each (if any), in the track table's `table_dimensions`.
pub(crate) async fn add_dimensions(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
    dimensions: &[Dimension],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let mut insert = Query::insert()
        .into_table(self::table(backend, "timeseries", "table_dimensions"))
        .columns(["table_name", "column_name", "described_by"])
        .to_owned();
    for (column, described_by) in dimensions {
        insert.values_panic([
            table.registered_name(backend).into(),
            (*column).into(),
            described_by
                .map(|(schema, table)| registered_name(backend, schema, table))
                .into(),
        ]);
    }
    manager.get_connection().execute(&insert).await?;
    Ok(())
}

/// Undoes [`add_dimensions`].
pub(crate) async fn remove_dimensions(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
    dimensions: &[Dimension],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let delete = Query::delete()
        .from_table(self::table(backend, "timeseries", "table_dimensions"))
        .and_where(Expr::col("table_name").eq(table.registered_name(backend)))
        .and_where(Expr::col("column_name").is_in(dimensions.iter().map(|(column, _)| *column)))
        .to_owned();
    manager.get_connection().execute(&delete).await?;
    Ok(())
}

/// The set whose database the scheduled jobs run in: the application database.
pub(crate) const APP_SET: &str = "foundational";

/// Tells the SQL that follows, for the rest of this migration's transaction, which database
/// the jobs go into: the database of the `foundational` set in this run
/// ([`database_of`]), as the setting `iot_metrics.app_database`. The value is bound, not
/// spliced into the SQL.
///
/// Without the engine (plain sea-orm-migration) there is no run to ask, and the setting keeps
/// whatever the server gives it (`ALTER DATABASE postgres SET iot_metrics.app_database =
/// 'iot'`); the scheduling SQL refuses when it has none and pg_cron is there.
pub(crate) async fn pass_app_database(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let Some(database) = database_of(APP_SET) else {
        return Ok(());
    };
    manager
        .get_connection()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('iot_metrics.app_database', $1, true)",
            [database.into()],
        ))
        .await?;
    Ok(())
}

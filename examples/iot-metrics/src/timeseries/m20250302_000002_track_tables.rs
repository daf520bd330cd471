//! The track tables: which tables are partitioned, how, and for how long their partitions are
//! kept (`partitioned_tables`), and which of their columns identify a series
//! (`table_dimensions`). The maintenance and retention jobs walk the first; payload sets add
//! themselves to both.
//!
//! - PostgreSQL: `timeseries.partitioned_tables` and `timeseries.table_dimensions`, and the
//!   functions `register_table(table, column, interval, premake, retention)`, which partitions
//!   a table through pg_partman when it is installed (`managed_by = 'pg_partman'`) or through
//!   `create_partitions` plus a DEFAULT partition (`managed_by = 'timeseries'`), and
//!   `unregister_table(table)`, which also removes pg_partman's configuration row and template
//!   table for it.
//! - MariaDB/MySQL: `timeseries_partitioned_tables` (retention in days) and
//!   `timeseries_table_dimensions`, and the procedure `timeseries_register_table`. Unregistering
//!   is deleting the row: the partitions go with the table.
//! - SQLite: the two tables, so that payload sets record the same facts; `managed_by` is
//!   `none`, nothing partitions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{execute_all, table};

const POSTGRES_FUNCTIONS: &[&str] = &[
    r#"CREATE FUNCTION timeseries.register_table(p_table regclass, p_column text,
    p_interval interval, p_premake integer DEFAULT 4, p_retention interval DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_schema name;
    v_name name;
    v_partman name;
    v_managed_by text;
BEGIN
    SELECT n.nspname, c.relname INTO v_schema, v_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    SELECT n.nspname INTO v_partman
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_partman';
    IF v_partman IS NOT NULL THEN
        -- pg_partman 4.x: native partitioning, premake partitions on either side of now, a
        -- default partition, and a template table whose indexes new partitions inherit.
        EXECUTE format('SELECT %I.create_parent(p_parent_table := $1, p_control := $2, '
                       'p_type := ''native'', p_interval := $3, p_premake := $4, '
                       'p_jobmon := false)', v_partman)
            USING v_schema || '.' || v_name, p_column, p_interval::text, p_premake;
        -- Left alone, pg_partman 4.x premakes from the newest row of the DEFAULT partition, so
        -- one row from a clock years ahead makes its maintenance create partitions for all
        -- the years in between (pgpartman/pg_partman#462). Premake from the newest partition,
        -- as create_partitions does.
        EXECUTE format('UPDATE %I.part_config SET ignore_default_data = true '
                       'WHERE parent_table = $1', v_partman)
            USING v_schema || '.' || v_name;
        v_managed_by := 'pg_partman';
    ELSE
        PERFORM timeseries.create_partitions(p_table, p_interval,
                                             now() - p_interval * p_premake, 2 * p_premake + 1);
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT',
                       v_schema, v_name || '_default', p_table);
        v_managed_by := 'timeseries';
    END IF;
    INSERT INTO timeseries.partitioned_tables
        (table_name, partition_column, partition_interval, premake, retention, managed_by)
    VALUES (v_schema || '.' || v_name, p_column, p_interval, p_premake, p_retention, v_managed_by);
    RETURN v_managed_by;
END
$$"#,
    r#"CREATE FUNCTION timeseries.unregister_table(p_table regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_qualified text;
    v_partman name;
    v_template text;
BEGIN
    SELECT n.nspname || '.' || c.relname INTO v_qualified
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    IF (SELECT managed_by FROM timeseries.partitioned_tables WHERE table_name = v_qualified)
       = 'pg_partman' THEN
        SELECT n.nspname INTO v_partman
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_partman';
        EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = $1 '
                       'RETURNING template_table', v_partman)
            INTO v_template USING v_qualified;
        IF v_template IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS %s', v_template);
        END IF;
    END IF;
    DELETE FROM timeseries.partitioned_tables WHERE table_name = v_qualified;
END
$$"#,
];

const POSTGRES_DROP_FUNCTIONS: &[&str] = &[
    "DROP FUNCTION timeseries.unregister_table(regclass)",
    "DROP FUNCTION timeseries.register_table(regclass, text, interval, integer, interval)",
];

const MYSQL_PROCEDURES: &[&str] = &[r#"CREATE PROCEDURE timeseries_register_table(
    IN p_table VARCHAR(64), IN p_column VARCHAR(64), IN p_interval VARCHAR(16),
    IN p_premake INT, IN p_retention_days INT)
MODIFIES SQL DATA
BEGIN
    INSERT INTO timeseries_partitioned_tables
        (table_name, partition_column, partition_interval, premake, retention_days, managed_by)
    VALUES (p_table, p_column, p_interval, p_premake, p_retention_days, 'timeseries');
    CALL timeseries_create_partitions(p_table, p_interval,
        IF(p_interval = '1 month', UTC_DATE() - INTERVAL p_premake MONTH,
           UTC_DATE() - INTERVAL p_premake DAY),
        2 * p_premake + 1);
END"#];

const MYSQL_DROP_PROCEDURES: &[&str] = &["DROP PROCEDURE timeseries_register_table"];

/// `partitioned_tables`: one row per partitioned table.
fn partitioned_tables(backend: DbBackend) -> TableCreateStatement {
    // Intervals are PostgreSQL's own type there; elsewhere text, and retention in whole days.
    let (interval, retention, intervals, managers): (_, _, &[&str], &[&str]) =
        if backend == DbBackend::Postgres {
            (
                ColumnDef::new("partition_interval")
                    .interval(None, None)
                    .not_null()
                    .take(),
                ColumnDef::new("retention")
                    .interval(None, None)
                    .null()
                    .take(),
                &["1 hour", "1 day", "1 month"],
                &["pg_partman", "timeseries"],
            )
        } else {
            (
                ColumnDef::new("partition_interval")
                    .string_len(16)
                    .not_null()
                    .take(),
                ColumnDef::new("retention_days").integer().null().take(),
                &["1 day", "1 month"],
                &["timeseries", "none"],
            )
        };
    Table::create()
        .table(table(backend, "timeseries", "partitioned_tables"))
        .col(
            ColumnDef::new("table_name")
                .string_len(128)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new("partition_column").string_len(64).not_null())
        .col(interval)
        .col(ColumnDef::new("premake").integer().not_null())
        .col(retention)
        .col(ColumnDef::new("managed_by").string_len(16).not_null())
        .check(Expr::col("partition_interval").is_in(intervals.iter().copied()))
        .check(Expr::col("premake").gt(0))
        .check(Expr::col("managed_by").is_in(managers.iter().copied()))
        .to_owned()
}

/// `table_dimensions`: the columns of a registered table that identify a series.
fn table_dimensions(backend: DbBackend) -> TableCreateStatement {
    Table::create()
        .table(table(backend, "timeseries", "table_dimensions"))
        .col(ColumnDef::new("table_name").string_len(128).not_null())
        .col(ColumnDef::new("column_name").string_len(64).not_null())
        .col(ColumnDef::new("described_by").string_len(128).null())
        .primary_key(Index::create().col("table_name").col("column_name"))
        .foreign_key(
            ForeignKey::create()
                .name("fk_table_dimensions_table_name")
                .from(
                    table(backend, "timeseries", "table_dimensions"),
                    "table_name",
                )
                .to(
                    table(backend, "timeseries", "partitioned_tables"),
                    "table_name",
                ),
        )
        .to_owned()
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager.create_table(partitioned_tables(backend)).await?;
        manager.create_table(table_dimensions(backend)).await?;
        match backend {
            DbBackend::Postgres => execute_all(manager, POSTGRES_FUNCTIONS).await,
            DbBackend::MySql => execute_all(manager, MYSQL_PROCEDURES).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Postgres => execute_all(manager, POSTGRES_DROP_FUNCTIONS).await?,
            DbBackend::MySql => execute_all(manager, MYSQL_DROP_PROCEDURES).await?,
            _ => {}
        }
        for name in ["table_dimensions", "partitioned_tables"] {
            manager
                .drop_table(
                    Table::drop()
                        .table(table(backend, "timeseries", name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! What the scheduled jobs call (the `maintenance` set schedules them).
//!
//! - PostgreSQL: `timeseries.run_maintenance()` keeps `premake` partitions ready ahead of now
//!   for every registered table: through pg_partman's `run_maintenance` for the tables it
//!   manages, through `create_partitions` for the others (returning how many those got).
//!   `timeseries.run_retention(keep)` drops, for every registered table with a retention (or
//!   for all, given `keep`), the partitions wholly older than that; the DEFAULT partition is
//!   never dropped. Retention is this set's for pg_partman's tables too, so it works the same
//!   with or without it.
//! - MariaDB/MySQL: the procedures `timeseries_run_maintenance()` and
//!   `timeseries_run_retention(keep_days)`.
//! - SQLite: nothing; there are no partitions to keep.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

const POSTGRES_UP: &[&str] = &[
    r#"CREATE FUNCTION timeseries.run_maintenance() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_table record;
    v_partman name;
    v_created integer := 0;
BEGIN
    SELECT n.nspname INTO v_partman
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_partman';
    FOR v_table IN SELECT * FROM timeseries.partitioned_tables ORDER BY table_name LOOP
        IF v_table.managed_by = 'pg_partman' THEN
            EXECUTE format('SELECT %I.run_maintenance(p_parent_table := $1, p_jobmon := false)',
                           v_partman)
                USING v_table.table_name;
        ELSE
            v_created := v_created + timeseries.create_partitions(
                v_table.table_name::regclass, v_table.partition_interval, now(),
                v_table.premake + 1);
        END IF;
    END LOOP;
    RETURN v_created;
END
$$"#,
    r#"CREATE FUNCTION timeseries.run_retention(p_keep interval DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_table record;
    v_dropped integer := 0;
BEGIN
    FOR v_table IN
        SELECT * FROM timeseries.partitioned_tables
        WHERE coalesce(p_keep, retention) IS NOT NULL ORDER BY table_name
    LOOP
        v_dropped := v_dropped + timeseries.drop_partitions_before(
            v_table.table_name::regclass, now() - coalesce(p_keep, v_table.retention));
    END LOOP;
    RETURN v_dropped;
END
$$"#,
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP FUNCTION timeseries.run_retention(interval)",
    "DROP FUNCTION timeseries.run_maintenance()",
];

const MYSQL_UP: &[&str] = &[
    r#"CREATE PROCEDURE timeseries_run_maintenance()
MODIFIES SQL DATA
BEGIN
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_table VARCHAR(64);
    DECLARE v_interval VARCHAR(16);
    DECLARE v_premake INT;
    DECLARE registered CURSOR FOR
        SELECT table_name, partition_interval, premake
        FROM timeseries_partitioned_tables ORDER BY table_name;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
    OPEN registered;
    each_table: LOOP
        FETCH registered INTO v_table, v_interval, v_premake;
        IF v_done THEN
            LEAVE each_table;
        END IF;
        CALL timeseries_create_partitions(v_table, v_interval, UTC_DATE(), v_premake + 1);
    END LOOP;
    CLOSE registered;
END"#,
    r#"CREATE PROCEDURE timeseries_run_retention(IN p_keep_days INT)
MODIFIES SQL DATA
BEGIN
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_table VARCHAR(64);
    DECLARE v_keep INT;
    DECLARE registered CURSOR FOR
        SELECT table_name, COALESCE(p_keep_days, retention_days)
        FROM timeseries_partitioned_tables
        WHERE COALESCE(p_keep_days, retention_days) IS NOT NULL ORDER BY table_name;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
    OPEN registered;
    each_table: LOOP
        FETCH registered INTO v_table, v_keep;
        IF v_done THEN
            LEAVE each_table;
        END IF;
        CALL timeseries_drop_partitions_before(v_table, UTC_DATE() - INTERVAL v_keep DAY);
    END LOOP;
    CLOSE registered;
END"#,
];

const MYSQL_DOWN: &[&str] = &[
    "DROP PROCEDURE timeseries_run_retention",
    "DROP PROCEDURE timeseries_run_maintenance",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_UP).await,
            DbBackend::MySql => execute_all(manager, MYSQL_UP).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_DOWN).await,
            DbBackend::MySql => execute_all(manager, MYSQL_DOWN).await,
            _ => Ok(()),
        }
    }
}

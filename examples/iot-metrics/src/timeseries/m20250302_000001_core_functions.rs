//! The partitioning primitives everything else in the set builds on.
//!
//! - PostgreSQL: `timeseries.partitions`, a view of every partition with its bounds parsed
//!   from the catalog; `create_partitions(parent, interval, from, count)`, which creates the
//!   missing partitions of whole UTC hours, days or months (named `<table>_pYYYY_MM_DD` as
//!   pg_partman names them) and first moves out of the DEFAULT partition any rows of a range it
//!   creates, which `CREATE TABLE ... PARTITION OF` would otherwise refuse; and
//!   `drop_partitions_before(parent, cutoff)`.
//! - MariaDB/MySQL: the procedures `timeseries_create_partitions` and
//!   `timeseries_drop_partitions_before`. A range can only be split off the top of the
//!   catch-all `p_max` partition (`REORGANIZE PARTITION` moves its rows as it goes); rows older
//!   than the first partition live in it, since MariaDB has no DEFAULT partition.
//! - SQLite: nothing; it has no partitioning.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

const POSTGRES_UP: &[&str] = &[
    r#"CREATE FUNCTION timeseries.partition_unit(p_interval interval) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE p_interval
        WHEN interval '1 hour' THEN 'hour'
        WHEN interval '1 day' THEN 'day'
        WHEN interval '1 month' THEN 'month'
    END
$$"#,
    r#"CREATE VIEW timeseries.partitions AS
SELECT parent.oid::regclass AS parent_table,
       child.oid::regclass AS partition_table,
       bound.b[1]::timestamptz AS lower_bound,
       bound.b[2]::timestamptz AS upper_bound,
       pg_get_expr(child.relpartbound, child.oid) = 'DEFAULT' AS is_default
FROM pg_inherits i
JOIN pg_class parent ON parent.oid = i.inhparent AND parent.relkind = 'p'
JOIN pg_class child ON child.oid = i.inhrelid
LEFT JOIN LATERAL regexp_match(pg_get_expr(child.relpartbound, child.oid),
                               'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS bound(b) ON true"#,
    r#"CREATE FUNCTION timeseries.create_partitions(p_parent regclass, p_interval interval,
                                             p_from timestamptz, p_count integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_unit text := timeseries.partition_unit(p_interval);
    v_schema name;
    v_table name;
    v_column name;
    v_default regclass;
    v_start timestamptz;
    v_end timestamptz;
    v_name text;
    v_created integer := 0;
BEGIN
    IF v_unit IS NULL THEN
        RAISE EXCEPTION 'partition interval % is not supported', p_interval
            USING HINT = 'Use 1 hour, 1 day or 1 month.';
    END IF;
    SELECT n.nspname, c.relname, a.attname INTO v_schema, v_table, v_column
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
    WHERE c.oid = p_parent;
    SELECT partition_table INTO v_default
    FROM timeseries.partitions WHERE parent_table = p_parent AND is_default;

    -- Bounds are whole hours, days or months in UTC, whatever the session's time zone.
    v_start := date_trunc(v_unit, p_from, 'UTC');
    FOR i IN 1..p_count LOOP
        v_end := (v_start AT TIME ZONE 'UTC' + p_interval) AT TIME ZONE 'UTC';
        v_name := v_table || '_p' || to_char(v_start AT TIME ZONE 'UTC', CASE v_unit
            WHEN 'hour' THEN 'YYYY_MM_DD_HH24MI' WHEN 'day' THEN 'YYYY_MM_DD' ELSE 'YYYY_MM' END);
        IF NOT EXISTS (SELECT FROM timeseries.partitions
                       WHERE parent_table = p_parent AND NOT is_default
                         AND lower_bound < v_end AND upper_bound > v_start) THEN
            IF v_default IS NULL THEN
                EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                               v_schema, v_name, p_parent, v_start, v_end);
            ELSE
                EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                               v_schema, v_name, p_parent);
                EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) '
                               'INSERT INTO %I.%I SELECT * FROM moved',
                               v_default, v_column, v_start, v_column, v_end, v_schema, v_name);
                EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                               p_parent, v_schema, v_name, v_start, v_end);
            END IF;
            v_created := v_created + 1;
        END IF;
        v_start := v_end;
    END LOOP;
    RETURN v_created;
END
$$"#,
    r#"CREATE FUNCTION timeseries.drop_partitions_before(p_parent regclass, p_cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_partition regclass;
    v_dropped integer := 0;
BEGIN
    FOR v_partition IN
        SELECT partition_table FROM timeseries.partitions
        WHERE parent_table = p_parent AND NOT is_default AND upper_bound <= p_cutoff
        ORDER BY lower_bound
    LOOP
        EXECUTE format('DROP TABLE %s', v_partition);
        v_dropped := v_dropped + 1;
    END LOOP;
    RETURN v_dropped;
END
$$"#,
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP FUNCTION timeseries.drop_partitions_before(regclass, timestamptz)",
    "DROP FUNCTION timeseries.create_partitions(regclass, interval, timestamptz, integer)",
    "DROP VIEW timeseries.partitions",
    "DROP FUNCTION timeseries.partition_unit(interval)",
];

const MYSQL_UP: &[&str] = &[
    r#"CREATE PROCEDURE timeseries_create_partitions(IN p_table VARCHAR(64),
    IN p_interval VARCHAR(16), IN p_from DATE, IN p_count INT)
MODIFIES SQL DATA
BEGIN
    DECLARE v_start DATE;
    DECLARE v_end DATE;
    DECLARE v_top BIGINT;
    DECLARE i INT DEFAULT 0;
    IF p_interval NOT IN ('1 day', '1 month') THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'partition interval must be 1 day or 1 month';
    END IF;
    SET v_start = IF(p_interval = '1 month', DATE_FORMAT(p_from, '%Y-%m-01'), p_from);
    SET v_top = (SELECT MAX(CAST(PARTITION_DESCRIPTION AS SIGNED))
                 FROM information_schema.PARTITIONS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = p_table
                   AND PARTITION_DESCRIPTION <> 'MAXVALUE');
    WHILE i < p_count DO
        SET v_end = IF(p_interval = '1 month', v_start + INTERVAL 1 MONTH,
                       v_start + INTERVAL 1 DAY);
        IF v_top IS NULL OR TO_DAYS(v_end) > v_top THEN
            EXECUTE IMMEDIATE CONCAT('ALTER TABLE `', REPLACE(p_table, '`', '``'),
                '` REORGANIZE PARTITION p_max INTO (PARTITION p',
                DATE_FORMAT(v_start, IF(p_interval = '1 month', '%Y%m', '%Y%m%d')),
                ' VALUES LESS THAN (', TO_DAYS(v_end), '), ',
                'PARTITION p_max VALUES LESS THAN MAXVALUE)');
            SET v_top = TO_DAYS(v_end);
        END IF;
        SET v_start = v_end;
        SET i = i + 1;
    END WHILE;
END"#,
    r#"CREATE PROCEDURE timeseries_drop_partitions_before(IN p_table VARCHAR(64),
    IN p_cutoff DATE)
MODIFIES SQL DATA
BEGIN
    DECLARE v_partition VARCHAR(64);
    drop_oldest: LOOP
        SET v_partition = (SELECT PARTITION_NAME FROM information_schema.PARTITIONS
                           WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = p_table
                             AND PARTITION_DESCRIPTION <> 'MAXVALUE'
                             AND CAST(PARTITION_DESCRIPTION AS SIGNED) <= TO_DAYS(p_cutoff)
                           ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1);
        IF v_partition IS NULL THEN
            LEAVE drop_oldest;
        END IF;
        EXECUTE IMMEDIATE CONCAT('ALTER TABLE `', REPLACE(p_table, '`', '``'),
                                 '` DROP PARTITION `', v_partition, '`');
    END LOOP;
END"#,
];

const MYSQL_DOWN: &[&str] = &[
    "DROP PROCEDURE timeseries_drop_partitions_before",
    "DROP PROCEDURE timeseries_create_partitions",
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

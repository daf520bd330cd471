//! `measurements`: one row per device, metric and instant, partitioned by day and kept for
//! 90 days, with `device_id` and `metric` recorded as its dimensions.
//!
//! - PostgreSQL: `timeseries.measurements`, `PARTITION BY RANGE (ts)`; `register_table` gives
//!   it four daily partitions on either side of today and a DEFAULT partition.
//! - MariaDB/MySQL: `timeseries_measurements`, `PARTITION BY RANGE (TO_DAYS(ts))`, split by
//!   `timeseries_register_table` into the same days plus `p_max` for anything later.
//! - SQLite: a plain `timeseries_measurements` and its row in the track table.
//!
//! The primary key includes `ts`: both servers require every unique key of a partitioned
//! table to contain the partitioning column.

use sea_orm_migration::prelude::*;

use crate::support::{
    Dimension, Partitioning, add_dimensions, key, number, partitioned_by_ts, register,
    remove_dimensions, table, timestamp, unregister,
};

const MEASUREMENTS: Partitioning = Partitioning {
    schema: "timeseries",
    table: "measurements",
    column: "ts",
    interval: "1 day",
    premake: 4,
    retention_days: 90,
};

const DIMENSIONS: &[Dimension] = &[("device_id", None), ("metric", None)];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut create = Table::create()
            .table(table(backend, "timeseries", "measurements"))
            .col(key("device_id"))
            .col(key("metric"))
            .col(timestamp(backend, "ts"))
            .col(number("value"))
            .primary_key(Index::create().col("device_id").col("metric").col("ts"))
            .to_owned();
        if let Some(partitioning) = partitioned_by_ts(backend) {
            create.extra(partitioning);
        }
        manager.create_table(create).await?;
        register(manager, &MEASUREMENTS).await?;
        add_dimensions(manager, &MEASUREMENTS, DIMENSIONS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        remove_dimensions(manager, &MEASUREMENTS, DIMENSIONS).await?;
        unregister(manager, &MEASUREMENTS).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(table(backend, "timeseries", "measurements"))
                    .to_owned(),
            )
            .await
    }
}

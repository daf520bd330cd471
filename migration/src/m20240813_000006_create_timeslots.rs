//! `timeslots`: the bookable inventory, one row per resource and period, with a capacity
//! (1 for a haircut, 12 for a fitness class) and the number of places already booked.
//!
//! The database keeps the count honest on every backend: `capacity > 0` and
//! `0 <= booked_count <= capacity` are check constraints, and the triggers on `booking_items`
//! (next migration) move `booked_count`, so a booking past capacity fails the check whatever
//! the application does. On PostgreSQL an exclusion constraint also keeps one resource's slots
//! from overlapping (it needs `btree_gist`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{
    add_updated_at_triggers, check, count, create_table, created_at, drop_tables, execute_all, fk,
    id, one_of, optional_reference, reference, timestamp, unique, updated_at,
};

/// Slots belong to a tenant's resources and optionally one service; PostgreSQL's exclusion
/// constraint needs the extensions.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000001_setup_extensions_and_functions",
    "m20240813_000003_create_tenant_dependent_tables",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_database_backend();

        let (status, status_check) = one_of(
            "timeslots",
            "status",
            Some("open"),
            &["open", "closed", "blocked"],
        );
        create_table(
            manager,
            Table::create()
                .table("timeslots")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("resource_id"))
                // No service: the slot can be booked for any service the resource offers.
                .col(optional_reference("service_id"))
                .col(timestamp("start_at"))
                .col(timestamp("end_at"))
                .col(count("capacity", 1))
                .col(count("booked_count", 0))
                .col(status)
                .col(created_at(db))
                .col(updated_at(db))
                .check(status_check)
                .check(check(
                    "timeslots",
                    "period",
                    Expr::col("end_at").gt(Expr::col("start_at")),
                ))
                .check(check("timeslots", "capacity", Expr::col("capacity").gt(0)))
                .check(check(
                    "timeslots",
                    "booked_count",
                    Expr::col("booked_count")
                        .gte(0)
                        .and(Expr::col("booked_count").lte(Expr::col("capacity"))),
                ))
                .foreign_key(&mut fk(
                    "timeslots",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "timeslots",
                    "resource_id",
                    "resources",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "timeslots",
                    "service_id",
                    "services",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
            vec![unique("timeslots", &["resource_id", "start_at"])],
        )
        .await?;

        if db == DbBackend::Postgres {
            execute_all(
                manager,
                &[
                    "ALTER TABLE timeslots ADD CONSTRAINT ex_timeslots_no_overlap \
                   EXCLUDE USING gist (resource_id WITH =, tstzrange(start_at, end_at) WITH &&)"
                        .to_owned(),
                ],
            )
            .await?;
        }

        add_updated_at_triggers(manager, &["timeslots"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["timeslots"]).await
    }
}

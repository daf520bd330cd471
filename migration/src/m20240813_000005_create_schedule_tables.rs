//! When resources can be booked: `schedules` (a named period of opening hours, for a whole
//! tenant or one resource), `business_hours` (the weekly hours of a schedule), `holidays`
//! (days a tenant is closed) and `resource_time_offs` (when one resource is away).
//!
//! Deleting a tenant, resource or schedule deletes what hangs off it (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, check, create_table, created_at, drop_tables, fk, id,
    optional_reference, optional_string, reference, string, timestamp, unique, updated_at,
};

/// Schedules belong to tenants and optionally to a resource.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000002_create_core_tables",
    "m20240813_000003_create_tenant_dependent_tables",
];

const TABLES: [&str; 4] = [
    "schedules",
    "business_hours",
    "holidays",
    "resource_time_offs",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_database_backend();

        create_table(
            manager,
            Table::create()
                .table("schedules")
                .col(id())
                .col(reference("tenant_id"))
                // No resource: the tenant's default hours.
                .col(optional_reference("resource_id"))
                .col(string("name", 200))
                .col(ColumnDef::new("valid_from").date().not_null())
                .col(ColumnDef::new("valid_until").date().null())
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "schedules",
                    "validity",
                    Expr::col("valid_until")
                        .is_null()
                        .or(Expr::col("valid_until").gte(Expr::col("valid_from"))),
                ))
                .foreign_key(&mut fk(
                    "schedules",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "schedules",
                    "resource_id",
                    "resources",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("business_hours")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("schedule_id"))
                // 0 = Sunday ... 6 = Saturday, as PostgreSQL's `extract(dow ...)`.
                .col(ColumnDef::new("day_of_week").small_integer().not_null())
                .col(ColumnDef::new("open_time").time().not_null())
                .col(ColumnDef::new("close_time").time().not_null())
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "business_hours",
                    "day_of_week",
                    Expr::col("day_of_week").between(0, 6),
                ))
                .check(check(
                    "business_hours",
                    "hours",
                    Expr::col("close_time").gt(Expr::col("open_time")),
                ))
                .foreign_key(&mut fk(
                    "business_hours",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "business_hours",
                    "schedule_id",
                    "schedules",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique(
                "business_hours",
                &["schedule_id", "day_of_week", "open_time"],
            )],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("holidays")
                .col(id())
                .col(reference("tenant_id"))
                .col(ColumnDef::new("day").date().not_null())
                .col(string("name", 200))
                .col(created_at(db))
                .col(updated_at(db))
                .foreign_key(&mut fk(
                    "holidays",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("holidays", &["tenant_id", "day"])],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("resource_time_offs")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("resource_id"))
                .col(timestamp("start_at"))
                .col(timestamp("end_at"))
                .col(optional_string("reason", 200))
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "resource_time_offs",
                    "period",
                    Expr::col("end_at").gt(Expr::col("start_at")),
                ))
                .foreign_key(&mut fk(
                    "resource_time_offs",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "resource_time_offs",
                    "resource_id",
                    "resources",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![],
        )
        .await?;

        add_updated_at_triggers(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "resource_time_offs",
                "holidays",
                "business_hours",
                "schedules",
            ],
        )
        .await
    }
}

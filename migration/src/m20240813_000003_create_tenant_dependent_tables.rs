//! Tables owned by a tenant: `customers` (who book), `services` (what they book) and
//! `resources` (staff, rooms, equipment and tables that a booking occupies).
//!
//! Deleting a tenant deletes them (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, check, count, create_table, created_at, drop_tables, fk, flag, id,
    one_of, optional_string, reference, string, unique, updated_at,
};

/// Every table here belongs to a tenant.
pub const DEPENDS_ON: &[&str] = &["m20240813_000002_create_core_tables"];

const TABLES: [&str; 3] = ["customers", "services", "resources"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_database_backend();

        create_table(
            manager,
            Table::create()
                .table("customers")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("name", 200))
                .col(optional_string("email", 255))
                .col(optional_string("phone", 32))
                .col(ColumnDef::new("notes").text().null())
                .col(created_at(db))
                .col(updated_at(db))
                .foreign_key(&mut fk(
                    "customers",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("customers", &["tenant_id", "email"])],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("services")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("name", 200))
                .col(ColumnDef::new("description").text().null())
                .col(ColumnDef::new("duration_minutes").integer().not_null())
                .col(count("buffer_minutes", 0))
                .col(
                    ColumnDef::new("price_cents")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new("currency")
                        .char_len(3)
                        .not_null()
                        .default("USD"),
                )
                .col(flag("active", true))
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "services",
                    "duration_minutes",
                    Expr::col("duration_minutes").gt(0),
                ))
                .check(check(
                    "services",
                    "buffer_minutes",
                    Expr::col("buffer_minutes").gte(0),
                ))
                .check(check(
                    "services",
                    "price_cents",
                    Expr::col("price_cents").gte(0),
                ))
                .foreign_key(&mut fk(
                    "services",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("services", &["tenant_id", "name"])],
        )
        .await?;

        let (kind, kind_check) = one_of(
            "resources",
            "kind",
            None,
            &["staff", "room", "equipment", "table"],
        );
        create_table(
            manager,
            Table::create()
                .table("resources")
                .col(id())
                .col(reference("tenant_id"))
                .col(kind)
                .col(string("name", 200))
                .col(count("capacity", 1))
                .col(flag("active", true))
                .col(created_at(db))
                .col(updated_at(db))
                .check(kind_check)
                .check(check("resources", "capacity", Expr::col("capacity").gt(0)))
                .foreign_key(&mut fk(
                    "resources",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("resources", &["tenant_id", "name"])],
        )
        .await?;

        add_updated_at_triggers(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["resources", "services", "customers"]).await
    }
}

//! Junction tables: `service_resources` (which resources can deliver a service) and
//! `user_resources` (which staff accounts act as which resources, e.g. a stylist's calendar).
//!
//! Removing either side removes the link (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, create_table, created_at, drop_tables, fk, flag, id, reference,
    unique, updated_at,
};

/// Links services, resources and users.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000002_create_core_tables",
    "m20240813_000003_create_tenant_dependent_tables",
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
                .table("service_resources")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("service_id"))
                .col(reference("resource_id"))
                .col(flag("active", true))
                .col(created_at(db))
                .col(updated_at(db))
                .foreign_key(&mut fk(
                    "service_resources",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "service_resources",
                    "service_id",
                    "services",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "service_resources",
                    "resource_id",
                    "resources",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("service_resources", &["service_id", "resource_id"])],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("user_resources")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("user_id"))
                .col(reference("resource_id"))
                .col(created_at(db))
                .foreign_key(&mut fk(
                    "user_resources",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "user_resources",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "user_resources",
                    "resource_id",
                    "resources",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("user_resources", &["user_id", "resource_id"])],
        )
        .await?;

        add_updated_at_triggers(manager, &["service_resources"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["user_resources", "service_resources"]).await
    }
}

//! Core tables: `tenants` (one per business), `users` (its staff and admins) and
//! `cancel_reasons` (the reasons a tenant offers when a booking is cancelled).
//!
//! Deleting a tenant deletes its users and cancel reasons (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, check, count, create_table, created_at, drop_tables, fk, flag, id,
    one_of, optional_string, optional_timestamp, reference, string, unique, updated_at,
};

/// Needs `set_updated_at()` on PostgreSQL.
pub const DEPENDS_ON: &[&str] = &["m20240813_000001_setup_extensions_and_functions"];

const TABLES: [&str; 3] = ["tenants", "users", "cancel_reasons"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_database_backend();

        let (business_type, business_type_check) = one_of(
            "tenants",
            "business_type",
            None,
            &["salon", "clinic", "fitness", "restaurant", "other"],
        );
        let (status, status_check) = one_of(
            "tenants",
            "status",
            Some("active"),
            &["active", "suspended", "closed"],
        );
        create_table(
            manager,
            Table::create()
                .table("tenants")
                .col(id())
                .col(string("slug", 63))
                .col(string("name", 200))
                .col(business_type)
                .col(string("timezone", 64).default("UTC"))
                .col(status)
                .col(created_at(db))
                .col(updated_at(db))
                .check(business_type_check)
                .check(status_check)
                .take(),
            vec![unique("tenants", &["slug"])],
        )
        .await?;

        let (role, role_check) =
            one_of("users", "role", Some("staff"), &["owner", "admin", "staff"]);
        create_table(
            manager,
            Table::create()
                .table("users")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("email", 255))
                .col(string("name", 200))
                .col(role)
                .col(optional_string("password_hash", 255))
                .col(flag("active", true))
                .col(optional_timestamp("last_login_at"))
                .col(created_at(db))
                .col(updated_at(db))
                .check(role_check)
                .foreign_key(&mut fk(
                    "users",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("users", &["tenant_id", "email"])],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("cancel_reasons")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("code", 32))
                .col(string("label", 200))
                .col(flag("active", true))
                .col(count("sort_order", 0))
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "cancel_reasons",
                    "sort_order",
                    Expr::col("sort_order").gte(0),
                ))
                .foreign_key(&mut fk(
                    "cancel_reasons",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("cancel_reasons", &["tenant_id", "code"])],
        )
        .await?;

        add_updated_at_triggers(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping a table drops its triggers and indexes with it.
        drop_tables(manager, &["cancel_reasons", "users", "tenants"]).await
    }
}

//! Payments: `payment_methods` (a customer's stored card or account at the provider),
//! `payments` (charges and refunds of a booking) and `webhook_events` (what the provider told
//! us, once: `(provider, event_id)` is unique, so a redelivered event cannot be processed
//! twice).
//!
//! A booking with payments cannot be deleted (`RESTRICT`); deleting a customer deletes their
//! stored methods, and payments made with a deleted method keep their row (`SET NULL`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, check, count, create_table, created_at, drop_tables, fk, flag, id,
    one_of, optional_reference, optional_string, optional_timestamp, reference, string, timestamp,
    unique, updated_at,
};

/// Payments belong to bookings and customers.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000003_create_tenant_dependent_tables",
    "m20240813_000007_create_booking_tables",
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
                .table("payment_methods")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("customer_id"))
                .col(string("provider", 32).default("stripe"))
                .col(string("provider_ref", 255))
                .col(optional_string("brand", 32))
                .col(ColumnDef::new("last4").char_len(4).null())
                .col(ColumnDef::new("exp_month").small_integer().null())
                .col(ColumnDef::new("exp_year").small_integer().null())
                .col(flag("is_default", false))
                .col(created_at(db))
                .col(updated_at(db))
                .check(check(
                    "payment_methods",
                    "exp_month",
                    Expr::col("exp_month")
                        .is_null()
                        .or(Expr::col("exp_month").between(1, 12)),
                ))
                .foreign_key(&mut fk(
                    "payment_methods",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "payment_methods",
                    "customer_id",
                    "customers",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique("payment_methods", &["provider", "provider_ref"])],
        )
        .await?;

        let (status, status_check) = one_of(
            "payments",
            "status",
            Some("pending"),
            &["pending", "authorized", "succeeded", "failed", "refunded"],
        );
        create_table(
            manager,
            Table::create()
                .table("payments")
                .col(id())
                .col(reference("tenant_id"))
                .col(reference("booking_id"))
                .col(optional_reference("payment_method_id"))
                .col(string("provider", 32).default("stripe"))
                .col(optional_string("provider_payment_id", 255))
                .col(status)
                .col(ColumnDef::new("amount_cents").big_integer().not_null())
                .col(
                    ColumnDef::new("refunded_cents")
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
                .col(optional_string("failure_reason", 255))
                .col(optional_timestamp("paid_at"))
                .col(created_at(db))
                .col(updated_at(db))
                .check(status_check)
                .check(check(
                    "payments",
                    "amount_cents",
                    Expr::col("amount_cents").gt(0),
                ))
                .check(check(
                    "payments",
                    "refunded_cents",
                    Expr::col("refunded_cents")
                        .gte(0)
                        .and(Expr::col("refunded_cents").lte(Expr::col("amount_cents"))),
                ))
                .foreign_key(&mut fk(
                    "payments",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "payments",
                    "booking_id",
                    "bookings",
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "payments",
                    "payment_method_id",
                    "payment_methods",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
            vec![unique("payments", &["provider", "provider_payment_id"])],
        )
        .await?;

        let (status, status_check) = one_of(
            "webhook_events",
            "status",
            Some("received"),
            &["received", "processed", "failed", "ignored"],
        );
        create_table(
            manager,
            Table::create()
                .table("webhook_events")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("provider", 32).default("stripe"))
                .col(string("event_id", 255))
                .col(string("event_type", 100))
                .col(optional_reference("payment_id"))
                .col(ColumnDef::new("payload").json_binary().not_null())
                .col(status)
                .col(count("attempts", 0))
                .col(optional_timestamp("processed_at"))
                .col(ColumnDef::new("error").text().null())
                .col(timestamp("received_at").default(crate::support::now(db)))
                .col(created_at(db))
                .col(updated_at(db))
                .foreign_key(&mut fk(
                    "webhook_events",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "webhook_events",
                    "payment_id",
                    "payments",
                    ForeignKeyAction::SetNull,
                ))
                .check(status_check)
                .take(),
            vec![unique("webhook_events", &["provider", "event_id"])],
        )
        .await?;

        add_updated_at_triggers(manager, &["payment_methods", "payments", "webhook_events"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["webhook_events", "payments", "payment_methods"]).await
    }
}

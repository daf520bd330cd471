//! System tables: `notifications` (email, SMS, LINE and push messages to send),
//! `outbox_events` (domain events written in the same transaction as the change, published
//! later), `audit_logs` (who changed what) and `idempotency_keys` (replayed API requests get
//! the first response instead of a second booking).
//!
//! All are deleted with their tenant; a notification goes with its booking or customer; an
//! audit entry outlives the user who made it (`SET NULL`).

use sea_orm_migration::prelude::*;

use crate::support::{
    add_updated_at_triggers, count, create_table, created_at, drop_tables, fk, id, now, one_of,
    optional_reference, optional_string, optional_timestamp, reference, string, timestamp, unique,
    updated_at,
};

/// Notifications refer to bookings and customers, audit entries to users.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000002_create_core_tables",
    "m20240813_000003_create_tenant_dependent_tables",
    "m20240813_000007_create_booking_tables",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_database_backend();

        let (channel, channel_check) = one_of(
            "notifications",
            "channel",
            None,
            &["email", "sms", "line", "push"],
        );
        let (status, status_check) = one_of(
            "notifications",
            "status",
            Some("queued"),
            &["queued", "sent", "failed", "cancelled"],
        );
        create_table(
            manager,
            Table::create()
                .table("notifications")
                .col(id())
                .col(reference("tenant_id"))
                .col(optional_reference("booking_id"))
                .col(optional_reference("customer_id"))
                .col(channel)
                .col(string("template", 100))
                .col(string("recipient", 255))
                .col(ColumnDef::new("payload").json_binary().null())
                .col(status)
                .col(count("attempts", 0))
                .col(timestamp("scheduled_at").default(now(db)))
                .col(optional_timestamp("sent_at"))
                .col(ColumnDef::new("error").text().null())
                .col(created_at(db))
                .col(updated_at(db))
                .check(channel_check)
                .check(status_check)
                .foreign_key(&mut fk(
                    "notifications",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "notifications",
                    "booking_id",
                    "bookings",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "notifications",
                    "customer_id",
                    "customers",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("outbox_events")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("aggregate_type", 64))
                .col(ColumnDef::new("aggregate_id").big_integer().not_null())
                .col(string("event_type", 100))
                .col(ColumnDef::new("payload").json_binary().not_null())
                .col(count("attempts", 0))
                .col(optional_timestamp("published_at"))
                .col(created_at(db))
                .foreign_key(&mut fk(
                    "outbox_events",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("audit_logs")
                .col(id())
                .col(reference("tenant_id"))
                .col(optional_reference("actor_user_id"))
                .col(string("action", 64))
                .col(string("entity_type", 64))
                .col(ColumnDef::new("entity_id").big_integer().null())
                .col(ColumnDef::new("changes").json_binary().null())
                .col(optional_string("ip_address", 45))
                .col(created_at(db))
                .foreign_key(&mut fk(
                    "audit_logs",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "audit_logs",
                    "actor_user_id",
                    "users",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
            vec![],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("idempotency_keys")
                .col(id())
                .col(reference("tenant_id"))
                .col(string("idempotency_key", 255))
                .col(string("request_method", 10))
                .col(string("request_path", 255))
                // SHA-256 of the request body, hex: a replay with a different body is refused.
                .col(ColumnDef::new("request_hash").char_len(64).not_null())
                .col(ColumnDef::new("response_status").integer().null())
                .col(ColumnDef::new("response_body").text().null())
                .col(optional_timestamp("locked_at"))
                .col(timestamp("expires_at"))
                .col(created_at(db))
                .col(updated_at(db))
                .foreign_key(&mut fk(
                    "idempotency_keys",
                    "tenant_id",
                    "tenants",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
            vec![unique(
                "idempotency_keys",
                &["tenant_id", "idempotency_key"],
            )],
        )
        .await?;

        add_updated_at_triggers(manager, &["notifications", "idempotency_keys"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "idempotency_keys",
                "audit_logs",
                "outbox_events",
                "notifications",
            ],
        )
        .await
    }
}

//! Indexes for the queries the platform runs most, and one on every foreign key column that no
//! primary key or unique constraint already leads with (deletes on the parent table would
//! otherwise scan the child).
//!
//! MariaDB/MySQL index every foreign key on its own when the table is created, naming the
//! index after the constraint, and silently drop that index once another one can serve the key.
//! Dropping ours again would then fail ("needed in a foreign key constraint"). So on those
//! backends `up` swaps the constraint's index for ours in one `ALTER TABLE`, and `down` swaps it
//! back: up, down and up again end where one up does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

/// Indexes every table created so far.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000004_create_relationship_tables",
    "m20240813_000005_create_schedule_tables",
    "m20240813_000006_create_timeslots",
    "m20240813_000007_create_booking_tables",
    "m20240813_000008_create_payment_tables",
    "m20240813_000009_create_system_tables",
];

/// Lint rules this migration breaks on purpose (`migrate lint`), with the reason.
pub const LINT_ALLOW: &[(&str, &str)] = &[
    (
        "pg.index-not-concurrent",
        "ships in the first release together with the tables it indexes: they are empty when it runs",
    ),
    (
        "pg.lock-timeout-missing",
        "runs on tables no application uses yet, so there is no lock to wait for",
    ),
];

/// One index of this migration.
struct Idx {
    table: &'static str,
    name: &'static str,
    columns: &'static [&'static str],
    /// Whether the leading column is a foreign key that MariaDB/MySQL indexed on its own.
    covers_foreign_key: bool,
}

const fn idx(
    table: &'static str,
    name: &'static str,
    columns: &'static [&'static str],
    covers_foreign_key: bool,
) -> Idx {
    Idx {
        table,
        name,
        columns,
        covers_foreign_key,
    }
}

const INDEXES: &[Idx] = &[
    // Availability search: a tenant's free slots of a resource from a given time.
    idx(
        "timeslots",
        "idx_timeslots_tenant_resource_start",
        &["tenant_id", "resource_id", "start_at"],
        true,
    ),
    idx(
        "timeslots",
        "idx_timeslots_service_id",
        &["service_id"],
        true,
    ),
    // Booking lists by state and date.
    idx(
        "bookings",
        "idx_bookings_tenant_status_start",
        &["tenant_id", "status", "start_at"],
        true,
    ),
    idx(
        "bookings",
        "idx_bookings_customer_id",
        &["customer_id"],
        true,
    ),
    idx("bookings", "idx_bookings_service_id", &["service_id"], true),
    // Which resources can deliver a service.
    idx(
        "service_resources",
        "idx_service_resources_tenant_service_active",
        &["tenant_id", "service_id", "active"],
        true,
    ),
    idx(
        "service_resources",
        "idx_service_resources_resource_id",
        &["resource_id"],
        true,
    ),
    idx(
        "user_resources",
        "idx_user_resources_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "user_resources",
        "idx_user_resources_resource_id",
        &["resource_id"],
        true,
    ),
    idx("schedules", "idx_schedules_tenant_id", &["tenant_id"], true),
    idx(
        "schedules",
        "idx_schedules_resource_id",
        &["resource_id"],
        true,
    ),
    idx(
        "business_hours",
        "idx_business_hours_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "resource_time_offs",
        "idx_resource_time_offs_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "resource_time_offs",
        "idx_resource_time_offs_resource_start",
        &["resource_id", "start_at"],
        true,
    ),
    idx(
        "booking_items",
        "idx_booking_items_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "booking_items",
        "idx_booking_items_timeslot_id",
        &["timeslot_id"],
        true,
    ),
    idx(
        "booking_items",
        "idx_booking_items_resource_id",
        &["resource_id"],
        true,
    ),
    idx(
        "booking_cancellations",
        "idx_booking_cancellations_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "booking_cancellations",
        "idx_booking_cancellations_cancel_reason_id",
        &["cancel_reason_id"],
        true,
    ),
    idx(
        "booking_cancellations",
        "idx_booking_cancellations_cancelled_by_user_id",
        &["cancelled_by_user_id"],
        true,
    ),
    idx(
        "payment_methods",
        "idx_payment_methods_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "payment_methods",
        "idx_payment_methods_customer_id",
        &["customer_id"],
        true,
    ),
    idx("payments", "idx_payments_tenant_id", &["tenant_id"], true),
    idx("payments", "idx_payments_booking_id", &["booking_id"], true),
    idx(
        "payments",
        "idx_payments_payment_method_id",
        &["payment_method_id"],
        true,
    ),
    idx(
        "webhook_events",
        "idx_webhook_events_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "webhook_events",
        "idx_webhook_events_payment_id",
        &["payment_id"],
        true,
    ),
    idx(
        "notifications",
        "idx_notifications_tenant_id",
        &["tenant_id"],
        true,
    ),
    idx(
        "notifications",
        "idx_notifications_booking_id",
        &["booking_id"],
        true,
    ),
    idx(
        "notifications",
        "idx_notifications_customer_id",
        &["customer_id"],
        true,
    ),
    // The sender's queue: due messages first.
    idx(
        "notifications",
        "idx_notifications_status_scheduled",
        &["status", "scheduled_at"],
        false,
    ),
    idx(
        "outbox_events",
        "idx_outbox_events_tenant_id",
        &["tenant_id"],
        true,
    ),
    // The publisher's queue: unpublished events in order.
    idx(
        "outbox_events",
        "idx_outbox_events_published_created",
        &["published_at", "created_at"],
        false,
    ),
    idx(
        "audit_logs",
        "idx_audit_logs_tenant_entity",
        &["tenant_id", "entity_type", "entity_id"],
        true,
    ),
    idx(
        "audit_logs",
        "idx_audit_logs_actor_user_id",
        &["actor_user_id"],
        true,
    ),
    // Expired keys are purged in batches.
    idx(
        "idempotency_keys",
        "idx_idempotency_keys_expires_at",
        &["expires_at"],
        false,
    ),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mysql = manager.get_database_backend() == DbBackend::MySql;
        for index in INDEXES {
            if mysql && index.covers_foreign_key {
                // Replace the constraint's own index explicitly, in one statement, so that
                // `down` can put it back and a second `up` ends where the first one did.
                let column = index.columns[0];
                let columns = index
                    .columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                execute_all(
                    manager,
                    &[format!(
                        "ALTER TABLE `{table}` ADD INDEX `{name}` ({columns}), \
                         DROP INDEX `fk_{table}_{column}`",
                        table = index.table,
                        name = index.name,
                    )],
                )
                .await?;
                continue;
            }
            let mut create = Index::create();
            create.name(index.name).table(index.table);
            for column in index.columns {
                create.col(*column);
            }
            manager.create_index(create).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mysql = manager.get_database_backend() == DbBackend::MySql;
        for index in INDEXES.iter().rev() {
            if mysql && index.covers_foreign_key {
                let column = index.columns[0];
                execute_all(
                    manager,
                    &[format!(
                        "ALTER TABLE `{table}` ADD INDEX `fk_{table}_{column}` (`{column}`), \
                         DROP INDEX `{name}`",
                        table = index.table,
                        name = index.name,
                    )],
                )
                .await?;
            } else {
                manager
                    .drop_index(Index::drop().name(index.name).table(index.table).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}

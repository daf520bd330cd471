//! Views: `available_timeslots` (open slots with places left, on an active resource of an
//! active tenant, outside the resource's time off and the tenant's holidays) and
//! `daily_booking_summary` (per tenant and day: bookings by status and confirmed revenue).
//!
//! Days are UTC dates on every backend, so the three give the same rows. The SQL differs only
//! where the dialects do: extracting a date and casting a sum to `bigint`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

/// Reads timeslots, resources, tenants, time offs, holidays and bookings.
pub const DEPENDS_ON: &[&str] = &[
    "m20240813_000005_create_schedule_tables",
    "m20240813_000006_create_timeslots",
    "m20240813_000007_create_booking_tables",
];

/// The UTC date of a timestamp column, per dialect.
fn utc_date(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(({column} AT TIME ZONE 'UTC') AS date)"),
        DbBackend::MySql => format!("DATE({column})"),
        _ => format!("date({column})"),
    }
}

/// An integer expression as a 64-bit integer, per dialect, so each view column has one type
/// everywhere (PostgreSQL's `sum(bigint)` is `numeric`, MySQL's is `decimal`, and MySQL's
/// integer arithmetic is already `bigint`).
fn as_bigint(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST({expr} AS bigint)"),
        DbBackend::MySql => format!("CAST({expr} AS SIGNED)"),
        _ => format!("CAST({expr} AS INTEGER)"),
    }
}

fn available_timeslots(backend: DbBackend) -> String {
    format!(
        "CREATE VIEW available_timeslots AS \
         SELECT t.id, t.tenant_id, t.resource_id, t.service_id, t.start_at, t.end_at, \
         t.capacity, t.booked_count, {remaining} AS remaining \
         FROM timeslots t \
         JOIN resources r ON r.id = t.resource_id \
         JOIN tenants tn ON tn.id = t.tenant_id \
         WHERE t.status = 'open' AND t.booked_count < t.capacity \
         AND r.active AND tn.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM resource_time_offs o \
         WHERE o.resource_id = t.resource_id AND o.start_at < t.end_at AND o.end_at > t.start_at) \
         AND NOT EXISTS (SELECT 1 FROM holidays h \
         WHERE h.tenant_id = t.tenant_id AND h.day = {day})",
        day = utc_date(backend, "t.start_at"),
        remaining = as_bigint(backend, "t.capacity - t.booked_count"),
    )
}

fn daily_booking_summary(backend: DbBackend) -> String {
    let count_of = |status: &str| {
        as_bigint(
            backend,
            &format!("SUM(CASE WHEN b.status = '{status}' THEN 1 ELSE 0 END)"),
        )
    };
    let day = utc_date(backend, "b.start_at");
    format!(
        "CREATE VIEW daily_booking_summary AS \
         SELECT b.tenant_id, {day} AS day, \
         {total} AS bookings, \
         {pending} AS pending, {confirmed} AS confirmed, {completed} AS completed, \
         {cancelled} AS cancelled, {no_show} AS no_show, \
         {revenue} AS revenue_cents \
         FROM bookings b \
         GROUP BY b.tenant_id, {day}",
        total = as_bigint(backend, "COUNT(*)"),
        pending = count_of("pending"),
        confirmed = count_of("confirmed"),
        completed = count_of("completed"),
        cancelled = count_of("cancelled"),
        no_show = count_of("no_show"),
        revenue = as_bigint(
            backend,
            "SUM(CASE WHEN b.status IN ('confirmed', 'completed') THEN b.total_cents ELSE 0 END)",
        ),
    )
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        execute_all(
            manager,
            &[available_timeslots(backend), daily_booking_summary(backend)],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &[
                "DROP VIEW daily_booking_summary".to_owned(),
                "DROP VIEW available_timeslots".to_owned(),
            ],
        )
        .await
    }
}

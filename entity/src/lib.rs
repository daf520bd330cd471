//! SeaORM entities of the reservation platform: one module per table and view, matching what
//! the migrations in the `migration` crate create on every backend (a test in `tests/` compares
//! them with the live schema of each).
//!
//! The table modules were generated from a migrated database by `sea-orm-cli generate entity`
//! and then given explicit string lengths; regenerate and re-apply those rather than editing
//! the fields by hand. The view modules are written by hand: views have no keys to discover.

// Each module says what its table holds; the fields mirror the columns one to one.
#![allow(missing_docs)]

pub mod audit_logs;
pub mod available_timeslots;
pub mod booking_cancellations;
pub mod booking_items;
pub mod bookings;
pub mod business_hours;
pub mod cancel_reasons;
pub mod customers;
pub mod daily_booking_summary;
pub mod holidays;
pub mod idempotency_keys;
pub mod notifications;
pub mod outbox_events;
pub mod payment_methods;
pub mod payments;
pub mod resource_time_offs;
pub mod resources;
pub mod schedules;
pub mod service_resources;
pub mod services;
pub mod tenants;
pub mod timeslots;
pub mod user_resources;
pub mod users;
pub mod webhook_events;

/// Every entity, for `use entity::prelude::*`.
pub mod prelude {
    pub use super::audit_logs::Entity as AuditLogs;
    pub use super::available_timeslots::Entity as AvailableTimeslots;
    pub use super::booking_cancellations::Entity as BookingCancellations;
    pub use super::booking_items::Entity as BookingItems;
    pub use super::bookings::Entity as Bookings;
    pub use super::business_hours::Entity as BusinessHours;
    pub use super::cancel_reasons::Entity as CancelReasons;
    pub use super::customers::Entity as Customers;
    pub use super::daily_booking_summary::Entity as DailyBookingSummary;
    pub use super::holidays::Entity as Holidays;
    pub use super::idempotency_keys::Entity as IdempotencyKeys;
    pub use super::notifications::Entity as Notifications;
    pub use super::outbox_events::Entity as OutboxEvents;
    pub use super::payment_methods::Entity as PaymentMethods;
    pub use super::payments::Entity as Payments;
    pub use super::resource_time_offs::Entity as ResourceTimeOffs;
    pub use super::resources::Entity as Resources;
    pub use super::schedules::Entity as Schedules;
    pub use super::service_resources::Entity as ServiceResources;
    pub use super::services::Entity as Services;
    pub use super::tenants::Entity as Tenants;
    pub use super::timeslots::Entity as Timeslots;
    pub use super::user_resources::Entity as UserResources;
    pub use super::users::Entity as Users;
    pub use super::webhook_events::Entity as WebhookEvents;
}

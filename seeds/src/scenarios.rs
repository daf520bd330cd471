//! The QA scenarios of the `demo` profile (and of block one of `load`), with the ids they keep
//! whatever the seed or the date. `seeds/README.md` documents the same list; a test keeps the
//! two in step, and the integration tests check every scenario on every backend.

/// Tenant ids of the demo's businesses.
pub mod tenants {
    /// Sakura Hair Salon (`sakura-salon`).
    pub const SALON: i64 = 1;
    /// Harbor Family Clinic (`harbor-clinic`).
    pub const CLINIC: i64 = 2;
    /// Peak Fitness Studio (`peak-fitness`).
    pub const FITNESS: i64 = 3;
    /// Blue Door Bistro (`blue-door-bistro`).
    pub const RESTAURANT: i64 = 4;
}

/// Timeslot 1: the fitness studio's Studio B class tomorrow 18:00–19:00 UTC, all 12 places
/// taken by bookings 3–12 (two of them for two people).
pub const FULLY_BOOKED_TIMESLOT: i64 = 1;
/// The bookings that fill [`FULLY_BOOKED_TIMESLOT`].
pub const FULL_CLASS_BOOKINGS: std::ops::RangeInclusive<i64> = 3..=12;
/// Resource 14: Studio B, the room of the full class.
pub const FULL_CLASS_RESOURCE: i64 = 14;

/// Tenant 4 (the bistro) has no availability tomorrow: every timeslot that day is `blocked`.
pub const NO_AVAILABILITY_TOMORROW_TENANT: i64 = tenants::RESTAURANT;

/// Resource 1 (Mia, a stylist at the salon) is away for three days from tomorrow 00:00 UTC:
/// time off 1. Her slots then exist but are not available and carry no bookings.
pub const TIME_OFF: i64 = 1;
/// The resource on [`TIME_OFF`].
pub const TIME_OFF_RESOURCE: i64 = 1;

/// Holiday 1: the salon is closed five days from today ("Founders' Day"): no timeslots.
pub const HOLIDAY: i64 = 1;
/// Days from today to [`HOLIDAY`].
pub const HOLIDAY_IN_DAYS: i64 = 5;

/// Booking 1 (the salon, a haircut with Noah on or after the day after tomorrow) was cancelled
/// by the customer: cancellation 1, reason `illness` (cancel reason 2), its item released.
pub const CANCELLED_BOOKING: i64 = 1;
/// The cancellation record of [`CANCELLED_BOOKING`].
pub const CANCELLATION: i64 = 1;
/// The reason given: the salon's `illness`.
pub const CANCEL_REASON: i64 = 2;

/// Payment 1: the cancelled booking's payment, refunded in full.
pub const REFUNDED_PAYMENT: i64 = 1;

/// Booking 2 (the clinic, confirmed): payment 2 was declined (`card_declined`), payment 3 paid.
pub const DECLINED_THEN_PAID_BOOKING: i64 = 2;
/// The declined payment of [`DECLINED_THEN_PAID_BOOKING`].
pub const FAILED_PAYMENT: i64 = 2;

/// Webhook event 1 (`charge.refunded` for payment 1) was delivered twice and processed once:
/// `attempts = 2`, one `processed_at`; audit entry 1 records the ignored duplicate.
pub const WEBHOOK_DELIVERED_TWICE: i64 = 1;
/// The audit entry recording the ignored duplicate delivery.
pub const DUPLICATE_DELIVERY_AUDIT: i64 = 1;

/// Idempotency key 1, under which booking 1 was created, expired four days ago.
pub const EXPIRED_IDEMPOTENCY_KEY: i64 = 1;

/// One scenario as the README lists it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The scenario's stable name.
    pub key: &'static str,
    /// The rows that make it, as the README writes them.
    pub rows: &'static str,
}

/// Every scenario, in README order.
pub const SCENARIOS: [Scenario; 9] = [
    Scenario {
        key: "fully-booked-slot",
        rows: "timeslots 1; bookings 3–12; resource 14",
    },
    Scenario {
        key: "no-availability-tomorrow",
        rows: "tenant 4",
    },
    Scenario {
        key: "resource-on-time-off",
        rows: "resource_time_offs 1; resource 1",
    },
    Scenario {
        key: "holiday",
        rows: "holidays 1; tenant 1",
    },
    Scenario {
        key: "cancelled-booking-with-reason",
        rows: "bookings 1; booking_cancellations 1; cancel_reasons 2",
    },
    Scenario {
        key: "refunded-payment",
        rows: "payments 1; bookings 1",
    },
    Scenario {
        key: "failed-payment",
        rows: "payments 2 (then 3); bookings 2",
    },
    Scenario {
        key: "webhook-delivered-twice-processed-once",
        rows: "webhook_events 1; audit_logs 1",
    },
    Scenario {
        key: "expired-idempotency-key",
        rows: "idempotency_keys 1; bookings 1",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_documents_every_scenario_with_its_rows() {
        let readme = include_str!("../README.md");
        for s in SCENARIOS {
            let line = readme.lines().find(|l| l.contains(&format!("`{}`", s.key)));
            assert!(line.is_some(), "README does not list `{}`", s.key);
            let line = line.unwrap_or_default();
            assert!(
                line.contains(s.rows),
                "README's line for `{}` does not say `{}`: {line}",
                s.key,
                s.rows
            );
        }
    }
}

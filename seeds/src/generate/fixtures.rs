//! The QA scenarios of `seeds/README.md`, written at the start of each block so their ids are
//! the same whatever the seed or the date (see [`crate::scenarios`] for the ids).
//!
//! Nothing here draws a count from the random generator: only strings such as references do.

use chrono::Duration;
use serde_json::json;

use super::activity::{
    Cancellation, Delivery, Message, NewBooking, NewPayment, push_audit, push_booking,
    push_cancellation, push_idempotency_key, push_notification, push_outbox, push_payment,
    push_webhook,
};
use super::calendar::Calendar;
use super::shape::{CLINIC_INDEX, FITNESS_INDEX, SALON_INDEX};
use super::structure::TenantPlan;
use super::{Dataset, Gen, Ts};

/// Index of "illness" in [`super::shape::CANCEL_REASONS`].
const ILLNESS: usize = 1;

/// Places taken by each booking of the full class: twelve in all, its capacity.
const FULL_CLASS_PARTIES: [i32; 10] = [2, 2, 1, 1, 1, 1, 1, 1, 1, 1];

/// Writes the scenario rows of the block.
pub(crate) fn add(ds: &mut Dataset, g: &mut Gen, tenants: &[TenantPlan], cal: &mut Calendar) {
    cancelled_and_refunded(ds, g, &tenants[SALON_INDEX], cal);
    declined_then_paid(ds, g, &tenants[CLINIC_INDEX], cal);
    full_class(ds, g, &tenants[FITNESS_INDEX], cal);
}

/// Confirmation and, for a cancelled booking, cancellation messages and outbox events.
fn messages(ds: &mut Dataset, plan: &TenantPlan, booking_id: i64, cancelled: Option<Ts>) {
    let booking = &ds.bookings[usize::try_from(booking_id - 1).unwrap_or(0)];
    let (customer_id, created) = (booking.customer_id, booking.created_at);
    let confirmation = Message {
        booking_id,
        customer_id,
        channel: "email",
        template: "booking_confirmation",
        created: created + Duration::minutes(1),
        scheduled: created + Duration::minutes(1),
        status: "sent",
    };
    push_notification(ds, plan, &confirmation);
    let published = |at: Ts| Some(at + Duration::seconds(2));
    push_outbox(
        ds,
        plan,
        booking_id,
        "booking.created",
        created,
        published(created),
    );
    if let Some(at) = cancelled {
        let notice = Message {
            template: "booking_cancelled",
            created: at + Duration::minutes(1),
            scheduled: at + Duration::minutes(1),
            ..confirmation
        };
        push_notification(ds, plan, &notice);
        push_outbox(ds, plan, booking_id, "booking.cancelled", at, published(at));
    }
}

/// Booking 1: cancelled by the customer with a reason, its payment refunded in full; the
/// provider delivered the refund event twice and it was processed once (audit entry 1 records
/// the ignored duplicate); the idempotency key it was created under has expired.
fn cancelled_and_refunded(ds: &mut Dataset, g: &mut Gen, salon: &TenantPlan, cal: &mut Calendar) {
    let Some(slot) = cal.first_bookable(ds, SALON_INDEX, 1, g.day_at(2, 10, 0)) else {
        return;
    };
    let created = g.day_at(-5, 14, 0);
    let cancelled = g.day_at(-1, 9, 30);
    let customer_id = *salon.customers.start();
    let booking_id = push_booking(
        ds,
        g,
        cal,
        &NewBooking {
            plan: salon,
            customer_id,
            service: 0,
            slots: vec![slot],
            quantity: 1,
            status: "cancelled",
            created,
            cancelled_at: Some(cancelled),
            notes: Some("First visit".to_owned()),
        },
    );
    push_cancellation(
        ds,
        salon,
        &Cancellation {
            booking_id,
            reason: ILLNESS,
            by: "customer",
            user_id: None,
            note: Some("Called in sick; will rebook next week".to_owned()),
            at: cancelled,
        },
    );
    let amount = salon.shape.services[0].price_cents;
    let paid = created + Duration::minutes(3);
    let payment_id = push_payment(
        ds,
        g,
        salon,
        &NewPayment {
            booking_id,
            method_id: TenantPlan::default_method(ds, customer_id),
            status: "refunded",
            amount,
            refunded: amount,
            failure: None,
            created: paid,
            paid_at: Some(paid),
            updated: cancelled + Duration::minutes(5),
        },
    );
    let received = cancelled + Duration::minutes(6);
    let webhook_id = push_webhook(
        ds,
        salon,
        payment_id,
        &Delivery {
            status: "processed",
            attempts: 2,
            error: None,
            received,
        },
    );
    let event_id = ds.webhook_events[usize::try_from(webhook_id - 1).unwrap_or(0)]
        .event_id
        .clone();
    push_audit(
        ds,
        salon,
        None,
        "webhook.duplicate_ignored",
        "webhook_event",
        Some(webhook_id),
        Some(json!({ "event_id": event_id, "deliveries": 2, "processed": 1 })),
        received + Duration::seconds(30),
    );
    push_idempotency_key(ds, g, salon, booking_id);
    messages(ds, salon, booking_id, Some(cancelled));
}

/// Booking 2: confirmed, its first payment (2) declined, its second (3) paid.
fn declined_then_paid(ds: &mut Dataset, g: &mut Gen, clinic: &TenantPlan, cal: &mut Calendar) {
    let Some(slot) = cal.first_bookable(ds, CLINIC_INDEX, 0, g.day_at(3, 9, 0)) else {
        return;
    };
    let created = g.day_at(-2, 16, 20);
    let customer_id = *clinic.customers.start();
    let booking_id = push_booking(
        ds,
        g,
        cal,
        &NewBooking {
            plan: clinic,
            customer_id,
            service: 0,
            slots: vec![slot],
            quantity: 1,
            status: "confirmed",
            created,
            cancelled_at: None,
            notes: None,
        },
    );
    let amount = clinic.shape.services[0].price_cents;
    let method_id = TenantPlan::default_method(ds, customer_id);
    for (status, failure, at) in [
        (
            "failed",
            Some("card_declined"),
            created + Duration::minutes(2),
        ),
        ("succeeded", None, created + Duration::minutes(10)),
    ] {
        let payment_id = push_payment(
            ds,
            g,
            clinic,
            &NewPayment {
                booking_id,
                method_id,
                status,
                amount,
                refunded: 0,
                failure,
                created: at,
                paid_at: (status == "succeeded").then_some(at),
                updated: at,
            },
        );
        push_webhook(
            ds,
            clinic,
            payment_id,
            &Delivery {
                status: "processed",
                attempts: 1,
                error: None,
                received: at + Duration::seconds(2),
            },
        );
    }
    messages(ds, clinic, booking_id, None);
}

/// Bookings 3 to 12: the full class of timeslot 1, twelve places of twelve, each paid.
fn full_class(ds: &mut Dataset, g: &mut Gen, fitness: &TenantPlan, cal: &mut Calendar) {
    let slot = cal.full_class;
    let service = fitness
        .services
        .iter()
        .position(|s| Some(*s) == ds.timeslots[slot].service_id)
        .unwrap_or(0);
    for (n, quantity) in FULL_CLASS_PARTIES.iter().enumerate() {
        let offset = i64::try_from(n).unwrap_or(0);
        let created = g.day_at(-3, 8, 0) + Duration::hours(offset);
        let customer_id = fitness.customers.start() + offset;
        let booking_id = push_booking(
            ds,
            g,
            cal,
            &NewBooking {
                plan: fitness,
                customer_id,
                service,
                slots: vec![slot],
                quantity: *quantity,
                status: "confirmed",
                created,
                cancelled_at: None,
                notes: None,
            },
        );
        let at = created + Duration::minutes(3);
        let payment_id = push_payment(
            ds,
            g,
            fitness,
            &NewPayment {
                booking_id,
                method_id: TenantPlan::default_method(ds, customer_id),
                status: "succeeded",
                amount: fitness.shape.services[service].price_cents * i64::from(*quantity),
                refunded: 0,
                failure: None,
                created: at,
                paid_at: Some(at),
                updated: at,
            },
        );
        push_webhook(
            ds,
            fitness,
            payment_id,
            &Delivery {
                status: "processed",
                attempts: 1,
                error: None,
                received: at + Duration::seconds(2),
            },
        );
        messages(ds, fitness, booking_id, None);
    }
}

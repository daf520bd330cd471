//! A month of trade: bookings on the calendar and everything that follows from each one
//! (items, cancellations, payments, provider webhooks, notifications, outbox events, audit
//! entries, idempotency keys), then each business's background activity.
//!
//! The row builders here are shared with [`super::fixtures`], so scenario rows look exactly
//! like the others.

use chrono::Duration;
use entity::{
    audit_logs, booking_cancellations, booking_items, bookings, idempotency_keys, notifications,
    outbox_events, payments, webhook_events,
};
use fake::Fake;
use fake::faker::lorem::en::Sentence;
use rand::RngExt;
use serde_json::json;

use super::calendar::Calendar;
use super::shape::Shape;
use super::structure::TenantPlan;
use super::{Dataset, Gen, Ts, next_id};

/// A booking about to be written.
pub(crate) struct NewBooking<'a> {
    pub plan: &'a TenantPlan,
    pub customer_id: i64,
    /// Index into the business's services.
    pub service: usize,
    /// Indexes into `ds.timeslots`, consecutive, on one resource.
    pub slots: Vec<usize>,
    pub quantity: i32,
    pub status: &'static str,
    pub created: Ts,
    /// For a cancelled booking: when; its items are released then.
    pub cancelled_at: Option<Ts>,
    pub notes: Option<String>,
}

impl NewBooking<'_> {
    fn start(&self, ds: &Dataset) -> Ts {
        ds.timeslots[self.slots[0]].start_at
    }

    fn end(&self, ds: &Dataset) -> Ts {
        ds.timeslots[self.slots[self.slots.len() - 1]].end_at
    }
}

/// A public booking reference shaped like a version 4 UUID.
fn reference(g: &mut Gen) -> String {
    let mut bytes: [u8; 16] = g.rng.random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `n` random bytes as lower-case hex.
pub(crate) fn hex(g: &mut Gen, n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", g.rng.random::<u8>()))
        .collect()
}

/// Writes a booking and its items, holding its places unless it is cancelled; returns its id.
pub(crate) fn push_booking(
    ds: &mut Dataset,
    g: &mut Gen,
    cal: &mut Calendar,
    b: &NewBooking,
) -> i64 {
    let id = next_id(&ds.bookings);
    let (start, end) = (b.start(ds), b.end(ds));
    let service = &b.plan.shape.services[b.service];
    let updated = match (b.status, b.cancelled_at) {
        (_, Some(at)) => at,
        ("completed", _) => end + Duration::minutes(10),
        ("no_show", _) => start + Duration::minutes(30),
        ("confirmed", _) => b.created + Duration::minutes(2),
        _ => b.created,
    };
    ds.bookings.push(bookings::Model {
        id,
        tenant_id: b.plan.id,
        customer_id: b.customer_id,
        service_id: b.plan.services[b.service],
        reference: reference(g),
        status: b.status.to_owned(),
        start_at: start,
        end_at: end,
        total_cents: service.price_cents * i64::from(b.quantity),
        currency: b.plan.shape.currency.to_owned(),
        notes: b.notes.clone(),
        created_at: b.created,
        updated_at: updated,
    });
    for &slot in &b.slots {
        let item_id = next_id(&ds.booking_items);
        ds.booking_items.push(booking_items::Model {
            id: item_id,
            tenant_id: b.plan.id,
            booking_id: id,
            timeslot_id: ds.timeslots[slot].id,
            resource_id: ds.timeslots[slot].resource_id,
            quantity: b.quantity,
            released_at: b.cancelled_at,
            created_at: b.created,
            updated_at: b.cancelled_at.unwrap_or(b.created),
        });
        if b.cancelled_at.is_none() {
            cal.hold(slot, b.quantity);
        }
    }
    id
}

/// Who cancelled a booking, and why.
pub(crate) struct Cancellation {
    pub booking_id: i64,
    /// Index into [`super::shape::CANCEL_REASONS`].
    pub reason: usize,
    pub by: &'static str,
    pub user_id: Option<i64>,
    pub note: Option<String>,
    pub at: Ts,
}

/// Writes a booking's cancellation record.
pub(crate) fn push_cancellation(ds: &mut Dataset, plan: &TenantPlan, c: &Cancellation) {
    let id = next_id(&ds.booking_cancellations);
    ds.booking_cancellations.push(booking_cancellations::Model {
        id,
        tenant_id: plan.id,
        booking_id: c.booking_id,
        cancel_reason_id: Some(plan.cancel_reasons[c.reason]),
        cancelled_by_user_id: c.user_id,
        cancelled_by: c.by.to_owned(),
        note: c.note.clone(),
        cancelled_at: c.at,
        created_at: c.at,
    });
}

/// A payment about to be written.
pub(crate) struct NewPayment {
    pub booking_id: i64,
    pub method_id: Option<i64>,
    pub status: &'static str,
    pub amount: i64,
    pub refunded: i64,
    pub failure: Option<&'static str>,
    pub created: Ts,
    pub paid_at: Option<Ts>,
    pub updated: Ts,
}

/// Writes a payment; returns its id.
pub(crate) fn push_payment(
    ds: &mut Dataset,
    g: &mut Gen,
    plan: &TenantPlan,
    p: &NewPayment,
) -> i64 {
    let id = next_id(&ds.payments);
    ds.payments.push(payments::Model {
        id,
        tenant_id: plan.id,
        booking_id: p.booking_id,
        payment_method_id: p.method_id,
        provider: "stripe".to_owned(),
        provider_payment_id: Some(format!("pi_{id:010}{}", hex(g, 4))),
        status: p.status.to_owned(),
        amount_cents: p.amount,
        refunded_cents: p.refunded,
        currency: plan.shape.currency.to_owned(),
        failure_reason: p.failure.map(str::to_owned),
        paid_at: p.paid_at,
        created_at: p.created,
        updated_at: p.updated,
    });
    id
}

/// How the provider's event about a payment was handled.
pub(crate) struct Delivery {
    pub status: &'static str,
    pub attempts: i32,
    pub error: Option<&'static str>,
    pub received: Ts,
}

/// Writes the provider's event about payment `payment_id`; returns its id.
pub(crate) fn push_webhook(
    ds: &mut Dataset,
    plan: &TenantPlan,
    payment_id: i64,
    d: &Delivery,
) -> i64 {
    let id = next_id(&ds.webhook_events);
    let payment = &ds.payments[usize::try_from(payment_id - 1).unwrap_or(0)];
    let event_type = match payment.status.as_str() {
        "refunded" => "charge.refunded",
        "failed" => "payment_intent.payment_failed",
        _ => "payment_intent.succeeded",
    };
    let event_id = format!("evt_{id:010}");
    let payload = json!({
        "id": event_id,
        "type": event_type,
        "created": d.received.timestamp(),
        "data": { "object": {
            "id": payment.provider_payment_id,
            "amount": payment.amount_cents,
            "amount_refunded": payment.refunded_cents,
            "currency": payment.currency.to_ascii_lowercase(),
            "status": payment.status,
        }},
    });
    let processed = (d.status == "processed").then(|| d.received + Duration::seconds(1));
    ds.webhook_events.push(webhook_events::Model {
        id,
        tenant_id: plan.id,
        provider: "stripe".to_owned(),
        event_id,
        event_type: event_type.to_owned(),
        payment_id: Some(payment_id),
        payload,
        status: d.status.to_owned(),
        attempts: d.attempts,
        processed_at: processed,
        error: d.error.map(str::to_owned),
        received_at: d.received,
        created_at: d.received,
        updated_at: processed.unwrap_or(d.received),
    });
    id
}

/// A message to a customer about a booking.
pub(crate) struct Message {
    pub booking_id: i64,
    pub customer_id: i64,
    pub channel: &'static str,
    pub template: &'static str,
    /// When the message was queued.
    pub created: Ts,
    /// When it is (or was) due to go out.
    pub scheduled: Ts,
    /// `sent`, `queued` or `failed`.
    pub status: &'static str,
}

/// Writes a notification, addressed from the customer's e-mail or phone.
pub(crate) fn push_notification(ds: &mut Dataset, plan: &TenantPlan, m: &Message) {
    let id = next_id(&ds.notifications);
    let customer = &ds.customers[usize::try_from(m.customer_id - 1).unwrap_or(0)];
    let booking = &ds.bookings[usize::try_from(m.booking_id - 1).unwrap_or(0)];
    let (channel, recipient) = match (m.channel, &customer.email, &customer.phone) {
        ("email", Some(email), _) => ("email", email.clone()),
        ("email", None, Some(phone)) => ("sms", phone.clone()),
        (channel, _, Some(phone)) if channel != "email" => (channel, phone.clone()),
        (_, _, _) => ("push", format!("device:{:08}", customer.id)),
    };
    let (sent_at, attempts, error) = match m.status {
        "sent" => (Some(m.scheduled + Duration::seconds(5)), 1, None),
        "failed" => (None, 3, Some("550 5.1.1 mailbox unavailable".to_owned())),
        _ => (None, 0, None),
    };
    let updated = match m.status {
        "failed" => m.scheduled + Duration::minutes(30),
        _ => sent_at.unwrap_or(m.scheduled),
    };
    ds.notifications.push(notifications::Model {
        id,
        tenant_id: plan.id,
        booking_id: Some(m.booking_id),
        customer_id: Some(m.customer_id),
        channel: channel.to_owned(),
        template: m.template.to_owned(),
        recipient,
        payload: Some(json!({
            "booking_reference": booking.reference,
            "start_at": booking.start_at.to_rfc3339(),
            "business": plan.shape.name,
        })),
        status: m.status.to_owned(),
        attempts,
        scheduled_at: m.scheduled,
        sent_at,
        error,
        created_at: m.created,
        updated_at: updated,
    });
}

/// Writes an outbox event about booking `booking_id`, published unless `published` is `None`.
pub(crate) fn push_outbox(
    ds: &mut Dataset,
    plan: &TenantPlan,
    booking_id: i64,
    event_type: &str,
    at: Ts,
    published: Option<Ts>,
) {
    let id = next_id(&ds.outbox_events);
    let booking = &ds.bookings[usize::try_from(booking_id - 1).unwrap_or(0)];
    ds.outbox_events.push(outbox_events::Model {
        id,
        tenant_id: plan.id,
        aggregate_type: "booking".to_owned(),
        aggregate_id: booking_id,
        event_type: event_type.to_owned(),
        payload: json!({
            "booking_id": booking_id,
            "reference": booking.reference,
            "status": booking.status,
            "start_at": booking.start_at.to_rfc3339(),
        }),
        attempts: i32::from(published.is_some()),
        published_at: published,
        created_at: at,
    });
}

/// Writes an audit entry.
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_audit(
    ds: &mut Dataset,
    plan: &TenantPlan,
    actor: Option<i64>,
    action: &str,
    entity_type: &str,
    entity_id: Option<i64>,
    changes: Option<serde_json::Value>,
    at: Ts,
) {
    let id = next_id(&ds.audit_logs);
    let ip = actor.map(|user| format!("203.0.113.{}", user % 250 + 1));
    ds.audit_logs.push(audit_logs::Model {
        id,
        tenant_id: plan.id,
        actor_user_id: actor,
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id,
        changes,
        ip_address: ip,
        created_at: at,
    });
}

/// Writes the idempotency key under which the booking was created through the API; it expires
/// a day after.
pub(crate) fn push_idempotency_key(
    ds: &mut Dataset,
    g: &mut Gen,
    plan: &TenantPlan,
    booking_id: i64,
) {
    let id = next_id(&ds.idempotency_keys);
    let booking = &ds.bookings[usize::try_from(booking_id - 1).unwrap_or(0)];
    let created = booking.created_at - Duration::seconds(1);
    let body = json!({ "booking_id": booking_id, "reference": booking.reference }).to_string();
    ds.idempotency_keys.push(idempotency_keys::Model {
        id,
        tenant_id: plan.id,
        idempotency_key: format!("idem_{}", hex(g, 16)),
        request_method: "POST".to_owned(),
        request_path: format!("/v1/tenants/{}/bookings", plan.slug),
        request_hash: hex(g, 32),
        response_status: Some(201),
        response_body: Some(body),
        locked_at: None,
        expires_at: created + Duration::hours(24),
        created_at: created,
        updated_at: booking.created_at,
    });
}

/// Cancel reasons by who cancels: indexes into [`super::shape::CANCEL_REASONS`].
const CUSTOMER_REASONS: [usize; 3] = [0, 1, 2];
const STAFF_REASONS: [usize; 2] = [1, 2];
const NO_PAYMENT: usize = 3;

/// Books the block's calendar: each slot may be taken, within its capacity, by bookings in
/// every status, each with what follows from it.
pub(crate) fn bookings(ds: &mut Dataset, g: &mut Gen, tenants: &[TenantPlan], cal: &mut Calendar) {
    let full_class = cal.full_class;
    let indexes = cal.indexes();
    let mut i = indexes.start;
    while i < indexes.end {
        let meta = cal.meta(i);
        let slot = i;
        i += 1;
        if slot == full_class || !meta.bookable || cal.free(ds, slot) <= 0 {
            continue;
        }
        let plan = &tenants[meta.tenant];
        let resource = &plan.shape.resources[meta.resource];
        let past = ds.timeslots[slot].start_at < g.now;
        if Shape::is_class(resource) {
            if !g.rng.random_bool(0.35) {
                continue;
            }
            // The class the slot holds.
            let service = plan
                .services
                .iter()
                .position(|s| Some(*s) == ds.timeslots[slot].service_id)
                .unwrap_or(resource.offers[0]);
            let n = g.rng.random_range(1..=resource.capacity / 2);
            for _ in 0..n {
                let quantity = if g.rng.random_bool(0.1) { 2 } else { 1 };
                if cal.free(ds, slot) < quantity {
                    break;
                }
                random_booking(ds, g, cal, plan, service, vec![slot], quantity, past);
            }
            continue;
        }
        let chance = if past { 0.35 } else { 0.2 };
        if !g.rng.random_bool(chance) {
            continue;
        }
        let offered = resource.offers;
        let service = offered[g.rng.random_range(0..offered.len())];
        let needed = slots_needed(plan.shape, service);
        let mut slots = vec![slot];
        while slots.len() < needed {
            let next = slots[slots.len() - 1] + 1;
            if !cal.follows(ds, slots[slots.len() - 1], next)
                || !cal.meta(next).bookable
                || cal.free(ds, next) <= 0
            {
                break;
            }
            slots.push(next);
        }
        let service = if slots.len() == needed {
            service
        } else {
            // Not enough room after this slot: take a one-slot service instead, if any.
            match offered
                .iter()
                .copied()
                .find(|s| slots_needed(plan.shape, *s) == 1)
            {
                Some(s) => {
                    slots.truncate(1);
                    s
                }
                None => continue,
            }
        };
        i = slots[slots.len() - 1] + 1;
        random_booking(ds, g, cal, plan, service, slots, 1, past);
    }
}

/// How many consecutive slots a service takes.
fn slots_needed(shape: &Shape, service: usize) -> usize {
    let minutes = shape.services[service].minutes;
    usize::try_from((minutes + shape.slot_minutes - 1) / shape.slot_minutes).unwrap_or(1)
}

/// One booking with random status, customer and timing, and everything that follows from it.
#[allow(clippy::too_many_arguments)]
fn random_booking(
    ds: &mut Dataset,
    g: &mut Gen,
    cal: &mut Calendar,
    plan: &TenantPlan,
    service: usize,
    slots: Vec<usize>,
    quantity: i32,
    past: bool,
) {
    let roll: f64 = g.rng.random();
    let status = match (past, roll) {
        (true, r) if r < 0.80 => "completed",
        (true, r) if r < 0.87 => "no_show",
        (true, _) => "cancelled",
        (false, r) if r < 0.65 => "confirmed",
        (false, r) if r < 0.85 => "pending",
        (false, _) => "cancelled",
    };
    let start = ds.timeslots[slots[0]].start_at;
    let horizon = start.min(g.now);
    let created = horizon - Duration::minutes(g.rng.random_range(60..=14 * 24 * 60));
    let cancelled_at = (status == "cancelled").then(|| {
        let room = (horizon - Duration::hours(1) - created)
            .num_minutes()
            .max(1);
        created + Duration::minutes(g.rng.random_range(1..=room))
    });
    let customer_id = g
        .rng
        .random_range(*plan.customers.start()..=*plan.customers.end());
    let notes = g
        .rng
        .random_bool(0.08)
        .then(|| Sentence(3..8).fake_with_rng::<String, _>(&mut g.rng));
    let booking = NewBooking {
        plan,
        customer_id,
        service,
        slots,
        quantity,
        status,
        created,
        cancelled_at,
        notes,
    };
    let booking_id = push_booking(ds, g, cal, &booking);

    if let Some(at) = cancelled_at {
        let roll: f64 = g.rng.random();
        let (by, reason, user_id) = if roll < 0.6 {
            let r = CUSTOMER_REASONS[g.rng.random_range(0..CUSTOMER_REASONS.len())];
            ("customer", r, None)
        } else if roll < 0.9 {
            let r = STAFF_REASONS[g.rng.random_range(0..STAFF_REASONS.len())];
            ("staff", r, Some(plan.admin_id))
        } else {
            ("system", NO_PAYMENT, None)
        };
        let note = g
            .rng
            .random_bool(0.3)
            .then(|| Sentence(4..10).fake_with_rng::<String, _>(&mut g.rng));
        push_cancellation(
            ds,
            plan,
            &Cancellation {
                booking_id,
                reason,
                by,
                user_id,
                note,
                at,
            },
        );
        if by == "staff" {
            push_audit(
                ds,
                plan,
                user_id,
                "booking.cancelled",
                "booking",
                Some(booking_id),
                Some(json!({ "status": ["confirmed", "cancelled"] })),
                at,
            );
        }
    }
    if status == "no_show" {
        push_audit(
            ds,
            plan,
            Some(plan.admin_id),
            "booking.marked_no_show",
            "booking",
            Some(booking_id),
            Some(json!({ "status": ["confirmed", "no_show"] })),
            start + Duration::minutes(30),
        );
    }

    random_payments(ds, g, plan, &booking, booking_id);

    let mut message = Message {
        booking_id,
        customer_id,
        channel: "email",
        template: "booking_confirmation",
        created: created + Duration::minutes(1),
        scheduled: created + Duration::minutes(1),
        status: if g.rng.random_bool(0.04) {
            "failed"
        } else {
            "sent"
        },
    };
    push_notification(ds, plan, &message);
    if matches!(status, "confirmed" | "completed") && created <= start - Duration::hours(24) {
        const CHANNELS: [&str; 3] = ["sms", "line", "push"];
        message.channel = CHANNELS[g.rng.random_range(0..CHANNELS.len())];
        message.template = "booking_reminder";
        message.created = created + Duration::minutes(1);
        message.scheduled = start - Duration::hours(24);
        message.status = if message.scheduled <= g.now {
            "sent"
        } else {
            "queued"
        };
        push_notification(ds, plan, &message);
    }
    if let Some(at) = cancelled_at {
        message.channel = "email";
        message.template = "booking_cancelled";
        message.created = at + Duration::minutes(1);
        message.scheduled = at + Duration::minutes(1);
        message.status = "sent";
        push_notification(ds, plan, &message);
    }

    // Events written in the last hours before "now" are still waiting to be published.
    let publish = |at: Ts| (at < g.now - Duration::hours(6)).then(|| at + Duration::seconds(2));
    push_outbox(
        ds,
        plan,
        booking_id,
        "booking.created",
        created,
        publish(created),
    );
    if let Some(at) = cancelled_at {
        push_outbox(ds, plan, booking_id, "booking.cancelled", at, publish(at));
    }
    if created >= g.now - Duration::hours(48) {
        push_idempotency_key(ds, g, plan, booking_id);
    }
}

/// The payments of a booking, by its status, with the provider's webhook events.
fn random_payments(
    ds: &mut Dataset,
    g: &mut Gen,
    plan: &TenantPlan,
    booking: &NewBooking,
    booking_id: i64,
) {
    let amount = plan.shape.services[booking.service].price_cents * i64::from(booking.quantity);
    if amount == 0 {
        return;
    }
    let method_id = TenantPlan::default_method(ds, booking.customer_id);
    let created = booking.created + Duration::minutes(3);
    let pay = |ds: &mut Dataset,
               g: &mut Gen,
               status: &'static str,
               refunded: i64,
               failure: Option<&'static str>,
               at: Ts,
               updated: Ts| {
        let paid_at = matches!(status, "succeeded" | "refunded").then_some(at);
        let id = push_payment(
            ds,
            g,
            plan,
            &NewPayment {
                booking_id,
                method_id,
                status,
                amount,
                refunded,
                failure,
                created: at,
                paid_at,
                updated,
            },
        );
        if matches!(status, "succeeded" | "refunded" | "failed") {
            let roll: f64 = g.rng.random();
            let delivery = if roll < 0.97 {
                Delivery {
                    status: "processed",
                    attempts: 1,
                    error: None,
                    received: updated + Duration::seconds(2),
                }
            } else if roll < 0.99 {
                Delivery {
                    status: "failed",
                    attempts: 3,
                    error: Some("ledger service timed out"),
                    received: updated + Duration::seconds(2),
                }
            } else {
                Delivery {
                    status: "received",
                    attempts: 1,
                    error: None,
                    received: updated + Duration::seconds(2),
                }
            };
            push_webhook(ds, plan, id, &delivery);
        }
    };
    match booking.status {
        "cancelled" => {
            if g.rng.random_bool(0.6) {
                let refunded = if g.rng.random_bool(0.3) {
                    amount / 2
                } else {
                    amount
                };
                let at = booking.cancelled_at.unwrap_or(created) + Duration::minutes(5);
                pay(ds, g, "refunded", refunded, None, created, at);
            }
        }
        "pending" => {
            if g.rng.random_bool(0.5) {
                pay(ds, g, "pending", 0, None, created, created);
            }
        }
        _ => {
            if g.rng.random_bool(0.06) {
                const FAILURES: [&str; 3] = ["card_declined", "insufficient_funds", "expired_card"];
                let failure = FAILURES[g.rng.random_range(0..FAILURES.len())];
                pay(ds, g, "failed", 0, Some(failure), created, created);
            }
            let at = created + Duration::minutes(2);
            if booking.status == "confirmed" && g.rng.random_bool(0.15) {
                pay(ds, g, "authorized", 0, None, at, at);
            } else {
                pay(ds, g, "succeeded", 0, None, at, at);
            }
        }
    }
}

/// What a business does besides bookings: setting itself up (audit entries) and provider
/// events it has no use for (ignored webhooks).
pub(crate) fn background(ds: &mut Dataset, g: &mut Gen, tenants: &[TenantPlan]) {
    for plan in tenants {
        let tenant = &ds.tenants[usize::try_from(plan.id - 1).unwrap_or(0)];
        let created = tenant.created_at;
        push_audit(
            ds,
            plan,
            Some(plan.owner_id),
            "tenant.created",
            "tenant",
            Some(plan.id),
            Some(json!({ "slug": plan.slug, "business_type": plan.shape.business_type })),
            created,
        );
        for (n, service_id) in plan.services.iter().enumerate() {
            push_audit(
                ds,
                plan,
                Some(plan.owner_id),
                "service.created",
                "service",
                Some(*service_id),
                Some(json!({ "name": plan.shape.services[n].name })),
                created + Duration::days(1),
            );
        }
        for n in 0..2 {
            let id = next_id(&ds.webhook_events);
            let received = g.now - Duration::hours(g.rng.random_range(1..240));
            let event_id = format!("evt_{id:010}");
            ds.webhook_events.push(webhook_events::Model {
                id,
                tenant_id: plan.id,
                provider: "stripe".to_owned(),
                payload: json!({
                    "id": event_id,
                    "type": "customer.updated",
                    "created": received.timestamp(),
                    "data": { "object": { "id": format!("cus_{}", hex(g, 7)), "n": n } },
                }),
                event_id,
                event_type: "customer.updated".to_owned(),
                payment_id: None,
                status: "ignored".to_owned(),
                attempts: 1,
                processed_at: Some(received + Duration::seconds(1)),
                error: None,
                received_at: received,
                created_at: received,
                updated_at: received + Duration::seconds(1),
            });
        }
    }
}

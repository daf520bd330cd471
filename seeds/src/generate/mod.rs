//! Generating every row in memory, in a fixed order, with explicit ids.
//!
//! The rows depend only on [`Params`]: a ChaCha generator (stable across platforms and
//! releases, unlike `StdRng`) is seeded from the seed and the block number, and every time is a
//! whole second in UTC at a fixed offset from midnight at the start of `today`. A row's id is
//! its position in its table, so the same parameters give the same ids too.
//!
//! The demo is one *block*: four businesses (see [`shape`]). `load --scale N` generates N
//! blocks one after the other; block 0 is the demo itself, with the same ids. Each block starts
//! every table it touches with its scenario rows ([`fixtures`]), whose counts never depend on
//! the seed or the date, so the scenarios' ids are stable.

mod activity;
mod calendar;
mod fixtures;
mod minimal;
pub(crate) mod shape;
mod structure;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime};
use entity::{
    audit_logs, booking_cancellations, booking_items, bookings, business_hours, cancel_reasons,
    customers, holidays, idempotency_keys, notifications, outbox_events, payment_methods, payments,
    resource_time_offs, resources, schedules, service_resources, services, tenants, timeslots,
    user_resources, users, webhook_events,
};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::profile::{Params, Profile};
use crate::table::Table;

/// A timestamp as the entities hold it.
pub(crate) type Ts = DateTime<FixedOffset>;

/// Every generated row, one vector per table, each in id order (row `i` has id `i + 1`).
#[derive(Debug, Default, Clone)]
#[allow(missing_docs)]
pub struct Dataset {
    pub tenants: Vec<tenants::Model>,
    pub users: Vec<users::Model>,
    pub cancel_reasons: Vec<cancel_reasons::Model>,
    pub customers: Vec<customers::Model>,
    pub services: Vec<services::Model>,
    pub resources: Vec<resources::Model>,
    pub service_resources: Vec<service_resources::Model>,
    pub user_resources: Vec<user_resources::Model>,
    pub schedules: Vec<schedules::Model>,
    pub business_hours: Vec<business_hours::Model>,
    pub holidays: Vec<holidays::Model>,
    pub resource_time_offs: Vec<resource_time_offs::Model>,
    pub timeslots: Vec<timeslots::Model>,
    pub bookings: Vec<bookings::Model>,
    pub booking_items: Vec<booking_items::Model>,
    pub booking_cancellations: Vec<booking_cancellations::Model>,
    pub payment_methods: Vec<payment_methods::Model>,
    pub payments: Vec<payments::Model>,
    pub webhook_events: Vec<webhook_events::Model>,
    pub notifications: Vec<notifications::Model>,
    pub outbox_events: Vec<outbox_events::Model>,
    pub audit_logs: Vec<audit_logs::Model>,
    pub idempotency_keys: Vec<idempotency_keys::Model>,
}

impl Dataset {
    /// Every table in load order: each after the tables it refers to.
    pub fn tables(&self) -> [&dyn Table; 23] {
        [
            &self.tenants,
            &self.users,
            &self.cancel_reasons,
            &self.customers,
            &self.services,
            &self.resources,
            &self.service_resources,
            &self.user_resources,
            &self.schedules,
            &self.business_hours,
            &self.holidays,
            &self.resource_time_offs,
            &self.timeslots,
            &self.bookings,
            &self.booking_items,
            &self.booking_cancellations,
            &self.payment_methods,
            &self.payments,
            &self.webhook_events,
            &self.notifications,
            &self.outbox_events,
            &self.audit_logs,
            &self.idempotency_keys,
        ]
    }

    /// How many rows in all.
    pub fn row_count(&self) -> u64 {
        self.tables().iter().map(|t| t.len() as u64).sum()
    }
}

/// The seeded tables in load order (parents first); [`crate::truncate`] empties them in reverse.
pub fn table_names() -> [&'static str; 23] {
    Dataset::default().tables().map(|t| t.name())
}

/// Generates the rows of `params`.
pub fn generate(params: &Params) -> Dataset {
    let mut ds = Dataset::default();
    match params.profile {
        Profile::Minimal => minimal::generate(&mut ds, &mut Gen::new(params, 0)),
        Profile::Demo => block(&mut ds, &mut Gen::new(params, 0)),
        Profile::Load => {
            for b in 0..params.scale.max(1) {
                block(&mut ds, &mut Gen::new(params, b));
            }
        }
    }
    ds
}

/// One demo block: the structure of its four businesses, their calendars, the scenario rows,
/// then a month of bookings and everything that follows from them.
fn block(ds: &mut Dataset, g: &mut Gen) {
    let tenants: Vec<structure::TenantPlan> = shape::SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| structure::tenant(ds, g, i, s))
        .collect();
    let mut cal = calendar::build(ds, g, &tenants);
    fixtures::add(ds, g, &tenants, &mut cal);
    activity::bookings(ds, g, &tenants, &mut cal);
    activity::background(ds, g, &tenants);
    cal.settle(ds);
}

/// The generator's state for one block: its random numbers and its clock.
pub(crate) struct Gen {
    pub rng: ChaCha8Rng,
    pub today: NaiveDate,
    /// Midnight UTC at the start of `today`: "now" for the data.
    pub now: Ts,
    /// Which block (0 for the demo); names of later blocks carry `#block+1`.
    pub block: u32,
}

impl Gen {
    fn new(params: &Params, block: u32) -> Self {
        // Each block draws from its own stream, so block 0 is the same at every scale.
        let mut hasher = Sha256::new();
        hasher.update(b"seeds/v1");
        hasher.update(params.seed.to_le_bytes());
        hasher.update(block.to_le_bytes());
        let seed: [u8; 32] = hasher.finalize().into();
        Self {
            rng: ChaCha8Rng::from_seed(seed),
            today: params.today,
            now: at(params.today, 0, 0),
            block,
        }
    }

    /// `today + days` at `hour:minute` UTC.
    pub fn day_at(&self, days: i64, hour: u32, minute: u32) -> Ts {
        at(self.today + Duration::days(days), hour, minute)
    }
}

/// `day` at `hour:minute` UTC, as the entities store timestamps.
pub(crate) fn at(day: NaiveDate, hour: u32, minute: u32) -> Ts {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time).and_utc().fixed_offset()
}

/// The id the next row pushed onto `rows` will have.
pub(crate) fn next_id<T>(rows: &[T]) -> i64 {
    i64::try_from(rows.len()).unwrap_or(i64::MAX - 1) + 1
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::hash::of_dataset;
    use crate::scenarios as s;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default() + Duration::days(n)
    }

    fn params(profile: Profile, seed: u64, today: NaiveDate) -> Params {
        Params {
            profile,
            seed,
            scale: 1,
            today,
        }
    }

    #[test]
    fn the_same_parameters_give_the_same_rows_and_a_new_seed_other_rows() {
        let a = generate(&params(Profile::Demo, 7, day(0)));
        let b = generate(&params(Profile::Demo, 7, day(0)));
        let c = generate(&params(Profile::Demo, 8, day(0)));
        assert_eq!(of_dataset(&a), of_dataset(&b));
        assert_ne!(of_dataset(&a), of_dataset(&c));
        assert_eq!(
            a.tenants, c.tenants,
            "structure does not depend on the seed"
        );
    }

    #[test]
    fn the_first_block_of_load_is_the_demo() {
        let demo = generate(&params(Profile::Demo, 42, day(0)));
        let load = generate(&Params {
            scale: 2,
            ..params(Profile::Load, 42, day(0))
        });
        for (d, l) in demo.tables().iter().zip(load.tables()) {
            for i in 0..d.len() {
                assert_eq!(d.row(i), l.row(i), "{} row {i}", d.name());
            }
            assert!(l.len() > d.len() || d.is_empty(), "{}", d.name());
        }
    }

    #[test]
    fn a_demo_has_over_ten_thousand_timeslots_whatever_the_weekday() {
        for n in 0..7 {
            let ds = generate(&params(Profile::Demo, 42, day(n)));
            assert!(
                ds.timeslots.len() >= 10_000,
                "{} on {}",
                ds.timeslots.len(),
                day(n)
            );
        }
    }

    #[test]
    fn no_slot_is_overbooked_and_booked_count_is_what_the_triggers_will_compute() {
        let ds = generate(&params(Profile::Demo, 3, day(2)));
        let mut held: HashMap<i64, i32> = HashMap::new();
        for item in ds.booking_items.iter().filter(|i| i.released_at.is_none()) {
            *held.entry(item.timeslot_id).or_default() += item.quantity;
        }
        for slot in &ds.timeslots {
            let h = held.get(&slot.id).copied().unwrap_or(0);
            assert_eq!(slot.booked_count, h, "slot {}", slot.id);
            assert!(
                h <= slot.capacity,
                "slot {} holds {h} of {}",
                slot.id,
                slot.capacity
            );
        }
    }

    #[test]
    fn unique_keys_of_the_schema_hold() {
        let ds = generate(&Params {
            scale: 2,
            ..params(Profile::Load, 5, day(4))
        });
        let mut seen = HashSet::new();
        assert!(
            ds.timeslots
                .iter()
                .all(|t| seen.insert((t.resource_id, t.start_at)))
        );
        let mut seen = HashSet::new();
        assert!(ds.bookings.iter().all(|b| seen.insert(b.reference.clone())));
        let mut seen = HashSet::new();
        assert!(
            ds.payments
                .iter()
                .all(|p| seen.insert(p.provider_payment_id.clone()))
        );
        let mut seen = HashSet::new();
        assert!(
            ds.webhook_events
                .iter()
                .all(|w| seen.insert(w.event_id.clone()))
        );
        let mut seen = HashSet::new();
        assert!(
            ds.customers
                .iter()
                .all(|c| c.email.is_none() || seen.insert((c.tenant_id, c.email.clone())))
        );
        let mut seen = HashSet::new();
        assert!(
            ds.users
                .iter()
                .all(|u| seen.insert((u.tenant_id, u.email.clone())))
        );
        let mut seen = HashSet::new();
        assert!(ds.tenants.iter().all(|t| seen.insert(t.slug.clone())));
        let mut seen = HashSet::new();
        assert!(
            ds.idempotency_keys
                .iter()
                .all(|k| seen.insert(k.idempotency_key.clone()))
        );
        for (i, b) in ds.bookings.iter().enumerate() {
            assert_eq!(b.id, i as i64 + 1);
            assert!(b.end_at > b.start_at && b.created_at <= b.start_at);
        }
    }

    #[test]
    fn every_status_appears() {
        let ds = generate(&params(Profile::Demo, 42, day(0)));
        let statuses: HashSet<&str> = ds.bookings.iter().map(|b| b.status.as_str()).collect();
        for status in ["pending", "confirmed", "cancelled", "completed", "no_show"] {
            assert!(statuses.contains(status), "{status}");
        }
        let statuses: HashSet<&str> = ds.payments.iter().map(|p| p.status.as_str()).collect();
        for status in ["pending", "authorized", "succeeded", "failed", "refunded"] {
            assert!(statuses.contains(status), "{status}");
        }
        let tables = ds.tables();
        assert!(tables.iter().all(|t| !t.is_empty()), "every table has rows");
    }

    #[test]
    fn the_scenarios_keep_their_ids_whatever_the_seed_or_the_date() {
        for (seed, n) in [
            (42, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (5, 5),
            (6, 6),
            (7, 13),
        ] {
            let p = params(Profile::Demo, seed, day(n));
            let ds = generate(&p);
            let now = at(p.today, 0, 0);
            let at_id = |id: i64| usize::try_from(id - 1).unwrap_or(0);

            let slot = &ds.timeslots[at_id(s::FULLY_BOOKED_TIMESLOT)];
            assert_eq!((slot.capacity, slot.booked_count), (12, 12));
            assert_eq!(slot.resource_id, s::FULL_CLASS_RESOURCE);
            assert_eq!(slot.start_at, at(p.today + Duration::days(1), 18, 0));
            for b in s::FULL_CLASS_BOOKINGS {
                let item = ds.booking_items.iter().find(|i| i.booking_id == b);
                assert_eq!(item.map(|i| i.timeslot_id), Some(s::FULLY_BOOKED_TIMESLOT));
            }

            let tomorrow = p.today + Duration::days(1);
            let bistro: Vec<_> = ds
                .timeslots
                .iter()
                .filter(|t| t.tenant_id == s::NO_AVAILABILITY_TOMORROW_TENANT)
                .filter(|t| t.start_at.date_naive() == tomorrow)
                .collect();
            assert!(!bistro.is_empty() && bistro.iter().all(|t| t.status == "blocked"));

            let off = &ds.resource_time_offs[at_id(s::TIME_OFF)];
            assert_eq!(off.resource_id, s::TIME_OFF_RESOURCE);
            let held_during_leave = ds.booking_items.iter().any(|i| {
                let t = &ds.timeslots[at_id(i.timeslot_id)];
                i.resource_id == s::TIME_OFF_RESOURCE
                    && t.start_at < off.end_at
                    && t.end_at > off.start_at
            });
            assert!(!held_during_leave);

            let holiday = &ds.holidays[at_id(s::HOLIDAY)];
            assert_eq!(holiday.day, p.today + Duration::days(s::HOLIDAY_IN_DAYS));
            assert!(!ds.timeslots.iter().any(
                |t| t.tenant_id == holiday.tenant_id && t.start_at.date_naive() == holiday.day
            ));

            let cancelled = &ds.bookings[at_id(s::CANCELLED_BOOKING)];
            assert_eq!(cancelled.status, "cancelled");
            let c = &ds.booking_cancellations[at_id(s::CANCELLATION)];
            assert_eq!(
                (c.booking_id, c.cancel_reason_id),
                (1, Some(s::CANCEL_REASON))
            );
            assert_eq!(ds.cancel_reasons[at_id(s::CANCEL_REASON)].code, "illness");

            let refund = &ds.payments[at_id(s::REFUNDED_PAYMENT)];
            assert_eq!(refund.status, "refunded");
            assert_eq!(refund.refunded_cents, refund.amount_cents);
            let failed = &ds.payments[at_id(s::FAILED_PAYMENT)];
            assert_eq!(failed.status, "failed");
            assert_eq!(failed.booking_id, s::DECLINED_THEN_PAID_BOOKING);

            let hook = &ds.webhook_events[at_id(s::WEBHOOK_DELIVERED_TWICE)];
            assert_eq!((hook.attempts, hook.status.as_str()), (2, "processed"));
            assert_eq!(hook.payment_id, Some(s::REFUNDED_PAYMENT));
            let audit = &ds.audit_logs[at_id(s::DUPLICATE_DELIVERY_AUDIT)];
            assert_eq!(audit.entity_id, Some(s::WEBHOOK_DELIVERED_TWICE));

            let key = &ds.idempotency_keys[at_id(s::EXPIRED_IDEMPOTENCY_KEY)];
            assert!(key.expires_at < now);
        }
    }

    #[test]
    fn minimal_has_one_of_each_and_a_week_of_slots() {
        let ds = generate(&params(Profile::Minimal, 42, day(0)));
        assert_eq!(
            (
                ds.tenants.len(),
                ds.users.len(),
                ds.services.len(),
                ds.resources.len()
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(ds.timeslots.len(), 7 * 16);
        assert!(ds.bookings.is_empty());
    }
}

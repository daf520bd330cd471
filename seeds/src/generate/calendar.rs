//! Timeslots: every active resource's opening hours cut into slots over the window, and the
//! places the generated bookings hold in each, so no booking exceeds a slot's capacity (the
//! database would refuse it) and `booked_count` can be predicted for the content hash.

use chrono::{Datelike, Duration, Timelike};
use entity::timeslots;

use super::shape::{FITNESS_INDEX, Shape};
use super::structure::{TenantPlan, hours_on};
use super::{Dataset, Gen, Ts, at, next_id};

/// The days with timeslots, relative to today: ten days back, twenty ahead.
pub(crate) const WINDOW: std::ops::Range<i64> = -10..20;

/// The full class of the scenarios: the fitness studio's second room, tomorrow at 18:00.
pub(crate) const FULL_CLASS: (usize, usize, i64, u32) = (FITNESS_INDEX, 1, 1, 18);

/// What the booking generator needs to know about one slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotMeta {
    /// Index of the business in the block.
    pub tenant: usize,
    /// Index of the resource in its business's shape.
    pub resource: usize,
    /// Open, and not during its resource's time off.
    pub bookable: bool,
}

/// The block's slots, in the order pushed onto `ds.timeslots`.
pub(crate) struct Calendar {
    /// Index in `ds.timeslots` of the block's first slot.
    pub first: usize,
    pub meta: Vec<SlotMeta>,
    /// Places held per slot (items not released).
    pub held: Vec<i32>,
    /// Index in `ds.timeslots` of the full class.
    pub full_class: usize,
}

impl Calendar {
    /// Places still free in slot `index` (an index into `ds.timeslots`).
    pub fn free(&self, ds: &Dataset, index: usize) -> i32 {
        ds.timeslots[index].capacity - self.held[index - self.first]
    }

    /// Holds `quantity` places in slot `index`.
    pub fn hold(&mut self, index: usize, quantity: i32) {
        self.held[index - self.first] += quantity;
    }

    /// The slot metadata of `index`.
    pub fn meta(&self, index: usize) -> SlotMeta {
        self.meta[index - self.first]
    }

    /// The block's slot indexes.
    pub fn indexes(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.meta.len()
    }

    /// The first bookable slot of a resource starting at or after `not_before`.
    pub fn first_bookable(
        &self,
        ds: &Dataset,
        tenant: usize,
        resource: usize,
        not_before: Ts,
    ) -> Option<usize> {
        self.indexes().find(|&i| {
            let m = self.meta(i);
            m.tenant == tenant
                && m.resource == resource
                && m.bookable
                && ds.timeslots[i].start_at >= not_before
        })
    }

    /// Whether slot `next` directly follows slot `index` on the same resource.
    pub fn follows(&self, ds: &Dataset, index: usize, next: usize) -> bool {
        next < self.first + self.meta.len()
            && self.meta(next).tenant == self.meta(index).tenant
            && self.meta(next).resource == self.meta(index).resource
            && ds.timeslots[next].start_at == ds.timeslots[index].end_at
    }

    /// Writes the places held into `booked_count`: what the database's triggers will compute.
    pub fn settle(&self, ds: &mut Dataset) {
        for (offset, held) in self.held.iter().enumerate() {
            ds.timeslots[self.first + offset].booked_count = *held;
        }
    }
}

/// Generates the block's timeslots: the full class first, then every resource's slots in
/// order of business, resource, day and time.
pub(crate) fn build(ds: &mut Dataset, g: &Gen, tenants: &[TenantPlan]) -> Calendar {
    let mut cal = Calendar {
        first: ds.timeslots.len(),
        meta: Vec::new(),
        held: Vec::new(),
        full_class: ds.timeslots.len(),
    };
    let created = g.day_at(-40, 2, 0);
    let (class_tenant, class_resource, class_day, class_hour) = FULL_CLASS;
    let class_start = g.day_at(class_day, class_hour, 0);
    push(
        ds,
        &mut cal,
        g,
        (class_tenant, &tenants[class_tenant]),
        class_resource,
        class_start,
        created,
    );
    for (t, plan) in tenants.iter().enumerate() {
        for (r, resource) in plan.shape.resources.iter().enumerate() {
            if !resource.active {
                continue;
            }
            for offset in WINDOW {
                if plan.closed_days.contains(&offset) {
                    continue;
                }
                let day = g.today + Duration::days(offset);
                let weekday = u8::try_from(day.weekday().num_days_from_sunday()).unwrap_or(0);
                for (open, close) in hours_on(plan.shape, resource, weekday) {
                    let mut minute = i64::from(open);
                    while minute + plan.shape.slot_minutes <= i64::from(close) {
                        let start = at(day, 0, 0) + Duration::minutes(minute);
                        minute += plan.shape.slot_minutes;
                        let is_full_class =
                            (t, r) == (class_tenant, class_resource) && start == class_start;
                        if !is_full_class {
                            push(ds, &mut cal, g, (t, plan), r, start, created);
                        }
                    }
                }
            }
        }
    }
    cal
}

/// Pushes one slot and its metadata.
fn push(
    ds: &mut Dataset,
    cal: &mut Calendar,
    g: &Gen,
    (t, plan): (usize, &TenantPlan),
    r: usize,
    start: Ts,
    created: Ts,
) {
    let shape: &Shape = plan.shape;
    let resource = &shape.resources[r];
    let end = start + Duration::minutes(shape.slot_minutes);
    let offset = (start.date_naive() - g.today).num_days();
    let blocked = shape.blocked_day == Some(offset);
    let class = Shape::is_class(resource);
    // A class slot holds one of the room's classes, in rotation by hour; other slots take any
    // service their resource offers.
    let service_id = class.then(|| {
        let hour = usize::try_from(start.time().hour()).unwrap_or(0);
        plan.services[resource.offers[hour % resource.offers.len().max(1)]]
    });
    let on_leave = plan
        .time_offs
        .iter()
        .any(|(tr, from, to)| *tr == r && *from < end && *to > start);
    let id = next_id(&ds.timeslots);
    ds.timeslots.push(timeslots::Model {
        id,
        tenant_id: plan.id,
        resource_id: plan.resources[r],
        service_id,
        start_at: start,
        end_at: end,
        capacity: if class { resource.capacity } else { 1 },
        booked_count: 0,
        status: if blocked { "blocked" } else { "open" }.to_owned(),
        created_at: created,
        updated_at: created,
    });
    cal.meta.push(SlotMeta {
        tenant: t,
        resource: r,
        bookable: !blocked && !on_leave,
    });
    cal.held.push(0);
}

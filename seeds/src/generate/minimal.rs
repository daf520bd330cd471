//! The `minimal` profile: one tenant, user, service, resource and customer, and a week of
//! half-hour timeslots from today, every day 09:00–17:00 UTC. Enough to make a booking.

use chrono::{Duration, NaiveTime};
use entity::{
    business_hours, customers, resources, schedules, service_resources, services, tenants,
    timeslots, user_resources, users,
};

use super::{Dataset, Gen, at};

/// Days of timeslots, from today.
const DAYS: i64 = 7;

/// Writes the minimal profile.
pub(crate) fn generate(ds: &mut Dataset, g: &mut Gen) {
    let created = g.day_at(-30, 9, 0);
    ds.tenants.push(tenants::Model {
        id: 1,
        slug: "minimal".to_owned(),
        name: "Minimal Studio".to_owned(),
        business_type: "other".to_owned(),
        timezone: "UTC".to_owned(),
        status: "active".to_owned(),
        created_at: created,
        updated_at: created,
    });
    ds.users.push(users::Model {
        id: 1,
        tenant_id: 1,
        email: "owner@minimal.example".to_owned(),
        name: "Alex Morgan".to_owned(),
        role: "owner".to_owned(),
        password_hash: None,
        active: true,
        last_login_at: None,
        created_at: created,
        updated_at: created,
    });
    ds.customers.push(customers::Model {
        id: 1,
        tenant_id: 1,
        name: "Sam Taylor".to_owned(),
        email: Some("sam.taylor@example.test".to_owned()),
        phone: Some("+1-202-555-0100".to_owned()),
        notes: None,
        created_at: created,
        updated_at: created,
    });
    ds.services.push(services::Model {
        id: 1,
        tenant_id: 1,
        name: "Consultation".to_owned(),
        description: Some("Thirty minutes one to one".to_owned()),
        duration_minutes: 30,
        buffer_minutes: 0,
        price_cents: 5000,
        currency: "USD".to_owned(),
        active: true,
        created_at: created,
        updated_at: created,
    });
    ds.resources.push(resources::Model {
        id: 1,
        tenant_id: 1,
        kind: "staff".to_owned(),
        name: "Alex".to_owned(),
        capacity: 1,
        active: true,
        created_at: created,
        updated_at: created,
    });
    ds.service_resources.push(service_resources::Model {
        id: 1,
        tenant_id: 1,
        service_id: 1,
        resource_id: 1,
        active: true,
        created_at: created,
        updated_at: created,
    });
    ds.user_resources.push(user_resources::Model {
        id: 1,
        tenant_id: 1,
        user_id: 1,
        resource_id: 1,
        created_at: created,
    });
    ds.schedules.push(schedules::Model {
        id: 1,
        tenant_id: 1,
        resource_id: None,
        name: "Regular hours".to_owned(),
        valid_from: g.today - Duration::days(30),
        valid_until: None,
        created_at: created,
        updated_at: created,
    });
    let (open, close) = (9, 17);
    for day in 0..7_i16 {
        ds.business_hours.push(business_hours::Model {
            id: i64::from(day) + 1,
            tenant_id: 1,
            schedule_id: 1,
            day_of_week: day,
            open_time: NaiveTime::from_hms_opt(open, 0, 0).unwrap_or(NaiveTime::MIN),
            close_time: NaiveTime::from_hms_opt(close, 0, 0).unwrap_or(NaiveTime::MIN),
            created_at: created,
            updated_at: created,
        });
    }
    let slots_created = g.day_at(-1, 2, 0);
    for day in 0..DAYS {
        let date = g.today + Duration::days(day);
        for half_hour in 0..i64::from((close - open) * 2) {
            let start = at(date, open, 0) + Duration::minutes(30 * half_hour);
            let id = super::next_id(&ds.timeslots);
            ds.timeslots.push(timeslots::Model {
                id,
                tenant_id: 1,
                resource_id: 1,
                service_id: None,
                start_at: start,
                end_at: start + Duration::minutes(30),
                capacity: 1,
                booked_count: 0,
                status: "open".to_owned(),
                created_at: slots_created,
                updated_at: slots_created,
            });
        }
    }
}

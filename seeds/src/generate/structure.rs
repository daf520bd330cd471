//! A business's standing data: the tenant, its staff accounts, cancel reasons, customers,
//! services, resources and their links, opening hours, holidays, time off and stored cards.
//!
//! Row counts here never depend on the seed or the date (only names, phones and the like do),
//! which keeps every later id stable.

use chrono::{Duration, NaiveTime};
use entity::{
    business_hours, cancel_reasons, customers, holidays, payment_methods, resource_time_offs,
    resources, schedules, service_resources, services, tenants, user_resources, users,
};
use fake::Fake;
use fake::faker::lorem::en::Sentence;
use fake::faker::name::en::{FirstName, LastName};
use rand::RngExt;

use super::shape::{CANCEL_REASONS, Hours, ResourceShape, Shape};
use super::{Dataset, Gen, Ts, next_id};

/// Customers per business in the demo.
pub(crate) const CUSTOMERS_PER_TENANT: usize = 120;

/// What later steps need to know about one generated business.
pub(crate) struct TenantPlan {
    pub shape: &'static Shape,
    pub id: i64,
    pub slug: String,
    pub owner_id: i64,
    pub admin_id: i64,
    /// Customer ids, first to last.
    pub customers: std::ops::RangeInclusive<i64>,
    /// Service id per service of the shape.
    pub services: Vec<i64>,
    /// Resource id per resource of the shape.
    pub resources: Vec<i64>,
    /// Cancel reason id per entry of [`CANCEL_REASONS`].
    pub cancel_reasons: Vec<i64>,
    /// Days closed, as offsets from today.
    pub closed_days: Vec<i64>,
    /// `(resource index, from, to)` of every time off.
    pub time_offs: Vec<(usize, Ts, Ts)>,
}

impl TenantPlan {
    /// The default stored card of a customer, if any.
    pub fn default_method(ds: &Dataset, customer_id: i64) -> Option<i64> {
        // Stored cards are few and in customer order: a binary search finds the first.
        let at = ds
            .payment_methods
            .partition_point(|m| m.customer_id < customer_id);
        ds.payment_methods
            .get(at)
            .filter(|m| m.customer_id == customer_id && m.is_default)
            .map(|m| m.id)
    }
}

/// Lower-case letters, digits and dots only: a name made fit for an e-mail address.
pub(crate) fn mailbox(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('.') {
            out.push('.');
        }
    }
    out.trim_end_matches('.').to_owned()
}

fn time(hm: (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(hm.0, hm.1, 0).unwrap_or(NaiveTime::MIN)
}

/// Generates business `index` of the block from `shape`.
pub(crate) fn tenant(
    ds: &mut Dataset,
    g: &mut Gen,
    index: usize,
    shape: &'static Shape,
) -> TenantPlan {
    let (slug, name) = if g.block == 0 {
        (shape.slug.to_owned(), shape.name.to_owned())
    } else {
        (
            format!("{}-{}", shape.slug, g.block + 1),
            format!("{} #{}", shape.name, g.block + 1),
        )
    };
    let index = i64::try_from(index).unwrap_or(0);
    let created = g.day_at(-400, 9, 0) + Duration::hours(index);
    let id = next_id(&ds.tenants);
    ds.tenants.push(tenants::Model {
        id,
        slug: slug.clone(),
        name,
        business_type: shape.business_type.to_owned(),
        timezone: "UTC".to_owned(),
        status: "active".to_owned(),
        created_at: created,
        updated_at: created,
    });
    let domain = format!("{slug}.example");
    let setup = created + Duration::days(1);

    let user = |ds: &mut Dataset, g: &mut Gen, mailbox_name: &str, name: &str, role: &str| {
        let user_id = next_id(&ds.users);
        let last_login = g
            .rng
            .random_bool(0.7)
            .then(|| g.now - Duration::minutes(g.rng.random_range(30..7 * 24 * 60)));
        ds.users.push(users::Model {
            id: user_id,
            tenant_id: id,
            email: format!("{mailbox_name}@{domain}"),
            name: name.to_owned(),
            role: role.to_owned(),
            password_hash: None,
            active: true,
            last_login_at: last_login,
            created_at: setup,
            updated_at: setup,
        });
        user_id
    };
    let owner_id = user(ds, g, "owner", shape.owner, "owner");
    let admin_id = user(ds, g, "frontdesk", "Front desk", "admin");
    let staff_users: Vec<Option<i64>> = shape
        .resources
        .iter()
        .map(|r| (r.kind == "staff").then(|| user(ds, g, &mailbox(r.name), r.name, "staff")))
        .collect();

    let cancel_reasons: Vec<i64> = CANCEL_REASONS
        .iter()
        .enumerate()
        .map(|(order, (code, label, active))| {
            let reason_id = next_id(&ds.cancel_reasons);
            ds.cancel_reasons.push(cancel_reasons::Model {
                id: reason_id,
                tenant_id: id,
                code: (*code).to_owned(),
                label: (*label).to_owned(),
                active: *active,
                sort_order: i32::try_from(order).unwrap_or(0) * 10,
                created_at: setup,
                updated_at: setup,
            });
            reason_id
        })
        .collect();

    let customers = add_customers(ds, g, id, setup);

    let services: Vec<i64> = shape
        .services
        .iter()
        .map(|s| {
            let sid = next_id(&ds.services);
            ds.services.push(services::Model {
                id: sid,
                tenant_id: id,
                name: s.name.to_owned(),
                description: Some(s.description.to_owned()),
                duration_minutes: i32::try_from(s.minutes).unwrap_or(60),
                buffer_minutes: 0,
                price_cents: s.price_cents,
                currency: shape.currency.to_owned(),
                active: true,
                created_at: setup,
                updated_at: setup,
            });
            sid
        })
        .collect();

    let resources: Vec<i64> = shape
        .resources
        .iter()
        .map(|r| {
            let rid = next_id(&ds.resources);
            ds.resources.push(resources::Model {
                id: rid,
                tenant_id: id,
                kind: r.kind.to_owned(),
                name: r.name.to_owned(),
                capacity: r.capacity,
                active: r.active,
                created_at: setup,
                updated_at: setup,
            });
            rid
        })
        .collect();

    for (r, resource) in shape.resources.iter().enumerate() {
        for s in resource.offers {
            let lid = next_id(&ds.service_resources);
            ds.service_resources.push(service_resources::Model {
                id: lid,
                tenant_id: id,
                service_id: services[*s],
                resource_id: resources[r],
                active: true,
                created_at: setup,
                updated_at: setup,
            });
        }
    }
    for (r, user_id) in staff_users.iter().enumerate() {
        if let Some(user_id) = user_id {
            let lid = next_id(&ds.user_resources);
            ds.user_resources.push(user_resources::Model {
                id: lid,
                tenant_id: id,
                user_id: *user_id,
                resource_id: resources[r],
                created_at: setup,
            });
        }
    }

    add_schedule(ds, g, id, None, "Regular hours", shape.hours, 365, setup);
    for (r, resource) in shape.resources.iter().enumerate() {
        if let Some(hours) = resource.hours {
            let name = format!("{} part-time", resource.name);
            add_schedule(ds, g, id, Some(resources[r]), &name, hours, 90, setup);
        }
    }

    for (offset, name) in shape.holidays {
        let hid = next_id(&ds.holidays);
        ds.holidays.push(holidays::Model {
            id: hid,
            tenant_id: id,
            day: g.today + Duration::days(*offset),
            name: (*name).to_owned(),
            created_at: setup,
            updated_at: setup,
        });
    }

    let mut time_offs = Vec::new();
    for off in shape.time_offs {
        let from = g.day_at(off.from.0, off.from.1, 0);
        let to = g.day_at(off.to.0, off.to.1, 0);
        let created = (from - Duration::days(14)).min(g.now - Duration::days(1));
        let tid = next_id(&ds.resource_time_offs);
        ds.resource_time_offs.push(resource_time_offs::Model {
            id: tid,
            tenant_id: id,
            resource_id: resources[off.resource],
            start_at: from,
            end_at: to,
            reason: Some(off.reason.to_owned()),
            created_at: created,
            updated_at: created,
        });
        time_offs.push((off.resource, from, to));
    }

    add_payment_methods(ds, g, id, customers.clone());

    TenantPlan {
        shape,
        id,
        slug,
        owner_id,
        admin_id,
        customers,
        services,
        resources,
        cancel_reasons,
        closed_days: shape.holidays.iter().map(|(d, _)| *d).collect(),
        time_offs,
    }
}

/// A schedule and its weekly hours.
#[allow(clippy::too_many_arguments)]
fn add_schedule(
    ds: &mut Dataset,
    g: &Gen,
    tenant_id: i64,
    resource_id: Option<i64>,
    name: &str,
    hours: &[Hours],
    since_days: i64,
    created: Ts,
) {
    let schedule_id = next_id(&ds.schedules);
    ds.schedules.push(schedules::Model {
        id: schedule_id,
        tenant_id,
        resource_id,
        name: name.to_owned(),
        valid_from: g.today - Duration::days(since_days),
        valid_until: None,
        created_at: created,
        updated_at: created,
    });
    for h in hours {
        for day in h.days {
            let id = next_id(&ds.business_hours);
            ds.business_hours.push(business_hours::Model {
                id,
                tenant_id,
                schedule_id,
                day_of_week: i16::from(*day),
                open_time: time(h.open),
                close_time: time(h.close),
                created_at: created,
                updated_at: created,
            });
        }
    }
}

/// The customers of a tenant: random names, fictional phone numbers (555-01xx), and an e-mail
/// address under `example.test` for most.
fn add_customers(
    ds: &mut Dataset,
    g: &mut Gen,
    tenant_id: i64,
    since: Ts,
) -> std::ops::RangeInclusive<i64> {
    let first_id = next_id(&ds.customers);
    for n in 0..CUSTOMERS_PER_TENANT {
        let first: String = FirstName().fake_with_rng(&mut g.rng);
        let last: String = LastName().fake_with_rng(&mut g.rng);
        let email = g
            .rng
            .random_bool(0.85)
            .then(|| format!("{}.{}.{n}@example.test", mailbox(&first), mailbox(&last)));
        let phone = format!("+1-202-555-01{:02}", g.rng.random_range(0..100));
        let notes = g
            .rng
            .random_bool(0.1)
            .then(|| Sentence(4..9).fake_with_rng::<String, _>(&mut g.rng));
        let joined = since + Duration::minutes(g.rng.random_range(0..300 * 24 * 60));
        let id = next_id(&ds.customers);
        ds.customers.push(customers::Model {
            id,
            tenant_id,
            name: format!("{first} {last}"),
            email,
            phone: Some(phone),
            notes,
            created_at: joined,
            updated_at: joined,
        });
    }
    first_id..=next_id(&ds.customers) - 1
}

/// Stored cards: most customers have none, some one, a few a second one.
fn add_payment_methods(
    ds: &mut Dataset,
    g: &mut Gen,
    tenant_id: i64,
    customers: std::ops::RangeInclusive<i64>,
) {
    const BRANDS: [&str; 4] = ["visa", "mastercard", "amex", "jcb"];
    let year = i16::try_from(chrono::Datelike::year(&g.today)).unwrap_or(2025);
    for customer_id in customers {
        if !g.rng.random_bool(0.6) {
            continue;
        }
        let cards = if g.rng.random_bool(0.15) { 2 } else { 1 };
        for card in 0..cards {
            let id = next_id(&ds.payment_methods);
            let created = ds.customers[usize::try_from(customer_id - 1).unwrap_or(0)].created_at
                + Duration::minutes(g.rng.random_range(5..60 * 24 * 30));
            ds.payment_methods.push(payment_methods::Model {
                id,
                tenant_id,
                customer_id,
                provider: "stripe".to_owned(),
                provider_ref: format!("pm_{id:010}{:08x}", g.rng.random::<u32>()),
                brand: Some(BRANDS[g.rng.random_range(0..BRANDS.len())].to_owned()),
                last4: Some(format!("{:04}", g.rng.random_range(0..10_000))),
                exp_month: Some(g.rng.random_range(1..=12)),
                exp_year: Some(year + g.rng.random_range(1..=5)),
                is_default: card == 0,
                created_at: created,
                updated_at: created,
            });
        }
    }
}

/// Whether the resource is open on a weekday, and when: its own hours, else the business's.
pub(crate) fn hours_on(shape: &Shape, resource: &ResourceShape, weekday: u8) -> Vec<(u32, u32)> {
    resource
        .hours
        .unwrap_or(shape.hours)
        .iter()
        .filter(|h| h.days.contains(&weekday))
        .map(|h| (h.open.0 * 60 + h.open.1, h.close.0 * 60 + h.close.1))
        .collect()
}

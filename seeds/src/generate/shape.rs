//! The businesses the demo is made of: what each offers, with what, and when. Fixed data, so the
//! structural rows (tenants, users, services, resources, hours) have the same ids whatever the
//! seed or the date.
//!
//! Every tenant keeps its hours in UTC (`timezone = 'UTC'`): the views count days in UTC, so
//! hours, slots and days read the same everywhere.

/// Opening hours on some days of the week (0 = Sunday ... 6 = Saturday, as
/// `business_hours.day_of_week`).
pub(crate) struct Hours {
    pub days: &'static [u8],
    pub open: (u32, u32),
    pub close: (u32, u32),
}

/// A service a business sells.
pub(crate) struct ServiceShape {
    pub name: &'static str,
    pub description: &'static str,
    pub minutes: i64,
    pub price_cents: i64,
}

/// A bookable resource.
pub(crate) struct ResourceShape {
    pub kind: &'static str,
    pub name: &'static str,
    pub capacity: i32,
    pub active: bool,
    /// Indexes into the business's services.
    pub offers: &'static [usize],
    /// Own hours (a part-timer), instead of the business's.
    pub hours: Option<&'static [Hours]>,
}

/// A resource away for a while, relative to today.
pub(crate) struct TimeOffShape {
    pub resource: usize,
    pub from: (i64, u32),
    pub to: (i64, u32),
    pub reason: &'static str,
}

/// One business.
pub(crate) struct Shape {
    pub business_type: &'static str,
    pub slug: &'static str,
    pub name: &'static str,
    pub owner: &'static str,
    pub currency: &'static str,
    pub slot_minutes: i64,
    pub services: &'static [ServiceShape],
    pub resources: &'static [ResourceShape],
    pub hours: &'static [Hours],
    /// Days closed, relative to today.
    pub holidays: &'static [(i64, &'static str)],
    pub time_offs: &'static [TimeOffShape],
    /// A day, relative to today, on which every slot is blocked.
    pub blocked_day: Option<i64>,
}

impl Shape {
    /// Whether the resource's timeslots hold a class (several places, one service per slot).
    pub fn is_class(resource: &ResourceShape) -> bool {
        resource.capacity > 1 && resource.kind != "table"
    }
}

/// The reasons every tenant offers for a cancellation: code, label, active.
pub(crate) const CANCEL_REASONS: [(&str, &str, bool); 5] = [
    ("customer_request", "Customer request", true),
    ("illness", "Illness", true),
    ("schedule_conflict", "Schedule conflict", true),
    ("no_payment", "Payment not received", true),
    ("weather", "Bad weather", false),
];

const WEEKDAYS: &[u8] = &[1, 2, 3, 4, 5];
const EVERY_DAY: &[u8] = &[0, 1, 2, 3, 4, 5, 6];

/// The four businesses of the demo, in tenant id order.
pub(crate) const SHAPES: [Shape; 4] = [SALON, CLINIC, FITNESS, RESTAURANT];

/// Index of the salon in [`SHAPES`].
pub(crate) const SALON_INDEX: usize = 0;
/// Index of the clinic in [`SHAPES`].
pub(crate) const CLINIC_INDEX: usize = 1;
/// Index of the fitness studio in [`SHAPES`].
pub(crate) const FITNESS_INDEX: usize = 2;

const SALON: Shape = Shape {
    business_type: "salon",
    slug: "sakura-salon",
    name: "Sakura Hair Salon",
    owner: "Hana Sato",
    currency: "USD",
    slot_minutes: 30,
    services: &[
        ServiceShape {
            name: "Haircut",
            description: "Wash, cut and style",
            minutes: 30,
            price_cents: 4500,
        },
        ServiceShape {
            name: "Beard trim",
            description: "Trim and line-up",
            minutes: 30,
            price_cents: 2500,
        },
        ServiceShape {
            name: "Blow-dry",
            description: "Wash and blow-dry",
            minutes: 30,
            price_cents: 3500,
        },
        ServiceShape {
            name: "Colour",
            description: "Full colour with toner; takes two slots",
            minutes: 60,
            price_cents: 9500,
        },
    ],
    resources: &[
        ResourceShape {
            kind: "staff",
            name: "Mia",
            capacity: 1,
            active: true,
            offers: &[0, 1, 2, 3],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Noah",
            capacity: 1,
            active: true,
            offers: &[0, 1, 2],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Olivia",
            capacity: 1,
            active: true,
            offers: &[0, 2, 3],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Liam",
            capacity: 1,
            active: true,
            offers: &[0, 1],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Emma",
            capacity: 1,
            active: true,
            offers: &[0, 2, 3],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Lucas",
            capacity: 1,
            active: true,
            offers: &[0, 1, 2],
            hours: Some(&[Hours {
                days: &[4, 5, 6],
                open: (10, 0),
                close: (18, 0),
            }]),
        },
    ],
    hours: &[
        Hours {
            days: &[2, 3, 4, 5],
            open: (9, 0),
            close: (19, 0),
        },
        Hours {
            days: &[6],
            open: (9, 0),
            close: (17, 0),
        },
    ],
    holidays: &[(5, "Founders' Day"), (60, "Summer closure")],
    time_offs: &[TimeOffShape {
        resource: 0,
        from: (1, 0),
        to: (4, 0),
        reason: "Annual leave",
    }],
    blocked_day: None,
};

const CLINIC: Shape = Shape {
    business_type: "clinic",
    slug: "harbor-clinic",
    name: "Harbor Family Clinic",
    owner: "Grace Okafor",
    currency: "GBP",
    slot_minutes: 20,
    services: &[
        ServiceShape {
            name: "Consultation",
            description: "General consultation with a doctor",
            minutes: 20,
            price_cents: 6000,
        },
        ServiceShape {
            name: "Check-up",
            description: "Routine check-up",
            minutes: 20,
            price_cents: 4000,
        },
        ServiceShape {
            name: "Vaccination",
            description: "Seasonal and travel vaccines",
            minutes: 20,
            price_cents: 2500,
        },
        ServiceShape {
            name: "Physiotherapy",
            description: "Forty minutes in a treatment room; takes two slots",
            minutes: 40,
            price_cents: 8000,
        },
    ],
    resources: &[
        ResourceShape {
            kind: "staff",
            name: "Dr. Patel",
            capacity: 1,
            active: true,
            offers: &[0, 1, 2],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Dr. Kim",
            capacity: 1,
            active: true,
            offers: &[0, 1, 2],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Dr. Garcia",
            capacity: 1,
            active: true,
            offers: &[0, 1],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Dr. Novak",
            capacity: 1,
            active: true,
            offers: &[0, 2],
            hours: None,
        },
        ResourceShape {
            kind: "room",
            name: "Treatment Room 1",
            capacity: 1,
            active: true,
            offers: &[2, 3],
            hours: None,
        },
        ResourceShape {
            kind: "room",
            name: "Treatment Room 2",
            capacity: 1,
            active: true,
            offers: &[3],
            hours: None,
        },
    ],
    hours: &[
        Hours {
            days: WEEKDAYS,
            open: (8, 0),
            close: (18, 0),
        },
        Hours {
            days: &[6],
            open: (9, 0),
            close: (13, 0),
        },
    ],
    holidays: &[(12, "Staff training day"), (75, "Bank holiday")],
    time_offs: &[TimeOffShape {
        resource: 1,
        from: (-5, 8),
        to: (-5, 13),
        reason: "Conference",
    }],
    blocked_day: None,
};

const FITNESS: Shape = Shape {
    business_type: "fitness",
    slug: "peak-fitness",
    name: "Peak Fitness Studio",
    owner: "Marcus Reed",
    currency: "AUD",
    slot_minutes: 60,
    services: &[
        ServiceShape {
            name: "Yoga class",
            description: "Vinyasa flow, all levels",
            minutes: 60,
            price_cents: 1800,
        },
        ServiceShape {
            name: "HIIT class",
            description: "High-intensity interval training",
            minutes: 60,
            price_cents: 2000,
        },
        ServiceShape {
            name: "Spin class",
            description: "Indoor cycling",
            minutes: 60,
            price_cents: 2000,
        },
        ServiceShape {
            name: "Personal training",
            description: "One-to-one session with a coach",
            minutes: 60,
            price_cents: 7000,
        },
    ],
    resources: &[
        ResourceShape {
            kind: "room",
            name: "Studio A",
            capacity: 20,
            active: true,
            offers: &[0, 1],
            hours: None,
        },
        ResourceShape {
            kind: "room",
            name: "Studio B",
            capacity: 12,
            active: true,
            offers: &[0, 1],
            hours: None,
        },
        ResourceShape {
            kind: "equipment",
            name: "Spin bikes",
            capacity: 16,
            active: true,
            offers: &[2],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Coach Ava",
            capacity: 1,
            active: true,
            offers: &[3],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Coach Ben",
            capacity: 1,
            active: true,
            offers: &[3],
            hours: None,
        },
        ResourceShape {
            kind: "staff",
            name: "Coach Chloe",
            capacity: 1,
            active: true,
            offers: &[3],
            hours: None,
        },
        ResourceShape {
            kind: "equipment",
            name: "Rowing machines",
            capacity: 8,
            active: false,
            offers: &[],
            hours: None,
        },
    ],
    hours: &[Hours {
        days: EVERY_DAY,
        open: (6, 0),
        close: (22, 0),
    }],
    holidays: &[(-40, "New studio opening"), (90, "Floor refit")],
    time_offs: &[TimeOffShape {
        resource: 4,
        from: (7, 0),
        to: (8, 0),
        reason: "Sick leave",
    }],
    blocked_day: None,
};

const RESTAURANT: Shape = Shape {
    business_type: "restaurant",
    slug: "blue-door-bistro",
    name: "Blue Door Bistro",
    owner: "Luca Romano",
    currency: "EUR",
    slot_minutes: 60,
    services: &[
        ServiceShape {
            name: "Lunch table",
            description: "A table for lunch",
            minutes: 60,
            price_cents: 0,
        },
        ServiceShape {
            name: "Dinner table",
            description: "A table for dinner; a deposit per booking",
            minutes: 60,
            price_cents: 2000,
        },
        ServiceShape {
            name: "Tasting menu",
            description: "Seven courses over two hours",
            minutes: 120,
            price_cents: 12000,
        },
    ],
    resources: &[
        table("Table 1", 2),
        table("Table 2", 2),
        table("Table 3", 2),
        table("Table 4", 4),
        table("Table 5", 4),
        table("Table 6", 4),
        table("Table 7", 4),
        table("Table 8", 6),
        table("Table 9", 6),
        table("Table 10", 8),
    ],
    hours: &[
        Hours {
            days: EVERY_DAY,
            open: (11, 0),
            close: (15, 0),
        },
        Hours {
            days: EVERY_DAY,
            open: (17, 0),
            close: (23, 0),
        },
    ],
    holidays: &[(15, "Kitchen maintenance"), (100, "Staff party")],
    time_offs: &[TimeOffShape {
        resource: 9,
        from: (2, 0),
        to: (4, 0),
        reason: "Table repair",
    }],
    blocked_day: Some(1),
};

/// A restaurant table: one party per slot, whatever its seats.
const fn table(name: &'static str, seats: i32) -> ResourceShape {
    ResourceShape {
        kind: "table",
        name,
        capacity: seats,
        active: true,
        offers: &[0, 1, 2],
        hours: None,
    }
}

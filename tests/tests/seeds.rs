//! The seeds crate on every backend: seeding `demo` twice changes nothing and reads back with
//! the same content hash everywhere; every scenario of `seeds/README.md` is there with its ids;
//! `minimal` is enough to book; truncate empties the tables and keeps the schema and ledger;
//! unmigrated databases, rows nobody seeded, production and protected URLs are refused; and
//! the `seed` binary (and `migrate fresh --seed`) keep the documented exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use entity::{
    available_timeslots, booking_cancellations, booking_items, bookings, cancel_reasons, customers,
    holidays, idempotency_keys, payments, resource_time_offs, tenants, timeslots, webhook_events,
};
use migration_engine::store::ledger::Ledger;
use migration_engine::{
    Engine, MigrationSet, Operations, RunOptions, Session, SessionOptions, State, Target, UpTarget,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use seeds::report::Action;
use seeds::scenarios as s;
use seeds::{Params, Profile, Progress, Request, SeedError, Seeder};
use tempfile::TempDir;
use tests::{Run, TestDb, backend_matrix, migrate_bin, process, workspace_bin};

/// The `seed` binary, built beside `migrate` in the migration crate.
fn seed_bin() -> &'static Path {
    workspace_bin("migration", "seed")
}

/// The day every test seeds around.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 6).unwrap()
}

/// The content hash of `demo` with the default seed around [`today`], on every backend. If the
/// generator changes on purpose, the failing assertion prints the new value to put here.
const DEMO_HASH: &str = "8115b1e2a2f87b87554b51d15dc01cf5b98a47daef0d67dfbeee8077e69ccc24";

/// `today + days` at `hour`:00 UTC.
fn at(days: i64, hour: u32) -> DateTime<FixedOffset> {
    (today() + chrono::Duration::days(days))
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
        .fixed_offset()
}

// ---------------------------------------------------------------------------------------------
// Through the library
// ---------------------------------------------------------------------------------------------

fn set() -> MigrationSet {
    MigrationSet::from_migrator::<migration::Migrator>().unwrap()
}

fn ledger(db: &TestDb) -> Ledger {
    Ledger::new(db.backend.db_backend(), None, "schema_migrations")
}

/// Connects and applies the first `steps` migrations (all of them with `None`).
async fn migrated(db: &TestDb, steps: Option<u32>) -> DatabaseConnection {
    let set = set();
    let target = Target::new(&db.url, None, None, None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    let ops = Operations::new(session, &set);
    let applied = ops
        .up(
            &UpTarget {
                steps,
                ..UpTarget::default()
            },
            &RunOptions::default(),
        )
        .await;
    ops.close(applied).await.unwrap();
    db.connect().await
}

fn seeder(db: &TestDb, conn: &DatabaseConnection) -> Seeder {
    Seeder::new(conn.clone(), ledger(db))
}

fn request(profile: Profile, reseed: bool) -> Request {
    Request {
        params: Params::new(profile, today()),
        reseed,
        today_given: true,
    }
}

async fn seed(seeder: &Seeder, profile: Profile) -> seeds::SeedReport {
    seeder
        .run(&request(profile, false), &Progress::quiet())
        .await
        .unwrap()
}

async fn demo_twice_changes_nothing_and_hashes_alike_everywhere(db: TestDb) {
    let conn = migrated(&db, None).await;
    let seeder = seeder(&db, &conn);
    seeder.check_migrated(&set()).await.unwrap();

    let first = seed(&seeder, Profile::Demo).await;
    assert_eq!(first.action, Action::Seeded);
    assert_eq!(first.replaced_rows, 0);
    assert_eq!(
        first.content_hash, DEMO_HASH,
        "the demo's content hash changed on {}",
        db.backend
    );
    let read_back = seeds::hash::of_database(&conn).await.unwrap();
    assert_eq!(read_back, DEMO_HASH, "rows read back through the entities");
    let recorded = seeder.tracking().latest(&conn).await.unwrap().unwrap();
    assert_eq!(recorded.content_hash, DEMO_HASH);
    assert_eq!(recorded.total_rows(), first.rows);

    let before = db.dump().await;
    let second = seed(&seeder, Profile::Demo).await;
    assert_eq!(second.action, Action::Unchanged);
    assert!(second.drift.is_empty(), "{:?}", second.drift);
    assert_eq!(second.content_hash, DEMO_HASH);
    assert_eq!(
        db.dump().await,
        before,
        "the second run changed the database"
    );
    assert_eq!(seeds::hash::of_database(&conn).await.unwrap(), DEMO_HASH);
}

async fn every_documented_scenario_is_there_with_its_ids(db: TestDb) {
    let conn = migrated(&db, None).await;
    seed(&seeder(&db, &conn), Profile::Demo).await;
    let c = &conn;

    // fully-booked-slot: the database's triggers, not the seeder, filled booked_count.
    let slot = timeslots::Entity::find_by_id(s::FULLY_BOOKED_TIMESLOT)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((slot.capacity, slot.booked_count), (12, 12));
    assert_eq!(slot.resource_id, s::FULL_CLASS_RESOURCE);
    assert_eq!(slot.start_at, at(1, 18));
    let items = booking_items::Entity::find()
        .filter(booking_items::Column::TimeslotId.eq(s::FULLY_BOOKED_TIMESLOT))
        .all(c)
        .await
        .unwrap();
    let mut held: Vec<i64> = items.iter().map(|i| i.booking_id).collect();
    held.sort_unstable();
    assert_eq!(held, s::FULL_CLASS_BOOKINGS.collect::<Vec<_>>());
    assert_eq!(items.iter().map(|i| i.quantity).sum::<i32>(), 12);
    assert!(
        available_timeslots::Entity::find_by_id(s::FULLY_BOOKED_TIMESLOT)
            .one(c)
            .await
            .unwrap()
            .is_none()
    );

    // no-availability-tomorrow: slots exist, all blocked, none available; the day after is open.
    let on_day = |tenant: i64, day: i64| {
        timeslots::Entity::find()
            .filter(timeslots::Column::TenantId.eq(tenant))
            .filter(timeslots::Column::StartAt.gte(at(day, 0)))
            .filter(timeslots::Column::StartAt.lt(at(day + 1, 0)))
    };
    let tomorrow = on_day(s::NO_AVAILABILITY_TOMORROW_TENANT, 1)
        .all(c)
        .await
        .unwrap();
    assert!(!tomorrow.is_empty());
    assert!(tomorrow.iter().all(|t| t.status == "blocked"));
    let available_on = |tenant: i64, day: i64| {
        available_timeslots::Entity::find()
            .filter(available_timeslots::Column::TenantId.eq(tenant))
            .filter(available_timeslots::Column::StartAt.gte(at(day, 0)))
            .filter(available_timeslots::Column::StartAt.lt(at(day + 1, 0)))
    };
    assert_eq!(
        available_on(s::NO_AVAILABILITY_TOMORROW_TENANT, 1)
            .count(c)
            .await
            .unwrap(),
        0
    );
    assert!(
        available_on(s::NO_AVAILABILITY_TOMORROW_TENANT, 2)
            .count(c)
            .await
            .unwrap()
            > 0
    );

    // resource-on-time-off: her slots exist but none is available or booked.
    let off = resource_time_offs::Entity::find_by_id(s::TIME_OFF)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(off.resource_id, s::TIME_OFF_RESOURCE);
    assert_eq!((off.start_at, off.end_at), (at(1, 0), at(4, 0)));
    let during = timeslots::Entity::find()
        .filter(timeslots::Column::ResourceId.eq(s::TIME_OFF_RESOURCE))
        .filter(timeslots::Column::StartAt.gte(off.start_at))
        .filter(timeslots::Column::StartAt.lt(off.end_at))
        .all(c)
        .await
        .unwrap();
    assert!(!during.is_empty(), "the salon opens on 2025-01-07");
    assert!(during.iter().all(|t| t.booked_count == 0));
    let available_during = available_timeslots::Entity::find()
        .filter(available_timeslots::Column::ResourceId.eq(s::TIME_OFF_RESOURCE))
        .filter(available_timeslots::Column::StartAt.gte(off.start_at))
        .filter(available_timeslots::Column::StartAt.lt(off.end_at))
        .count(c)
        .await
        .unwrap();
    assert_eq!(available_during, 0);

    // holiday: closed, no slots that day.
    let holiday = holidays::Entity::find_by_id(s::HOLIDAY)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(holiday.tenant_id, s::tenants::SALON);
    assert_eq!(
        holiday.day,
        today() + chrono::Duration::days(s::HOLIDAY_IN_DAYS)
    );
    assert_eq!(
        on_day(holiday.tenant_id, s::HOLIDAY_IN_DAYS)
            .count(c)
            .await
            .unwrap(),
        0
    );

    // cancelled-booking-with-reason: its items are released.
    let booking = bookings::Entity::find_by_id(s::CANCELLED_BOOKING)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(booking.status, "cancelled");
    let cancellation = booking_cancellations::Entity::find_by_id(s::CANCELLATION)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancellation.booking_id, s::CANCELLED_BOOKING);
    assert_eq!(cancellation.cancel_reason_id, Some(s::CANCEL_REASON));
    assert_eq!(cancellation.cancelled_by, "customer");
    assert!(cancellation.note.is_some());
    let reason = cancel_reasons::Entity::find_by_id(s::CANCEL_REASON)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (reason.tenant_id, reason.code.as_str()),
        (s::tenants::SALON, "illness")
    );
    let items = booking_items::Entity::find()
        .filter(booking_items::Column::BookingId.eq(s::CANCELLED_BOOKING))
        .all(c)
        .await
        .unwrap();
    assert!(!items.is_empty() && items.iter().all(|i| i.released_at.is_some()));

    // refunded-payment and failed-payment.
    let refund = payments::Entity::find_by_id(s::REFUNDED_PAYMENT)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refund.booking_id, refund.status.as_str()),
        (s::CANCELLED_BOOKING, "refunded")
    );
    assert_eq!(refund.refunded_cents, refund.amount_cents);
    let failed = payments::Entity::find_by_id(s::FAILED_PAYMENT)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.booking_id, failed.status.as_str()),
        (s::DECLINED_THEN_PAID_BOOKING, "failed")
    );
    assert_eq!(failed.failure_reason.as_deref(), Some("card_declined"));
    let paid = payments::Entity::find_by_id(s::FAILED_PAYMENT + 1)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (paid.booking_id, paid.status.as_str()),
        (s::DECLINED_THEN_PAID_BOOKING, "succeeded")
    );

    // webhook-delivered-twice-processed-once.
    let hook = webhook_events::Entity::find_by_id(s::WEBHOOK_DELIVERED_TWICE)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (hook.attempts, hook.status.as_str(), hook.payment_id),
        (2, "processed", Some(s::REFUNDED_PAYMENT))
    );
    assert!(hook.processed_at.is_some());
    assert_eq!(
        webhook_events::Entity::find()
            .filter(webhook_events::Column::EventId.eq(hook.event_id.clone()))
            .count(c)
            .await
            .unwrap(),
        1
    );
    let audit = entity::audit_logs::Entity::find_by_id(s::DUPLICATE_DELIVERY_AUDIT)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.action, "webhook.duplicate_ignored");
    assert_eq!(audit.entity_id, Some(s::WEBHOOK_DELIVERED_TWICE));

    // expired-idempotency-key.
    let key = idempotency_keys::Entity::find_by_id(s::EXPIRED_IDEMPOTENCY_KEY)
        .one(c)
        .await
        .unwrap()
        .unwrap();
    assert!(key.expires_at < at(0, 0));
    assert!(
        key.response_body
            .unwrap()
            .contains(&format!("\"booking_id\":{}", s::CANCELLED_BOOKING))
    );
}

async fn minimal_is_enough_to_book(db: TestDb) {
    let conn = migrated(&db, None).await;
    seed(&seeder(&db, &conn), Profile::Minimal).await;
    let slot = timeslots::Entity::find_by_id(1)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now().fixed_offset();
    let book = |reference: &str| bookings::ActiveModel {
        tenant_id: Set(1),
        customer_id: Set(1),
        service_id: Set(1),
        reference: Set(reference.to_owned()),
        status: Set("confirmed".to_owned()),
        start_at: Set(slot.start_at),
        end_at: Set(slot.end_at),
        total_cents: Set(5000),
        currency: Set("USD".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let hold = |booking_id: i64| booking_items::ActiveModel {
        tenant_id: Set(1),
        booking_id: Set(booking_id),
        timeslot_id: Set(slot.id),
        resource_id: Set(slot.resource_id),
        quantity: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let first = book("qa-first").insert(&conn).await.unwrap();
    hold(first.id).insert(&conn).await.unwrap();
    let slot = timeslots::Entity::find_by_id(1)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(slot.booked_count, 1);

    // The slot is full now: the database refuses a second place.
    let second = book("qa-second").insert(&conn).await.unwrap();
    assert!(hold(second.id).insert(&conn).await.is_err());

    // Ids continue after the seeded ones.
    let customer = customers::ActiveModel {
        tenant_id: Set(1),
        name: Set("Walk-in".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
    assert_eq!(customer.id, 2);
}

async fn truncate_leaves_an_empty_and_fully_migrated_database(db: TestDb) {
    let conn = migrated(&db, None).await;
    let seeder = seeder(&db, &conn);
    seed(&seeder, Profile::Demo).await;
    let tables = db.table_names().await;

    let report = seeder.truncate().await.unwrap();
    assert!(report.rows > 40_000, "{report:?}");
    assert!(seeder.counts().await.unwrap().iter().all(|(_, n)| *n == 0));
    assert!(seeder.tracking().latest(&conn).await.unwrap().is_none());
    assert_eq!(
        db.table_names().await,
        tables,
        "truncate dropped or made tables"
    );
    seeder.check_migrated(&set()).await.unwrap();
    let status = Engine::new(conn.clone(), &set(), ledger(&db))
        .status()
        .await
        .unwrap();
    assert_eq!(status.count(State::Applied), set().len());

    // Ids start again from 1.
    seed(&seeder, Profile::Minimal).await;
    let tenant = tenants::Entity::find().one(&conn).await.unwrap().unwrap();
    assert_eq!((tenant.id, tenant.slug.as_str()), (1, "minimal"));
}

async fn an_unmigrated_database_is_refused(db: TestDb) {
    let conn = db.connect().await;
    let seeder = seeder(&db, &conn);
    let err = seeder.check_migrated(&set()).await.unwrap_err();
    assert!(matches!(err, SeedError::NotMigrated { .. }), "{err}");
    assert_eq!(err.exit_code(), 4);

    let conn = migrated(&db, Some(set().len() as u32 - 1)).await;
    let err = seeder.check_migrated(&set()).await.unwrap_err();
    assert!(err.to_string().contains("1 pending"), "{err}");
    assert!(err.to_string().contains("migrate up"), "{err}");
    let _ = conn;
}

async fn rows_nobody_seeded_are_refused_and_another_profile_replaces(db: TestDb) {
    let conn = migrated(&db, None).await;
    let seeder = seeder(&db, &conn);
    let now = Utc::now().fixed_offset();
    tenants::ActiveModel {
        slug: Set("mine".to_owned()),
        name: Set("Mine".to_owned()),
        business_type: Set("other".to_owned()),
        timezone: Set("UTC".to_owned()),
        status: Set("active".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
    let before = db.dump().await;
    let err = seeder
        .run(&request(Profile::Minimal, false), &Progress::quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SeedError::ForeignRows { rows: 1, .. }),
        "{err}"
    );
    assert_eq!(db.dump().await, before);

    let reseeded = seeder
        .run(&request(Profile::Minimal, true), &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(reseeded.replaced_rows, 1);

    let demo = seed(&seeder, Profile::Demo).await;
    assert_eq!(demo.action, Action::Seeded);
    assert_eq!(demo.replaced_rows, reseeded.rows);
    assert_eq!(tenants::Entity::find().count(&conn).await.unwrap(), 4);
}

backend_matrix!(
    demo_twice_changes_nothing_and_hashes_alike_everywhere,
    every_documented_scenario_is_there_with_its_ids,
    minimal_is_enough_to_book,
    truncate_leaves_an_empty_and_fully_migrated_database,
    an_unmigrated_database_is_refused,
    rows_nobody_seeded_are_refused_and_another_profile_replaces,
);

// ---------------------------------------------------------------------------------------------
// Through the binaries
// ---------------------------------------------------------------------------------------------

/// The password of every bad URL; it must never be printed.
const PASSWORD: &str = "hunter22";

/// The checks of this file on top of [`Run`]'s own.
trait SeedRun: Sized {
    /// Failed with `code` and exactly one line on stderr, `error: …`, without the password.
    fn clean_failure(self, code: i32) -> Self;
}

impl SeedRun for Run {
    #[track_caller]
    fn clean_failure(self, code: i32) -> Self {
        let run = self.code(code);
        let lines: Vec<&str> = run.stderr.trim_end().lines().collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr: {run:?}");
        assert!(lines[0].starts_with("error: "), "{run:?}");
        assert!(
            !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
            "the password leaked: {run:?}"
        );
        run
    }
}

/// Runs `program` in `dir` with `args` and extra `env`, isolated from the runner's environment.
fn run_program(program: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = process::command(program, dir);
    for (var, value) in env {
        cmd.env(var, value);
    }
    process::run(cmd, program, args)
}

fn migrate(dir: &Path, args: &[&str]) -> Run {
    run_program(migrate_bin(), dir, args, &[])
}

fn seed_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_program(seed_bin(), dir, args, env)
}

fn seed_cli(dir: &Path, args: &[&str]) -> Run {
    seed_with(dir, args, &[])
}

fn workdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("seed-cli-")
        .tempdir()
        .unwrap()
}

async fn the_guards_refuse_and_change_nothing(db: TestDb) {
    let dir = workdir();
    let dir = dir.path();
    let url = db.url.as_str();
    migrate(dir, &["-u", url, "up"]).code(0);
    let pattern = format!("*{}*", db.database_name().unwrap_or("test.db"));
    let before = db.dump().await;

    for (env, reason) in [
        (vec![("APP_ENV", "production")], "APP_ENV"),
        (
            vec![("MIGRATION_PROTECTED_URLS", pattern.as_str())],
            "MIGRATION_PROTECTED_URLS",
        ),
    ] {
        for args in [
            vec!["-u", url, "minimal", "--today", "2025-01-06"],
            vec!["-u", url, "truncate", "--yes"],
        ] {
            let run = seed_with(dir, &args, &env).clean_failure(5);
            assert!(run.stderr.contains(reason), "{run:?}");
            assert!(run.stderr.contains("--force"), "{run:?}");
            assert_eq!(
                db.dump().await,
                before,
                "a refused run changed the database"
            );
        }
    }

    let forced = seed_with(
        dir,
        &["-u", url, "minimal", "--today", "2025-01-06", "--force"],
        &[("APP_ENV", "production")],
    )
    .code(0);
    assert!(forced.stdout.contains("Seeded `minimal`"), "{forced:?}");
}

async fn the_cli_refuses_an_unmigrated_database(db: TestDb) {
    let dir = workdir();
    let dir = dir.path();
    let url = db.url.as_str();
    let run = seed_cli(dir, &["-u", url, "demo"]).clean_failure(4);
    assert!(run.stderr.contains("run `migrate up` first"), "{run:?}");
    let n = (set().len() - 1).to_string();
    migrate(dir, &["-u", url, "up", "-n", &n]).code(0);
    let run = seed_cli(dir, &["-u", url, "truncate", "--yes"]).clean_failure(4);
    assert!(run.stderr.contains("1 pending"), "{run:?}");
}

backend_matrix!(
    the_guards_refuse_and_change_nothing,
    the_cli_refuses_an_unmigrated_database,
);

#[test]
fn with_nothing_configured_seed_uses_dev_db_and_the_second_run_says_so() {
    let dir = workdir();
    let dir = dir.path();
    migrate(dir, &["up"]).code(0);
    let first = seed_cli(
        dir,
        &["minimal", "--today", "2025-01-06", "--format", "json"],
    )
    .code(0);
    let first = first.json();
    assert_eq!(first["action"], "seeded");
    assert_eq!(first["profile"], "minimal");
    assert_eq!(first["content_hash"].as_str().unwrap().len(), 64);
    assert!(dir.join("dev.db").is_file());

    let second = seed_cli(dir, &["minimal", "--today", "2025-01-06"]).code(0);
    assert!(second.stdout.starts_with("Already seeded"), "{second:?}");

    let status = seed_cli(dir, &["status", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(status["seeded"]["profile"], "minimal");
    assert_eq!(status["seeded"]["content_hash"], first["content_hash"]);
    assert_eq!(status["tracking_table"], "schema_migrations_seeds");
}

#[test]
fn destructive_runs_need_yes_without_a_terminal() {
    let dir = workdir();
    let dir = dir.path();
    migrate(dir, &["up"]).code(0);
    seed_cli(dir, &["minimal", "--today", "2025-01-06"]).code(0);

    let run = seed_cli(dir, &["truncate"]).clean_failure(5);
    assert!(run.stderr.contains("--yes"), "{run:?}");
    let run = seed_cli(dir, &["minimal", "--today", "2025-01-06", "--reseed"]).clean_failure(5);
    assert!(run.stderr.contains("--yes"), "{run:?}");

    let reseeded = seed_cli(
        dir,
        &["minimal", "--today", "2025-01-06", "--reseed", "--yes"],
    )
    .code(0);
    assert!(reseeded.stdout.contains("Replaced"), "{reseeded:?}");
    let emptied = seed_cli(dir, &["truncate", "--yes"]).code(0);
    assert!(emptied.stdout.starts_with("Emptied"), "{emptied:?}");
    let status = seed_cli(dir, &["status", "--format", "json"])
        .code(0)
        .json();
    assert!(status["seeded"].is_null(), "{status}");
    let counts = status["tables"].as_array().unwrap();
    assert!(counts.iter().all(|t| t[1] == 0), "{status}");
    let migrated = migrate(dir, &["check"]).code(0);
    assert!(migrated.stdout.contains("applied"), "{migrated:?}");
}

#[test]
fn usage_and_connection_errors_exit_2_on_one_line() {
    let dir = workdir();
    let dir = dir.path();
    seed_cli(dir, &["demo", "--scale", "3"]).clean_failure(2);
    let unreachable = format!("postgres://app:{PASSWORD}@127.0.0.1:1/app");
    let run = seed_cli(dir, &["-u", &unreachable, "demo"]).clean_failure(2);
    assert!(run.stderr.contains("***"), "{run:?}");
    for args in [
        vec!["nonsense"],
        vec!["demo", "--today", "06/01/2025"],
        vec!["load", "--scale", "0"],
    ] {
        let run = seed_cli(dir, &args).code(2);
        assert!(run.stderr.starts_with("error:"), "{run:?}");
    }
    assert!(!dir.join("dev.db").exists(), "a refused run created dev.db");
}

#[test]
fn migrate_fresh_seed_rebuilds_and_seeds_in_one_command() {
    let dir = workdir();
    let dir = dir.path();
    let run = migrate(dir, &["fresh", "--seed", "minimal", "--yes"]).code(0);
    assert!(run.stdout.contains("Seeded `minimal`"), "{run:?}");
    for phase in ["dropped", "applied", "seeded `minimal` in"] {
        assert!(run.stderr.contains(phase), "no `{phase}` phase: {run:?}");
    }
    let status = seed_cli(dir, &["status", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(status["seeded"]["profile"], "minimal");

    // Again, with everything to drop, as one JSON document.
    let again = migrate(
        dir,
        &["fresh", "--seed", "minimal", "--yes", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(again["seed"]["action"], "seeded", "{again}");
    assert_eq!(again["seed"]["replaced_rows"], 0, "{again}");
    assert!(again["fresh"].is_object(), "{again}");
}

/// The seeder runs inside `migrate`: a `migrate` with no `seed` beside it seeds all the same.
#[test]
fn migrate_fresh_seed_needs_no_seed_binary() {
    let dir = workdir();
    let dir = dir.path();
    let alone = dir.join("bin");
    std::fs::create_dir(&alone).unwrap();
    let migrate_copy = alone.join(migrate_bin().file_name().unwrap());
    std::fs::copy(migrate_bin(), &migrate_copy).unwrap();
    let run = run_program(
        &migrate_copy,
        dir,
        &["fresh", "--seed", "minimal", "--yes"],
        &[],
    )
    .code(0);
    assert!(run.stdout.contains("Seeded `minimal`"), "{run:?}");
}

/// A `migrate` whose project registers no seeder refuses `fresh --seed` before touching
/// anything, and says how to build one that has it.
#[test]
fn migrate_fresh_seed_without_a_seeder_changes_nothing() {
    let dir = workdir();
    let dir = dir.path();
    let no_seeder = Path::new(env!("CARGO_BIN_EXE_migrate_data"));
    let run =
        run_program(no_seeder, dir, &["fresh", "--seed", "demo", "--yes"], &[]).clean_failure(2);
    assert!(run.stderr.contains("cargo build -p migration"), "{run:?}");
    assert!(!dir.join("dev.db").exists(), "fresh ran without a seeder");
}

#[test]
fn seed_help_does_not_print_the_values_of_the_environment() {
    let dir = workdir();
    let url = format!("postgres://app:{PASSWORD}@db.example.com/app");
    let values = [
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_SCHEMA", "schema_from_env"),
        ("MIGRATION_TABLE", "table_from_env"),
        ("MIGRATION_SCHEMA", "ledger_schema_from_env"),
        ("MIGRATION_LOCK_TIMEOUT", "4242"),
    ];
    let run = seed_with(dir.path(), &["--help"], &values).code(0);
    for (var, value) in values {
        assert!(
            run.stdout.contains(&format!("[env: {var}]")),
            "{var}: {run:?}"
        );
        assert!(!run.stdout.contains(value), "{var}'s value shown: {run:?}");
    }
}

#[test]
fn seed_help_lists_profiles_options_and_exit_codes() {
    let dir = workdir();
    let run = seed_cli(dir.path(), &["--help"]).code(0);
    assert_eq!(run.stderr, "", "{run:?}");
    insta::assert_snapshot!("seed_help", run.stdout);
}

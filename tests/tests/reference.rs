//! The reference schema enforces its rules in the database on every backend: capacity,
//! one processing per webhook event, the declared `ON DELETE` rules, `updated_at`; its views
//! and entities read back what the tables hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::{
    MigrationSet, Operations, RunOptions, Session, SessionOptions, Target, UpTarget,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryOrder, Schema, Statement,
};
use tests::{TestDb, backend_matrix};

/// Applies the whole reference schema and returns a connection to it.
async fn migrated(db: &TestDb) -> DatabaseConnection {
    let set = MigrationSet::from_migrator::<migration::Migrator>().unwrap();
    let target = Target::new(&db.url, None, None, None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    let ops = Operations::new(session, &set);
    let applied = ops.up(&UpTarget::default(), &RunOptions::default()).await;
    ops.close(applied).await.unwrap();
    db.connect().await
}

/// A timestamp literal each backend stores in its time-zone aware column (SQLite keeps RFC 3339
/// text, as SeaORM writes it).
fn at(backend: DbBackend, day: u32, hour: u32) -> String {
    let offset = if backend == DbBackend::Sqlite {
        "+00:00"
    } else {
        ""
    };
    let separator = if backend == DbBackend::Sqlite {
        'T'
    } else {
        ' '
    };
    format!("'2030-01-{day:02}{separator}{hour:02}:00:00{offset}'")
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

async fn ok(db: &DatabaseConnection, sql: &str) {
    exec(db, sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}\nfailed: {err}"));
}

async fn refused(db: &DatabaseConnection, sql: &str) -> String {
    match exec(db, sql).await {
        Ok(()) => panic!("the database accepted {sql}"),
        Err(err) => err.to_string(),
    }
}

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{sql} returned no row"));
    row.try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
        .unwrap()
}

/// One tenant (1) with a customer (1), a service (1), a resource (1) and a timeslot (1) of
/// capacity 2 on 2030-01-07 10:00-11:00.
async fn one_bookable_slot(db: &DatabaseConnection) {
    let b = db.get_database_backend();
    for sql in [
        "INSERT INTO tenants (id, slug, name, business_type) VALUES (1, 'studio', 'Studio', 'fitness')"
            .to_owned(),
        "INSERT INTO customers (id, tenant_id, name, email) VALUES (1, 1, 'Ada', 'ada@example.com')"
            .to_owned(),
        "INSERT INTO services (id, tenant_id, name, duration_minutes) VALUES (1, 1, 'Yoga', 60)"
            .to_owned(),
        "INSERT INTO resources (id, tenant_id, kind, name, capacity) VALUES (1, 1, 'room', 'Hall', 2)"
            .to_owned(),
        format!(
            "INSERT INTO timeslots (id, tenant_id, resource_id, service_id, start_at, end_at, capacity) \
             VALUES (1, 1, 1, 1, {}, {}, 2)",
            at(b, 7, 10),
            at(b, 7, 11)
        ),
    ] {
        ok(db, &sql).await;
    }
}

async fn book(db: &DatabaseConnection, booking: i64, quantity: i64) -> Result<(), sea_orm::DbErr> {
    let b = db.get_database_backend();
    exec(
        db,
        &format!(
            "INSERT INTO bookings (id, tenant_id, customer_id, service_id, reference, status, start_at, end_at) \
             VALUES ({booking}, 1, 1, 1, 'ref-{booking}', 'confirmed', {}, {})",
            at(b, 7, 10),
            at(b, 7, 11)
        ),
    )
    .await?;
    exec(
        db,
        &format!(
            "INSERT INTO booking_items (id, tenant_id, booking_id, timeslot_id, resource_id, quantity) \
             VALUES ({booking}, 1, {booking}, 1, 1, {quantity})"
        ),
    )
    .await
}

const BOOKED: &str = "SELECT booked_count FROM timeslots WHERE id = 1";

async fn a_slot_cannot_be_booked_past_its_capacity(db: TestDb) {
    let conn = migrated(&db).await;
    one_bookable_slot(&conn).await;

    book(&conn, 1, 2).await.unwrap();
    assert_eq!(number(&conn, BOOKED).await, 2);

    // The third place does not exist: the item is refused and the count stays.
    let err = book(&conn, 2, 1).await.unwrap_err().to_string();
    assert!(err.contains("ck_timeslots_booked_count"), "{err}");
    assert_eq!(number(&conn, BOOKED).await, 2);
    assert_eq!(number(&conn, "SELECT COUNT(*) FROM booking_items").await, 1);

    // Releasing the first booking's places frees them for the second.
    ok(
        &conn,
        &format!(
            "UPDATE booking_items SET released_at = {} WHERE id = 1",
            at(conn.get_database_backend(), 6, 9)
        ),
    )
    .await;
    assert_eq!(number(&conn, BOOKED).await, 0);
    ok(
        &conn,
        "INSERT INTO booking_items (id, tenant_id, booking_id, timeslot_id, resource_id, quantity) \
         VALUES (2, 1, 2, 1, 1, 1)",
    )
    .await;
    assert_eq!(number(&conn, BOOKED).await, 1);

    // Deleting a booking gives its places back, also through ON DELETE CASCADE.
    ok(&conn, "DELETE FROM bookings WHERE id = 2").await;
    assert_eq!(number(&conn, BOOKED).await, 0);

    // A slot without places, or a count written past capacity, is refused outright.
    let b = conn.get_database_backend();
    let err = refused(
        &conn,
        &format!(
            "INSERT INTO timeslots (tenant_id, resource_id, start_at, end_at, capacity) \
             VALUES (1, 1, {}, {}, 0)",
            at(b, 8, 10),
            at(b, 8, 11)
        ),
    )
    .await;
    assert!(err.contains("ck_timeslots_capacity"), "{err}");
    let err = refused(&conn, "UPDATE timeslots SET booked_count = 3 WHERE id = 1").await;
    assert!(err.contains("ck_timeslots_booked_count"), "{err}");
}

async fn a_webhook_event_is_stored_once(db: TestDb) {
    let conn = migrated(&db).await;
    one_bookable_slot(&conn).await;
    let insert = "INSERT INTO webhook_events (tenant_id, provider, event_id, event_type, payload) \
                  VALUES (1, 'stripe', 'evt_1', 'payment_intent.succeeded', '{\"id\": \"evt_1\"}')";
    ok(&conn, insert).await;
    let err = refused(&conn, insert).await;
    assert!(
        err.contains("uq_webhook_events_provider_event_id") || err.contains("UNIQUE"),
        "{err}"
    );
    assert_eq!(
        number(&conn, "SELECT COUNT(*) FROM webhook_events").await,
        1
    );
    // The same event id from another provider is another event.
    ok(&conn, &insert.replace("'stripe'", "'paypal'")).await;
}

async fn deleting_follows_the_declared_rules(db: TestDb) {
    let conn = migrated(&db).await;
    one_bookable_slot(&conn).await;
    ok(
        &conn,
        "INSERT INTO users (id, tenant_id, email, name, role) VALUES (1, 1, 'o@example.com', 'Owner', 'owner')",
    )
    .await;
    ok(
        &conn,
        "INSERT INTO audit_logs (tenant_id, actor_user_id, action, entity_type) VALUES (1, 1, 'create', 'service')",
    )
    .await;
    book(&conn, 1, 1).await.unwrap();

    // Booked things cannot go: the customer, the slot, the tenant (RESTRICT).
    refused(&conn, "DELETE FROM customers WHERE id = 1").await;
    refused(&conn, "DELETE FROM timeslots WHERE id = 1").await;
    refused(&conn, "DELETE FROM tenants WHERE id = 1").await;
    assert_eq!(number(&conn, "SELECT COUNT(*) FROM tenants").await, 1);
    assert_eq!(number(&conn, BOOKED).await, 1);

    // An audit entry outlives its author (SET NULL).
    ok(&conn, "DELETE FROM users WHERE id = 1").await;
    assert_eq!(
        number(
            &conn,
            "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id IS NULL"
        )
        .await,
        1
    );

    // Without bookings the tenant goes, and everything it owns with it (CASCADE).
    ok(&conn, "DELETE FROM bookings WHERE id = 1").await;
    ok(&conn, "DELETE FROM tenants WHERE id = 1").await;
    for table in [
        "customers",
        "services",
        "resources",
        "timeslots",
        "audit_logs",
        "booking_items",
    ] {
        assert_eq!(
            number(&conn, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table} kept rows of a deleted tenant"
        );
    }
}

async fn updated_at_is_kept_by_the_database(db: TestDb) {
    let conn = migrated(&db).await;
    one_bookable_slot(&conn).await;
    let long_ago = if conn.get_database_backend() == DbBackend::Sqlite {
        "'2000-01-01T00:00:00+00:00'"
    } else {
        "'2000-01-01 00:00:00'"
    };
    ok(
        &conn,
        &format!("UPDATE tenants SET updated_at = {long_ago} WHERE id = 1"),
    )
    .await;
    let stale = "SELECT COUNT(*) FROM tenants WHERE updated_at < '2001-01-01'";
    assert_eq!(
        number(&conn, stale).await,
        1,
        "an explicit updated_at is kept"
    );
    ok(&conn, "UPDATE tenants SET name = 'Renamed' WHERE id = 1").await;
    assert_eq!(number(&conn, stale).await, 0, "updated_at did not move");
}

async fn views_and_entities_read_the_schema(db: TestDb) {
    let conn = migrated(&db).await;
    one_bookable_slot(&conn).await;
    let b = conn.get_database_backend();
    // A second slot on a holiday and a third during time off: neither is available.
    for sql in [
        format!(
            "INSERT INTO timeslots (id, tenant_id, resource_id, start_at, end_at) VALUES (2, 1, 1, {}, {})",
            at(b, 1, 10),
            at(b, 1, 11)
        ),
        "INSERT INTO holidays (tenant_id, day, name) VALUES (1, '2030-01-01', 'New Year')"
            .to_owned(),
        format!(
            "INSERT INTO timeslots (id, tenant_id, resource_id, start_at, end_at) VALUES (3, 1, 1, {}, {})",
            at(b, 9, 10),
            at(b, 9, 11)
        ),
        format!(
            "INSERT INTO resource_time_offs (tenant_id, resource_id, start_at, end_at) VALUES (1, 1, {}, {})",
            at(b, 9, 0),
            at(b, 9, 23)
        ),
    ] {
        ok(&conn, &sql).await;
    }
    book(&conn, 1, 1).await.unwrap();

    let available = entity::available_timeslots::Entity::find()
        .order_by_asc(entity::available_timeslots::Column::Id)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(available.len(), 1, "{available:?}");
    assert_eq!((available[0].id, available[0].remaining), (1, 1));

    let summary = entity::daily_booking_summary::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(
        (
            summary[0].day.to_string(),
            summary[0].bookings,
            summary[0].confirmed
        ),
        ("2030-01-07".to_owned(), 1, 1)
    );

    let slot = entity::timeslots::Entity::find_by_id(1)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((slot.capacity, slot.booked_count), (2, 1));
    assert_eq!(slot.start_at.to_rfc3339(), "2030-01-07T10:00:00+00:00");
}

/// Every table entity in dependency order (referenced tables first), to be created from its
/// definition and compared with the migrated table.
fn table_entities(backend: DbBackend) -> Vec<(String, sea_orm::sea_query::TableCreateStatement)> {
    use entity::*;
    let schema = Schema::new(backend);
    macro_rules! tables {
        ($($m:ident),* $(,)?) => {
            vec![$((
                stringify!($m).to_owned(),
                schema.create_table_from_entity($m::Entity),
            )),*]
        };
    }
    tables![
        tenants,
        users,
        cancel_reasons,
        customers,
        services,
        resources,
        service_resources,
        user_resources,
        schedules,
        business_hours,
        holidays,
        resource_time_offs,
        timeslots,
        bookings,
        booking_items,
        booking_cancellations,
        payment_methods,
        payments,
        webhook_events,
        notifications,
        outbox_events,
        audit_logs,
        idempotency_keys,
    ]
}

/// Creates each table from its entity alone in a second database and compares the columns
/// (name, type, nullability, order) with the migrated one: a field added, dropped or retyped on
/// either side fails here.
async fn entities_match_the_migrated_tables(db: TestDb) {
    let conn = migrated(&db).await;
    let migrated_tables = db.table_names().await;
    let from_entities = TestDb::create(db.backend).await.unwrap();
    let other = from_entities.connect().await;
    let backend = conn.get_database_backend();
    let entities = table_entities(backend);

    let mut entity_tables: Vec<&str> = entities.iter().map(|(name, _)| name.as_str()).collect();
    entity_tables.sort_unstable();
    let mut app_tables: Vec<&str> = migrated_tables
        .iter()
        .map(String::as_str)
        .filter(|t| !t.starts_with("schema_migrations"))
        .collect();
    app_tables.sort_unstable();
    assert_eq!(
        entity_tables, app_tables,
        "a table has no entity, or the reverse"
    );

    for (name, create) in entities {
        other
            .execute(&create)
            .await
            .unwrap_or_else(|err| panic!("cannot create {name} from its entity: {err}"));
        assert_eq!(
            from_entities.columns(&name).await,
            db.columns(&name).await,
            "entity {name} and its migrated table differ (left: entity, right: migration)"
        );
    }
}

backend_matrix!(
    a_slot_cannot_be_booked_past_its_capacity,
    a_webhook_event_is_stored_once,
    deleting_follows_the_declared_rules,
    updated_at_is_kept_by_the_database,
    views_and_entities_read_the_schema,
    entities_match_the_migrated_tables,
);

//! Schema snapshots on every backend: every kind of object is read, the same schema reads the
//! same every time, the ledger is left out, and `up`, `down --all`, `up` of the reference schema
//! leaves what one `up` does. On PostgreSQL, objects in schemas besides the current one are read
//! and named with their schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::schema::snapshot::{self, SchemaSnapshot};
use migration_engine::{
    DownTarget, MigrationSet, Operations, RunOptions, Session, SessionOptions, Target, UpTarget,
};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use tests::{Backend, TestDb, backend_matrix};

/// Runs statements one by one.
async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Creates one object of every kind the backend has: tables with defaults, auto-increment,
/// generated columns, a primary key, a foreign key with its rules, unique and check constraints,
/// a descending and (where supported) a partial index, a view, a trigger, and on PostgreSQL a
/// function, a sequence, an enum, a domain and a materialized view (MariaDB: a function, a
/// sequence and an `ON UPDATE` column).
struct EveryKind;

impl MigrationName for EveryKind {
    fn name(&self) -> &str {
        "m20990201_000001_every_kind"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for EveryKind {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table("owners")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new("email")
                            .string_len(120)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new("nickname").string_len(40).default("anon"))
                    .col(ColumnDef::new("score").integer().not_null().default(0))
                    .check(Check::named("ck_owners_score", Expr::col("score").gte(0)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("pets")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("owner_id").big_integer().not_null())
                    .col(ColumnDef::new("name").string_len(40).not_null())
                    .col(ColumnDef::new("species").string_len(20).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pets_owner_id")
                            .from("pets", "owner_id")
                            .to("owners", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .index(
                        Index::create()
                            .name("uq_pets_owner_id_name")
                            .unique()
                            .col("owner_id")
                            .col("name"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pets_species_name")
                    .table("pets")
                    .col("species")
                    .col(("name", IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        run(
            manager,
            &["CREATE VIEW v_pet_owners AS SELECT p.id, p.name, o.email FROM pets p JOIN owners o ON o.id = p.owner_id"],
        )
        .await?;
        match backend {
            DbBackend::Postgres => {
                run(
                    manager,
                    &[
                        "ALTER TABLE pets ADD COLUMN name_length integer GENERATED ALWAYS AS (length(name)) STORED",
                        "CREATE INDEX idx_pets_cats ON pets (name) WHERE species = 'cat'",
                        "CREATE FUNCTION bump_score() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE owners SET score = score + 1 WHERE id = NEW.owner_id; RETURN NEW; END $$",
                        "CREATE TRIGGER trg_pets_bump AFTER INSERT ON pets FOR EACH ROW EXECUTE FUNCTION bump_score()",
                        "CREATE SEQUENCE ticket_numbers AS integer START 100 INCREMENT 5",
                        "CREATE TYPE pet_size AS ENUM ('small', 'large')",
                        "CREATE DOMAIN positive_int AS integer NOT NULL CHECK (VALUE > 0)",
                        "CREATE MATERIALIZED VIEW mv_species AS SELECT species, count(*) AS n FROM pets GROUP BY species",
                    ],
                )
                .await
            }
            DbBackend::MySql => {
                run(
                    manager,
                    &[
                        "ALTER TABLE pets ADD COLUMN name_length INT AS (CHAR_LENGTH(name)) STORED",
                        "ALTER TABLE owners ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
                        "CREATE TRIGGER trg_pets_bump AFTER INSERT ON pets FOR EACH ROW UPDATE owners SET score = score + 1 WHERE id = NEW.owner_id",
                        "CREATE FUNCTION pet_count() RETURNS BIGINT READS SQL DATA RETURN (SELECT COUNT(*) FROM pets)",
                        "CREATE SEQUENCE ticket_numbers START WITH 100 INCREMENT BY 5",
                    ],
                )
                .await
            }
            _ => {
                run(
                    manager,
                    &[
                        "ALTER TABLE pets ADD COLUMN name_length INTEGER GENERATED ALWAYS AS (length(name)) VIRTUAL",
                        "CREATE INDEX idx_pets_cats ON pets (name) WHERE species = 'cat'",
                        "CREATE TRIGGER trg_pets_bump AFTER INSERT ON pets BEGIN UPDATE owners SET score = score + 1 WHERE id = NEW.owner_id; END",
                    ],
                )
                .await
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend_specific: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP MATERIALIZED VIEW mv_species",
                "DROP DOMAIN positive_int",
                "DROP TYPE pet_size",
                "DROP SEQUENCE ticket_numbers",
                "DROP TRIGGER trg_pets_bump ON pets",
                "DROP FUNCTION bump_score()",
            ],
            DbBackend::MySql => &[
                "DROP SEQUENCE ticket_numbers",
                "DROP FUNCTION pet_count",
                "DROP TRIGGER trg_pets_bump",
            ],
            _ => &["DROP TRIGGER trg_pets_bump"],
        };
        run(manager, backend_specific).await?;
        run(manager, &["DROP VIEW v_pet_owners"]).await?;
        manager
            .drop_table(Table::drop().table("pets").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("owners").to_owned())
            .await
    }
}

fn every_kind() -> MigrationSet {
    MigrationSet::new(vec![Box::new(EveryKind)]).unwrap()
}

/// The operations of `set` on `db` with the ledger `ledger_table`, in a session of their own
/// (so under the migration lock until dropped).
async fn engine<'a>(db: &TestDb, set: &'a MigrationSet, ledger_table: &str) -> Operations<'a> {
    let target = Target::new(&db.url, None, None, Some(ledger_table.to_owned())).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    Operations::new(session, set)
}

async fn every_kind_of_object_is_read_and_reads_the_same_every_time(db: TestDb) {
    let set = every_kind();
    let engine = engine(&db, &set, "schema_migrations").await;
    let empty = engine.schema().await.unwrap();
    engine
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let schema = engine.schema().await.unwrap();
    assert_eq!(
        engine.schema().await.unwrap(),
        schema,
        "a second read differs"
    );

    assert_eq!(
        schema.tables.keys().collect::<Vec<_>>(),
        ["owners", "pets"],
        "the ledger is left out: {schema}"
    );
    let owners = schema.table("owners").unwrap();
    let id = owners.column("id").unwrap();
    assert!(id.auto_increment && !id.nullable, "{id:?}");
    assert!(owners.column("nickname").unwrap().nullable);
    assert!(
        owners
            .column("nickname")
            .unwrap()
            .default
            .as_deref()
            .is_some_and(|d| d.contains("anon")),
        "{owners:?}"
    );
    assert_eq!(
        owners.primary_key.as_ref().unwrap().columns,
        ["id".to_owned()]
    );
    assert!(
        owners.check_constraints.contains_key("ck_owners_score"),
        "{owners:?}"
    );
    let pets = schema.table("pets").unwrap();
    // SQLite keeps no constraint names: its foreign keys are keyed by what they link.
    let fk = pets
        .foreign_keys
        .values()
        .find(|fk| fk.columns == ["owner_id"])
        .unwrap_or_else(|| panic!("no foreign key on pets.owner_id: {pets:?}"));
    if db.backend != Backend::Sqlite {
        assert_eq!(fk.name.as_deref(), Some("fk_pets_owner_id"));
    }
    assert_eq!(
        (
            fk.columns.as_slice(),
            fk.referenced_table.as_str(),
            fk.referenced_columns.as_slice(),
            fk.on_delete.as_str(),
            fk.on_update.as_str()
        ),
        (
            ["owner_id".to_owned()].as_slice(),
            "owners",
            ["id".to_owned()].as_slice(),
            "CASCADE",
            "RESTRICT"
        )
    );
    assert_eq!(
        pets.indexes["idx_pets_species_name"].columns,
        ["species", "name DESC"]
    );
    assert!(pets.column("name_length").unwrap().generated.is_some());
    match db.backend {
        // MySQL/MariaDB keep no difference between unique constraints and unique indexes.
        Backend::MariaDb => assert!(pets.indexes["uq_pets_owner_id_name"].unique),
        Backend::Sqlite | Backend::Postgres => {
            assert!(
                pets.unique_constraints
                    .contains_key("uq_pets_owner_id_name"),
                "{pets:?}"
            );
            // An inline UNIQUE has no name on SQLite and a generated one on PostgreSQL.
            let email = if db.backend == Backend::Sqlite {
                "(email)"
            } else {
                "owners_email_key"
            };
            assert!(owners.unique_constraints.contains_key(email), "{owners:?}");
        }
    }
    if db.backend != Backend::MariaDb {
        assert!(
            pets.indexes["idx_pets_cats"]
                .predicate
                .as_deref()
                .is_some_and(|p| p.contains("cat")),
            "{pets:?}"
        );
    }
    assert!(schema.views.contains_key("v_pet_owners"));
    assert_eq!(
        schema
            .triggers
            .iter()
            .map(|t| (t.table.as_str(), t.name.as_str()))
            .collect::<Vec<_>>(),
        [("pets", "trg_pets_bump")]
    );
    match db.backend {
        Backend::Postgres => {
            assert!(schema.functions.contains_key("bump_score()"));
            assert_eq!(
                schema.sequences["ticket_numbers"].describe(),
                "integer start 100 increment 5 min 1 max 2147483647 no cycle"
            );
            assert_eq!(schema.types["pet_size"].definition, "'small', 'large'");
            assert!(schema.types.contains_key("positive_int"));
            assert!(schema.views["mv_species"].materialized);
            assert!(schema.extensions.contains_key("plpgsql"));
        }
        Backend::MariaDb => {
            assert!(schema.functions.contains_key("pet_count"));
            assert!(schema.sequences.contains_key("ticket_numbers"));
            assert!(
                owners
                    .column("updated_at")
                    .unwrap()
                    .on_update
                    .as_deref()
                    .is_some_and(|u| u.to_ascii_lowercase().contains("current_timestamp")),
                "{owners:?}"
            );
        }
        Backend::Sqlite => {}
    }

    // The JSON shape is part of the contract of `migrate schema --format json`.
    let json = serde_json::to_string_pretty(&schema).unwrap();
    insta::assert_snapshot!(format!("every_kind_{}", db.backend), json);

    engine
        .down(&DownTarget::All, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(engine.schema().await.unwrap(), empty);
}

async fn the_ledger_is_left_out_whatever_its_name(db: TestDb) {
    let set = every_kind();
    let engine = engine(&db, &set, "app_ledger").await;
    engine
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let tables = db.table_names().await;
    assert!(
        tables.contains(&"app_ledger".to_owned())
            && tables.contains(&"app_ledger_history".to_owned()),
        "{tables:?}"
    );
    let schema = engine.schema().await.unwrap();
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["owners", "pets"]);
    // Read under another ledger name, the same tables are ordinary tables.
    let other = snapshot::read(engine.connection(), "schema_migrations")
        .await
        .unwrap();
    assert!(other.tables.contains_key("app_ledger"));
    assert!(other.tables.contains_key("app_ledger_history"));
}

/// The reference schema, applied with the engine.
fn reference() -> MigrationSet {
    MigrationSet::from_migrator::<migration::Migrator>().unwrap()
}

async fn up_down_all_up_leaves_the_schema_of_one_up(db: TestDb) {
    let set = reference();
    let engine = engine(&db, &set, "schema_migrations").await;
    let empty: SchemaSnapshot = engine.schema().await.unwrap();
    let options = RunOptions::default();

    engine.up(&UpTarget::default(), &options).await.unwrap();
    let once = engine.schema().await.unwrap();
    assert!(!once.tables.is_empty());

    engine.down(&DownTarget::All, &options).await.unwrap();
    let reverted = engine.schema().await.unwrap();
    let left: Vec<String> = migration_engine::schema::diff::diff(&empty, &reverted)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(left.is_empty(), "down --all left: {left:#?}");
    assert_eq!(
        db.table_names().await,
        ["schema_migrations", "schema_migrations_history"],
        "down --all leaves only the ledger tables"
    );

    engine.up(&UpTarget::default(), &options).await.unwrap();
    let twice = engine.schema().await.unwrap();
    let changed: Vec<String> = migration_engine::schema::diff::diff(&once, &twice)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        changed.is_empty(),
        "up after down --all differs: {changed:#?}"
    );
    assert_eq!(twice, once);
}

/// Objects in schemas besides the current one (PostgreSQL): a schema `inventory` with a table
/// referring to one in `public` and referred to from there, an index, a trigger, a view, a
/// function, a sequence owned by a column and one on its own, and an enum; pgcrypto in a schema
/// `crypto` of its own; and a schema that belongs to an extension, which is not the project's.
struct OtherSchemas;

impl MigrationName for OtherSchemas {
    fn name(&self) -> &str {
        "m20990201_000002_other_schemas"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OtherSchemas {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &[
                "CREATE TABLE warehouses (id bigserial PRIMARY KEY, name text NOT NULL)",
                "CREATE SCHEMA inventory",
                "CREATE TYPE inventory.item_state AS ENUM ('new', 'sold')",
                "CREATE SEQUENCE inventory.lot_numbers AS integer START 10",
                "CREATE TABLE inventory.items (id bigserial PRIMARY KEY, \
                 warehouse_id bigint NOT NULL REFERENCES warehouses (id) ON DELETE CASCADE, \
                 state inventory.item_state NOT NULL DEFAULT 'new')",
                "CREATE INDEX idx_items_state ON inventory.items (state)",
                "CREATE TABLE shipments (id bigserial PRIMARY KEY, \
                 item_id bigint NOT NULL REFERENCES inventory.items (id))",
                "CREATE VIEW inventory.unsold AS SELECT id, warehouse_id FROM inventory.items WHERE state = 'new'",
                "CREATE FUNCTION inventory.item_count(warehouse bigint) RETURNS bigint LANGUAGE sql \
                 AS $$ SELECT count(*) FROM inventory.items WHERE warehouse_id = warehouse $$",
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                "CREATE TRIGGER trg_items_touch BEFORE UPDATE ON inventory.items \
                 FOR EACH ROW EXECUTE FUNCTION touch()",
                "CREATE SCHEMA crypto",
                "CREATE EXTENSION pgcrypto SCHEMA crypto",
                // An extension's own schema, like pg_cron's `cron`: made a member by hand.
                "CREATE SCHEMA extension_owned",
                "ALTER EXTENSION plpgsql ADD SCHEMA extension_owned",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &[
                "ALTER EXTENSION plpgsql DROP SCHEMA extension_owned",
                "DROP SCHEMA extension_owned",
                "DROP EXTENSION pgcrypto",
                "DROP SCHEMA crypto",
                "DROP TRIGGER trg_items_touch ON inventory.items",
                "DROP FUNCTION touch()",
                "DROP FUNCTION inventory.item_count(bigint)",
                "DROP VIEW inventory.unsold",
                "DROP TABLE shipments",
                "DROP TABLE inventory.items",
                "DROP SEQUENCE inventory.lot_numbers",
                "DROP TYPE inventory.item_state",
                "DROP SCHEMA inventory",
                "DROP TABLE warehouses",
            ],
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_in_other_schemas_are_read_qualified_and_the_current_schemas_bare() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let set = MigrationSet::new(vec![Box::new(OtherSchemas)]).unwrap();
    let engine = engine(&db, &set, "schema_migrations").await;
    let empty = engine.schema().await.unwrap();
    assert!(empty.schemas.is_empty(), "{empty}");
    engine
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let schema = engine.schema().await.unwrap();
    assert_eq!(
        engine.schema().await.unwrap(),
        schema,
        "a second read differs"
    );

    // The schemas: not `public` (current), not the system's, not an extension's.
    assert_eq!(
        schema.schemas.keys().collect::<Vec<_>>(),
        ["crypto", "inventory"],
        "{schema}"
    );
    assert_eq!(
        schema.tables.keys().collect::<Vec<_>>(),
        ["inventory.items", "shipments", "warehouses"],
        "the ledger is left out, the current schema's tables are bare: {schema}"
    );
    let items = schema.table("inventory.items").unwrap();
    let to_warehouses = items.foreign_keys.values().next().unwrap();
    assert_eq!(
        (
            to_warehouses.referenced_table.as_str(),
            to_warehouses.on_delete.as_str()
        ),
        ("warehouses", "CASCADE")
    );
    assert_eq!(
        items.column("state").unwrap().data_type,
        "inventory.item_state"
    );
    assert!(items.indexes.contains_key("idx_items_state"), "{items:?}");
    let to_items = schema
        .table("shipments")
        .unwrap()
        .foreign_keys
        .values()
        .next()
        .unwrap();
    assert_eq!(to_items.referenced_table, "inventory.items");
    assert_eq!(
        schema
            .triggers
            .iter()
            .map(|t| (t.table.as_str(), t.name.as_str()))
            .collect::<Vec<_>>(),
        [("inventory.items", "trg_items_touch")]
    );
    assert_eq!(
        schema.views.keys().collect::<Vec<_>>(),
        ["inventory.unsold"]
    );
    // pgcrypto's functions in `crypto` belong to the extension: it stands for them.
    assert_eq!(
        schema.functions.keys().collect::<Vec<_>>(),
        ["inventory.item_count(warehouse bigint)", "touch()"]
    );
    assert_eq!(
        schema.sequences.keys().collect::<Vec<_>>(),
        [
            "inventory.items_id_seq",
            "inventory.lot_numbers",
            "shipments_id_seq",
            "warehouses_id_seq"
        ]
    );
    assert_eq!(
        schema.sequences["inventory.items_id_seq"]
            .owned_by
            .as_deref(),
        Some("inventory.items.id")
    );
    assert_eq!(
        schema.types.keys().collect::<Vec<_>>(),
        ["inventory.item_state"]
    );
    assert_eq!(schema.extensions["pgcrypto"].schema, "crypto");

    // What `migrate schema` prints, the owner masked (it is whoever runs the tests).
    let owner = &schema.schemas["inventory"].owner;
    let text = schema
        .to_string()
        .replace(&format!("owned by {owner}\n"), "owned by [owner]\n");
    insta::assert_snapshot!("other_schemas_postgres", text);

    engine
        .down(&DownTarget::All, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(engine.schema().await.unwrap(), empty);
}

/// A ledger in a schema of its own (`--migration-schema`) is left out with that schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_in_a_schema_of_its_own_is_left_out_with_its_schema() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let set = every_kind();
    let target = Target::new(&db.url, None, Some("ledger".to_owned()), None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    let engine = Operations::new(session, &set);
    engine
        .up(&UpTarget::default(), &RunOptions::default())
        .await
        .unwrap();
    let schema = engine.schema().await.unwrap();
    assert!(schema.schemas.is_empty(), "{schema}");
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["owners", "pets"]);
    // Read as if the ledger were in the current schema, its schema and tables are ordinary.
    let other = snapshot::read(engine.connection(), "schema_migrations")
        .await
        .unwrap();
    assert!(other.schemas.contains_key("ledger"), "{other}");
    assert!(
        other.tables.contains_key("ledger.schema_migrations"),
        "{other}"
    );
}

backend_matrix!(
    every_kind_of_object_is_read_and_reads_the_same_every_time,
    the_ledger_is_left_out_whatever_its_name,
    up_down_all_up_leaves_the_schema_of_one_up,
);

#[tokio::test]
async fn an_empty_database_has_an_empty_snapshot() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let conn = db.connect().await;
    let schema = snapshot::read(&conn, "schema_migrations").await.unwrap();
    assert!(schema.is_empty(), "{schema}");
    assert_eq!(schema.to_string(), "The schema is empty.\n");
    assert_eq!(conn.get_database_backend(), DbBackend::Sqlite);
}

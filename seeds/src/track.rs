//! The tracking table, `<ledger>_seeds` (`schema_migrations_seeds` by default): one row per
//! seeding with its profile, seed, scale and date, when it ran, its row counts per table and
//! the content hash. It sits beside the migration ledger and takes its name as prefix, so the
//! engine counts it among its own tables; the seeder creates it when it first seeds.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use migration_engine::backend::is_undefined_table;
use migration_engine::backend::{read_timestamp, timestamp_column, timestamp_value};
use migration_engine::store::ledger::Ledger;
use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, Order, Query, Table, TableCreateStatement, TableRef,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use serde::Serialize;

use crate::error::{Result, SeedError};

/// One recorded seeding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedRecord {
    /// The profile's name.
    pub profile: String,
    /// The generator's seed.
    pub seed: u64,
    /// The scale (1 except for `load`).
    pub scale: u32,
    /// The date the data was generated around.
    pub today: NaiveDate,
    /// When it was seeded.
    pub seeded_at: DateTime<Utc>,
    /// Rows written per table.
    pub rows: BTreeMap<String, u64>,
    /// SHA-256 of the seeded rows (see [`crate::hash`]).
    pub content_hash: String,
    /// How long the whole seeding took.
    pub duration_ms: i64,
}

impl SeedRecord {
    /// All rows written.
    pub fn total_rows(&self) -> u64 {
        self.rows.values().sum()
    }
}

mod col {
    pub const ID: &str = "id";
    pub const PROFILE: &str = "profile";
    pub const SEED: &str = "seed";
    pub const SCALE: &str = "scale";
    pub const TODAY: &str = "today";
    pub const SEEDED_AT: &str = "seeded_at";
    pub const ROW_COUNTS: &str = "row_counts";
    pub const CONTENT_HASH: &str = "content_hash";
    pub const DURATION_MS: &str = "duration_ms";
}

/// The tracking table of one ledger.
#[derive(Debug, Clone)]
pub struct Tracking {
    backend: DbBackend,
    table: TableRef,
    name: String,
}

impl Tracking {
    /// The tracking table that goes with `ledger`.
    pub fn new(ledger: &Ledger) -> Self {
        Self {
            backend: ledger.backend(),
            table: ledger.companion("seeds"),
            name: format!("{}_seeds", ledger.table_name()),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn create(&self) -> TableCreateStatement {
        Table::create()
            .table(self.table.clone())
            .if_not_exists()
            .col(
                ColumnDef::new(Alias::new(col::ID))
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Alias::new(col::PROFILE))
                    .string_len(32)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::SEED))
                    .string_len(20)
                    .not_null(),
            )
            .col(ColumnDef::new(Alias::new(col::SCALE)).integer().not_null())
            .col(
                ColumnDef::new(Alias::new(col::TODAY))
                    .string_len(10)
                    .not_null(),
            )
            .col(timestamp_column(self.backend, col::SEEDED_AT))
            .col(
                ColumnDef::new(Alias::new(col::ROW_COUNTS))
                    .text()
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::CONTENT_HASH))
                    .string_len(64)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::DURATION_MS))
                    .big_integer()
                    .not_null(),
            )
            .take()
    }

    /// The newest seeding recorded, if any; `None` also when the table does not exist yet.
    ///
    /// # Errors
    /// The database's error, other than a missing table.
    pub async fn latest<C: ConnectionTrait>(&self, db: &C) -> Result<Option<SeedRecord>> {
        let query = Query::select()
            .columns(
                [
                    col::PROFILE,
                    col::SEED,
                    col::SCALE,
                    col::TODAY,
                    col::SEEDED_AT,
                    col::ROW_COUNTS,
                    col::CONTENT_HASH,
                    col::DURATION_MS,
                ]
                .map(Alias::new),
            )
            .from(self.table.clone())
            .order_by(Alias::new(col::ID), Order::Desc)
            .limit(1)
            .take();
        match db.query_one(&query).await {
            Ok(Some(row)) => self.decode(&row).map(Some),
            Ok(None) => Ok(None),
            Err(e) if is_undefined_table(&e) => Ok(None),
            Err(e) => Err(SeedError::Database {
                context: format!("reading {}", self.name),
                source: e,
            }),
        }
    }

    fn decode(&self, row: &QueryResult) -> Result<SeedRecord> {
        let failed = || SeedError::db(format!("reading {}", self.name));
        let text = |column: &str| row.try_get::<String>("", column);
        let seed = text(col::SEED).map_err(failed())?;
        let today = text(col::TODAY).map_err(failed())?;
        let counts = text(col::ROW_COUNTS).map_err(failed())?;
        let malformed = |what: &str| SeedError::Database {
            context: format!("reading {}", self.name),
            source: sea_orm::DbErr::Type(format!(
                "malformed {what}; empty the table with `seed truncate`"
            )),
        };
        Ok(SeedRecord {
            profile: text(col::PROFILE).map_err(failed())?,
            seed: seed.parse().map_err(|_| malformed("seed"))?,
            scale: row
                .try_get::<i32>("", col::SCALE)
                .map(|s| u32::try_from(s).unwrap_or(1))
                .map_err(failed())?,
            today: today.parse().map_err(|_| malformed("date"))?,
            seeded_at: read_timestamp(self.backend, row, col::SEEDED_AT).map_err(failed())?,
            rows: serde_json::from_str(&counts).map_err(|_| malformed("row counts"))?,
            content_hash: text(col::CONTENT_HASH).map_err(failed())?,
            duration_ms: row.try_get::<i64>("", col::DURATION_MS).map_err(failed())?,
        })
    }

    /// Records a seeding, creating the table first if needed.
    ///
    /// # Errors
    /// The database's error.
    pub async fn record<C: ConnectionTrait>(&self, db: &C, record: &SeedRecord) -> Result<()> {
        let failed = || SeedError::db(format!("recording the seeding in {}", self.name));
        db.execute(&self.create()).await.map_err(failed())?;
        let mut insert = Query::insert();
        insert.into_table(self.table.clone()).columns(
            [
                col::PROFILE,
                col::SEED,
                col::SCALE,
                col::TODAY,
                col::SEEDED_AT,
                col::ROW_COUNTS,
                col::CONTENT_HASH,
                col::DURATION_MS,
            ]
            .map(Alias::new),
        );
        insert
            .values([
                Expr::val(record.profile.clone()),
                Expr::val(record.seed.to_string()),
                Expr::val(i32::try_from(record.scale).unwrap_or(i32::MAX)),
                Expr::val(record.today.format("%Y-%m-%d").to_string()),
                Expr::val(timestamp_value(self.backend, record.seeded_at)),
                Expr::val(serde_json::to_string(&record.rows).unwrap_or_default()),
                Expr::val(record.content_hash.clone()),
                Expr::val(record.duration_ms),
            ])
            .map_err(|e| SeedError::Database {
                context: format!("recording the seeding in {}", self.name),
                source: sea_orm::DbErr::Custom(e.to_string()),
            })?;
        db.execute(&insert).await.map_err(failed())?;
        Ok(())
    }

    /// Deletes every record; a missing table is fine.
    ///
    /// # Errors
    /// The database's error, other than a missing table.
    pub async fn clear<C: ConnectionTrait>(&self, db: &C) -> Result<()> {
        let delete = Query::delete().from_table(self.table.clone()).take();
        match db.execute(&delete).await {
            Ok(_) => Ok(()),
            Err(e) if is_undefined_table(&e) => Ok(()),
            Err(e) => Err(SeedError::Database {
                context: format!("emptying {}", self.name),
                source: e,
            }),
        }
    }
}

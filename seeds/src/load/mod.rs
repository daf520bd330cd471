//! Writing a generated dataset into the database: every table, parents first, inside one
//! transaction, so a failed load leaves nothing behind.
//!
//! PostgreSQL gets `COPY ... FROM STDIN` ([`copy`]), its fastest way in, for every table big
//! enough for it to pay ([`postgres`]). MariaDB and SQLite get multi-row `INSERT`s built with
//! SeaQuery ([`insert`]), as many rows per statement as the bind-parameter limit allows.

pub mod copy;
mod insert;
mod postgres;

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend};
use serde::Serialize;

use crate::error::Result;
use crate::generate::Dataset;
use crate::progress::Progress;

/// How loading one table went.
#[derive(Debug, Clone, Serialize)]
pub struct TableLoad {
    /// The table.
    pub table: &'static str,
    /// Rows written.
    pub rows: u64,
    /// How long it took.
    #[serde(rename = "ms", serialize_with = "millis")]
    pub took: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Loads `ds` into empty tables, in one transaction.
///
/// # Errors
/// [`crate::SeedError::Load`] naming the table that failed; the transaction is rolled back.
pub async fn load(
    db: &DatabaseConnection,
    ds: &Dataset,
    progress: &Progress,
) -> Result<Vec<TableLoad>> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            postgres::load(db.get_postgres_connection_pool(), ds, progress).await
        }
        _ => insert::load(db, ds, progress).await,
    }
}

/// Quotes an identifier for `backend`.
pub(crate) fn quote(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

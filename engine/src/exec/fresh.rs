//! What `fresh` drops, and which of it the project's migrations create: the list its
//! confirmation, its dry run and its report show.

use super::engine::Engine;
use crate::backend::wipe::{self, Listing, MigrationObjects, Object, ObjectKind};
use crate::error::{EngineError, Result};
use crate::store::adopt::SEAQL_TABLE;
use crate::store::ledger::LedgerRow;

/// Whether a table is migration bookkeeping rather than schema: the ledger `ledger_table`, its
/// companions (`<ledger>_history`, `<ledger>_seeds`), or SeaORM's `seaql_migrations`.
pub(crate) fn is_tracking_table(name: &str, ledger_table: &str) -> bool {
    let companion = name
        .get(..ledger_table.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ledger_table))
        && name.as_bytes().get(ledger_table.len()) == Some(&b'_');
    companion || name.eq_ignore_ascii_case(ledger_table) || name.eq_ignore_ascii_case(SEAQL_TABLE)
}

impl Engine<'_> {
    /// Every object `fresh` would drop, by kind and name, each marked with whether a migration of
    /// the project creates it (from the `up` SQL the code's migrations and consolidated
    /// migrations render, and the `down` SQL the ledger stored; see [`MigrationObjects`]) or
    /// whether it is the ledger. Reads only.
    ///
    /// # Errors
    /// A migration whose `up` cannot be rendered, or a database error while reading.
    pub async fn fresh_listing(&self) -> Result<Listing> {
        let mut objects = wipe::list_objects(&self.conn)
            .await
            .map_err(EngineError::db("listing the schema's objects"))?;
        objects.retain(|o| !self.is_lock_table(o));
        let created = self.migration_objects().await?;
        objects.extend(self.created_schemas(&created).await?);
        let table = self.ledger.table_name();
        Ok(Listing::new(&objects, &created, |o| {
            o.kind == ObjectKind::Table && is_tracking_table(&o.identifier(), table)
        }))
    }

    /// The schemas beside the current one that the migrations create, which `fresh` drops with
    /// everything in them (PostgreSQL; none elsewhere).
    ///
    /// # Errors
    /// A database error while reading the catalog.
    pub(crate) async fn created_schemas(&self, created: &MigrationObjects) -> Result<Vec<Object>> {
        let mut schemas = wipe::list_schemas(&self.conn)
            .await
            .map_err(EngineError::db("listing the schemas"))?;
        schemas.retain(|s| created.creates(s));
        Ok(schemas)
    }

    /// What the project's migrations create, from the `up` SQL the code renders and the `down`
    /// SQL the ledger stored (see [`MigrationObjects`]).
    ///
    /// # Errors
    /// A database error while reading the ledger.
    pub(crate) async fn migration_objects(&self) -> Result<MigrationObjects> {
        let up: Vec<String> = self
            .rendered_ups()
            .await
            .iter()
            .flat_map(|r| r.statements.iter().cloned())
            .collect();
        let stored: Vec<String> = self
            .ledger
            .read(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))?
            .unwrap_or_default()
            .iter()
            .filter_map(LedgerRow::down_statements)
            .flatten()
            .collect();
        Ok(MigrationObjects::from_sql(&up, &stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_its_companions_and_seaql_migrations_are_bookkeeping() {
        for name in [
            "schema_migrations",
            "schema_migrations_history",
            "schema_migrations_seeds",
            "SCHEMA_MIGRATIONS",
            "seaql_migrations",
        ] {
            assert!(is_tracking_table(name, "schema_migrations"), "{name}");
        }
        for name in ["schema_migrationsx", "tenants", "schema", "migrations"] {
            assert!(!is_tracking_table(name, "schema_migrations"), "{name}");
        }
    }
}

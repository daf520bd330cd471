//! What a database's schema is and whether migrations keep it honest: snapshots that compare
//! with `==` and differ in worded changes, and `verify`, which checks every `down` against its
//! `up` on a scratch database.

pub mod diff;
pub mod verify;

pub use crate::backend::snapshot;
use crate::backend::snapshot::SchemaSnapshot;
use crate::error::Result;

impl crate::exec::Engine<'_> {
    /// The schema as it stands, without the ledger's tables: what `migrate schema` prints and
    /// `migrate verify` compares. Reads only.
    ///
    /// # Errors
    /// A database error while reading the catalog.
    pub async fn schema(&self) -> Result<SchemaSnapshot> {
        let ledger = self.ledger();
        snapshot::read_beside_ledger(self.connection(), ledger.schema(), ledger.table_name()).await
    }
}

//! What the engine keeps and derives about a database's migrations: the ledger and its
//! history, adoption of `seaql_migrations`, checksums, and the SQL a migration renders (recorded
//! without a database) or sends (captured from the real connection).

pub mod adopt;
pub mod capture;
pub mod checksum;
pub mod history;
pub mod ledger;
pub mod render;

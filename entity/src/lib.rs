//! SeaORM entities of this application's schema, one module per table, matching what the
//! migrations in the `migration` crate create.

pub mod accounts;
pub mod notes;

/// Every entity, for `use entity::prelude::*`.
pub mod prelude {
    pub use super::accounts::Entity as Accounts;
    pub use super::notes::Entity as Notes;
}

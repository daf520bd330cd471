//! Listing and dropping every object in the target schema, for `fresh`, and telling which of
//! them this project's migrations create.
//!
//! Tables and views are not all a migration leaves behind: PostgreSQL schemas also hold
//! functions, types, free-standing sequences and extensions, and MySQL databases hold stored
//! routines. `fresh` promises the state of an empty database, so it drops those too; objects that
//! belong to an extension go with their extension.
//!
//! Before it drops anything, `fresh` lists what it will drop and marks what no migration of the
//! project creates (a table someone made by hand, another application's data): [`MigrationObjects`]
//! reads that from the SQL the migrations run, and [`Listing`] prints it.

mod catalog;
mod listing;
mod objects;
mod statements;

pub use catalog::{drop_all, drop_schemas, list_objects, list_schemas};
pub use listing::{ListedObject, Listing};
pub use objects::{Object, ObjectKind};
pub use statements::MigrationObjects;

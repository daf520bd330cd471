//! The reservation platform's schema, as reversible migrations in the order they run.
//!
//! Each migration lives in its own `mYYYYMMDD_HHMMSS_<name>.rs` module with an `up` and a
//! `down` that undoes exactly that `up`, and names in `DEPENDS_ON` the migrations it needs
//! (collected by [`Migrator::dependencies`]). `releases.toml` says which release shipped each.
//!
//! `migrate create` and `sea-orm-cli migrate generate` both edit this file: each adds a `mod`
//! line after the last one and an entry to the list of migrations below. sea-orm-cli rewrites
//! everything from the first `vec!` macro to the last line ending in `]`, so that list is the
//! only one here and the file ends with it. The rest of the crate's declarations (dependencies,
//! consolidated migrations, [`run_pending`], the tests) live in `project.rs`, which
//! `migrate squash` edits.

pub use sea_orm_migration::prelude::*;

mod project;
mod support;

pub use project::run_pending;

mod m20240813_000001_setup_extensions_and_functions;
mod m20240813_000002_create_core_tables;
mod m20240813_000003_create_tenant_dependent_tables;
mod m20240813_000004_create_relationship_tables;
mod m20240813_000005_create_schedule_tables;
mod m20240813_000006_create_timeslots;
mod m20240813_000007_create_booking_tables;
mod m20240813_000008_create_payment_tables;
mod m20240813_000009_create_system_tables;
mod m20240813_000010_create_indexes;
mod m20240813_000011_create_views;

/// The ordered list of this application's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240813_000001_setup_extensions_and_functions::Migration),
            Box::new(m20240813_000002_create_core_tables::Migration),
            Box::new(m20240813_000003_create_tenant_dependent_tables::Migration),
            Box::new(m20240813_000004_create_relationship_tables::Migration),
            Box::new(m20240813_000005_create_schedule_tables::Migration),
            Box::new(m20240813_000006_create_timeslots::Migration),
            Box::new(m20240813_000007_create_booking_tables::Migration),
            Box::new(m20240813_000008_create_payment_tables::Migration),
            Box::new(m20240813_000009_create_system_tables::Migration),
            Box::new(m20240813_000010_create_indexes::Migration),
            Box::new(m20240813_000011_create_views::Migration),
        ]
    }
}

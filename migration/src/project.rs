//! What the migration crate declares beyond its list of migrations: what each migration needs,
//! the consolidated migrations that may stand in for runs of them, and [`run_pending`] for
//! services that migrate at start-up.
//!
//! They live here rather than in `lib.rs` because `sea-orm-cli migrate generate` rewrites
//! `lib.rs` from its first `vec!` macro to its last line ending in `]`: a list after the
//! migration list there would be lost. `migrate squash` declares each consolidated migration it
//! writes in this module (with `#[path]`, as its file sits beside the migrations; a `mod` line
//! in `lib.rs` would have sea-orm-cli list it as an ordinary migration) and adds it to
//! [`Migrator::squashes`].

use super::*;

/// Applies every pending migration at service start-up, safely from many replicas at once:
/// the same lock, checks and ledger as `migrate up`, on a session of its own (the pool passed in
/// is only read for its settings). Settings come from `MIGRATION_TABLE`, `DATABASE_SCHEMA`,
/// `MIGRATION_SCHEMA` and `MIGRATION_LOCK_TIMEOUT`, as for the command line.
///
/// # Errors
/// What `migrate up` would refuse or fail with, as a typed [`migration_engine::EngineError`].
pub async fn run_pending(
    db: &sea_orm_migration::sea_orm::DatabaseConnection,
) -> Result<migration_engine::RunReport, migration_engine::EngineError> {
    let set = migration_engine::MigrationSet::from_migrator::<Migrator>()?
        .with_squashes(Migrator::squashes())?;
    let options = migration_engine::StartupOptions::from_env()?;
    migration_engine::run_pending(db, &set, &options).await
}

impl Migrator {
    /// Consolidated migrations that fresh databases run in place of the migrations each one
    /// replaces. `migrate squash --to-release X NAME` writes one and lists it here; there is none
    /// yet, as eleven migrations replay in well under a second.
    pub fn squashes() -> Vec<migration_engine::Squash> {
        vec![]
    }

    /// The lint rules migrations allow on purpose (each one's `LINT_ALLOW`), by module name;
    /// `migrate lint` shows their findings as allowed, with the reason.
    pub fn lint_allowances() -> Vec<(&'static str, &'static [(&'static str, &'static str)])> {
        vec![(
            "m20240813_000010_create_indexes",
            m20240813_000010_create_indexes::LINT_ALLOW,
        )]
    }

    /// What each migration declares it needs, by module name. A migration missing from this
    /// list (one added by `sea-orm-cli migrate generate`, say) is taken to need every earlier
    /// one, the safe default.
    pub fn dependencies() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            (
                "m20240813_000001_setup_extensions_and_functions",
                m20240813_000001_setup_extensions_and_functions::DEPENDS_ON,
            ),
            (
                "m20240813_000002_create_core_tables",
                m20240813_000002_create_core_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000003_create_tenant_dependent_tables",
                m20240813_000003_create_tenant_dependent_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000004_create_relationship_tables",
                m20240813_000004_create_relationship_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000005_create_schedule_tables",
                m20240813_000005_create_schedule_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000006_create_timeslots",
                m20240813_000006_create_timeslots::DEPENDS_ON,
            ),
            (
                "m20240813_000007_create_booking_tables",
                m20240813_000007_create_booking_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000008_create_payment_tables",
                m20240813_000008_create_payment_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000009_create_system_tables",
                m20240813_000009_create_system_tables::DEPENDS_ON,
            ),
            (
                "m20240813_000010_create_indexes",
                m20240813_000010_create_indexes::DEPENDS_ON,
            ),
            (
                "m20240813_000011_create_views",
                m20240813_000011_create_views::DEPENDS_ON,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_dependency_is_an_earlier_migration() {
        let order: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        for (name, needs) in Migrator::dependencies() {
            let at = order.iter().position(|m| m == name);
            assert!(
                at.is_some(),
                "{name} declares dependencies but is not listed"
            );
            for need in needs {
                let before = order.iter().position(|m| m == need);
                assert!(
                    before.is_some() && before < at,
                    "{name} depends on {need}, which is not an earlier migration"
                );
            }
        }
    }
}

//! `BENCH_TRIVIAL=N` generated migrations, each creating one one-column table (and its `down`
//! dropping it): so little SQL that what a run costs beyond it is the tool's own work.

use sea_orm_migration::prelude::*;

/// The variable that says how many migrations [`Trivial`] lists.
pub const COUNT_VAR: &str = "BENCH_TRIVIAL";

/// A migrator over `BENCH_TRIVIAL` generated migrations (none when it is unset).
pub struct Trivial;

impl Trivial {
    /// How many migrations `BENCH_TRIVIAL` asks for.
    pub fn count() -> usize {
        std::env::var(COUNT_VAR)
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl MigratorTrait for Trivial {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        (1..=Self::count())
            .map(|n| Box::new(Step::new(n)) as Box<dyn MigrationTrait>)
            .collect()
    }
}

/// Migration number `n`: version `20250101` plus `n` seconds after midnight, table
/// `trivial_<n>`.
struct Step {
    name: String,
    table: String,
}

impl Step {
    fn new(n: usize) -> Self {
        let (h, m, s) = (n / 3600, n / 60 % 60, n % 60);
        Self {
            name: format!("m20250101_{h:02}{m:02}{s:02}_trivial_{n:05}"),
            table: format!("trivial_{n:05}"),
        }
    }
}

impl MigrationName for Step {
    fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Step {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new(&self.table))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(&self.table)).to_owned())
            .await
    }
}

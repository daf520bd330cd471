//! A `migrate` command line over four test-only migrations and a hand-written consolidated
//! migration that replaces the first three (release 1.0.0): what the squash tests run to see a
//! fresh database take the consolidated path, a partly migrated one the individual path, and
//! both end in the same schema. It declares releases and dependencies the way a project's
//! `main.rs` does.

use migration_engine::{Project, Squash};
use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// `accounts (id, email)`.
struct CreateAccounts;

impl MigrationName for CreateAccounts {
    fn name(&self) -> &str {
        "m20990201_000001_create_accounts"
    }
}

fn accounts() -> TableCreateStatement {
    Table::create()
        .table("accounts")
        .col(
            ColumnDef::new("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new("email").string_len(120).not_null())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAccounts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(accounts()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("accounts").to_owned())
            .await
    }
}

/// `orders (id, account_id → accounts, total)`.
struct CreateOrders;

impl MigrationName for CreateOrders {
    fn name(&self) -> &str {
        "m20990201_000002_create_orders"
    }
}

/// `orders`, with the `note` column of the third migration when `with_note`.
fn orders(with_note: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table("orders")
        .col(
            ColumnDef::new("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new("account_id").big_integer().not_null())
        .col(ColumnDef::new("total").big_integer().not_null().default(0))
        .foreign_key(
            ForeignKey::create()
                .name("fk_orders_account_id")
                .from("orders", "account_id")
                .to("accounts", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
    if with_note {
        table.col(ColumnDef::new("note").string_len(200).null());
    }
    table.to_owned()
}

fn orders_index() -> IndexCreateStatement {
    Index::create()
        .name("idx_orders_account_id")
        .table("orders")
        .col("account_id")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOrders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(orders(false)).await?;
        manager.create_index(orders_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("orders").to_owned())
            .await
    }
}

/// Adds `orders.note`.
struct AddOrderNote;

impl MigrationName for AddOrderNote {
    fn name(&self) -> &str {
        "m20990201_000003_add_order_note"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddOrderNote {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(ColumnDef::new("note").string_len(200).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("note")
                    .to_owned(),
            )
            .await
    }
}

/// `audit (id, account_id, action)`: release 1.1.0, after the consolidated range.
struct CreateAudit;

impl MigrationName for CreateAudit {
    fn name(&self) -> &str {
        "m20990201_000004_create_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAudit {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit")
                    .col(ColumnDef::new("id").big_integer().not_null().primary_key())
                    .col(ColumnDef::new("account_id").big_integer().null())
                    .col(ColumnDef::new("action").string_len(40).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit").to_owned())
            .await
    }
}

/// Release 1.0.0 in one step, written by hand as teams write baselines: `orders` is created with
/// its `note` column rather than altered afterwards.
struct Baseline;

impl MigrationName for Baseline {
    fn name(&self) -> &str {
        "m20990201_000100_baseline_1_0_0"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Baseline {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(accounts()).await?;
        manager.create_table(orders(true)).await?;
        manager.create_index(orders_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("orders").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("accounts").to_owned())
            .await
    }
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateAccounts),
            Box::new(CreateOrders),
            Box::new(AddOrderNote),
            Box::new(CreateAudit),
        ]
    }
}

const RELEASES: &str = r#"
unreleased = []

[[release]]
version = "1.0.0"
description = "Accounts and orders"
migrations = [
  "m20990201_000001_create_accounts",
  "m20990201_000002_create_orders",
  "m20990201_000003_add_order_note",
]

[[release]]
version = "1.1.0"
description = "Audit"
migrations = ["m20990201_000004_create_audit"]
"#;

fn main() -> ExitCode {
    let project = Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR"))
        .dependencies(vec![
            ("m20990201_000001_create_accounts", &[]),
            (
                "m20990201_000002_create_orders",
                &["m20990201_000001_create_accounts"],
            ),
            (
                "m20990201_000003_add_order_note",
                &["m20990201_000002_create_orders"],
            ),
            (
                "m20990201_000004_create_audit",
                &["m20990201_000001_create_accounts"],
            ),
        ])
        .releases(RELEASES)
        .squashes(vec![Squash::new(
            Baseline,
            &[
                "m20990201_000001_create_accounts",
                "m20990201_000002_create_orders",
                "m20990201_000003_add_order_note",
            ],
        )]);
    migration_engine::cli::run(project)
}

//! Deterministic sample data for development and QA, written through the `entity` crate so it
//! follows the current schema (never from inside migrations, whose meaning must not change).

use entity::{accounts, notes};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, TransactionTrait,
};

/// The sample accounts: the same emails and names on every run.
pub const ACCOUNTS: [(&str, &str); 3] = [
    ("ada@example.test", "Ada"),
    ("grace@example.test", "Grace"),
    ("linus@example.test", "Linus"),
];

/// Inserts the sample accounts with two notes each, in one transaction. Does nothing and returns
/// 0 when accounts already exist, so running it twice changes nothing.
///
/// # Errors
/// The database error of the first failing insert; nothing is kept then.
pub async fn seed_sample(db: &DatabaseConnection) -> Result<u64, DbErr> {
    if accounts::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    let txn = db.begin().await?;
    let mut rows = 0;
    for (i, (email, name)) in ACCOUNTS.iter().enumerate() {
        let id = i64::try_from(i).unwrap_or(0) + 1;
        accounts::Entity::insert(accounts::ActiveModel {
            id: Set(id),
            email: Set((*email).to_owned()),
            display_name: Set(Some((*name).to_owned())),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        rows += 1;
        for n in 1..=2 {
            notes::Entity::insert(notes::ActiveModel {
                id: Set(id * 10 + n),
                account_id: Set(id),
                body: Set(format!("Note {n} of {name}")),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            rows += 1;
        }
    }
    txn.commit().await?;
    Ok(rows)
}

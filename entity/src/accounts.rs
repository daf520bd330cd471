//! `accounts`: one row per user account.

use sea_orm::entity::prelude::*;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique login address.
    #[sea_orm(unique)]
    pub email: String,
    /// Shown name, added by a later migration.
    pub display_name: Option<String>,
    /// Set by the database on insert.
    pub created_at: DateTime,
}

/// Relations of an account.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// An account's notes.
    #[sea_orm(has_many = "super::notes::Entity")]
    Notes,
}

impl Related<super::notes::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notes.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `daily_booking_summary` (view): per tenant and UTC day, bookings by status and the revenue
//! of confirmed and completed ones. Read-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_booking_summary")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// The UTC date of the bookings' start.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub bookings: i64,
    pub pending: i64,
    pub confirmed: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub no_show: i64,
    pub revenue_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenants,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

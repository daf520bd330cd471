//! `cancel_reasons`: The reasons a tenant offers when a booking is cancelled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cancel_reasons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "uq_cancel_reasons_tenant_id_code")]
    pub tenant_id: i64,
    #[sea_orm(
        column_type = "String(StringLen::N(32))",
        unique_key = "uq_cancel_reasons_tenant_id_code"
    )]
    pub code: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub label: String,
    pub active: bool,
    pub sort_order: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::booking_cancellations::Entity")]
    BookingCancellations,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
}

impl Related<super::booking_cancellations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingCancellations.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

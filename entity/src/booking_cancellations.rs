//! `booking_cancellations`: Who cancelled a booking, when and why (at most one per booking).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_cancellations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    #[sea_orm(unique)]
    pub booking_id: i64,
    pub cancel_reason_id: Option<i64>,
    pub cancelled_by_user_id: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub cancelled_by: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub cancelled_at: DateTimeWithTimeZone,
    pub created_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bookings::Entity",
        from = "Column::BookingId",
        to = "super::bookings::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Bookings,
    #[sea_orm(
        belongs_to = "super::cancel_reasons::Entity",
        from = "Column::CancelReasonId",
        to = "super::cancel_reasons::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    CancelReasons,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::CancelledByUserId",
        to = "super::users::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Users,
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::cancel_reasons::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CancelReasons.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

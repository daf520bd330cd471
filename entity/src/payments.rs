//! `payments`: Charges and refunds of a booking.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub booking_id: i64,
    pub payment_method_id: Option<i64>,
    #[sea_orm(
        column_type = "String(StringLen::N(32))",
        unique_key = "uq_payments_provider_provider_payment_id"
    )]
    pub provider: String,
    #[sea_orm(
        column_type = "String(StringLen::N(255))",
        nullable,
        unique_key = "uq_payments_provider_provider_payment_id"
    )]
    pub provider_payment_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub status: String,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    #[sea_orm(column_type = "Char(Some(3))")]
    pub currency: String,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub failure_reason: Option<String>,
    pub paid_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bookings::Entity",
        from = "Column::BookingId",
        to = "super::bookings::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Bookings,
    #[sea_orm(
        belongs_to = "super::payment_methods::Entity",
        from = "Column::PaymentMethodId",
        to = "super::payment_methods::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    PaymentMethods,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
    #[sea_orm(has_many = "super::webhook_events::Entity")]
    WebhookEvents,
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::payment_methods::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PaymentMethods.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::webhook_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookEvents.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

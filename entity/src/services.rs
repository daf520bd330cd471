//! `services`: What customers book, with duration and price.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "uq_services_tenant_id_name")]
    pub tenant_id: i64,
    #[sea_orm(
        column_type = "String(StringLen::N(200))",
        unique_key = "uq_services_tenant_id_name"
    )]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub duration_minutes: i32,
    pub buffer_minutes: i32,
    pub price_cents: i64,
    #[sea_orm(column_type = "Char(Some(3))")]
    pub currency: String,
    pub active: bool,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::bookings::Entity")]
    Bookings,
    #[sea_orm(has_many = "super::service_resources::Entity")]
    ServiceResources,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
    #[sea_orm(has_many = "super::timeslots::Entity")]
    Timeslots,
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::service_resources::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ServiceResources.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::timeslots::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Timeslots.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

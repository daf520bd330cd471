//! `resources`: Staff, rooms, equipment and tables that bookings occupy.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "uq_resources_tenant_id_name")]
    pub tenant_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub kind: String,
    #[sea_orm(
        column_type = "String(StringLen::N(200))",
        unique_key = "uq_resources_tenant_id_name"
    )]
    pub name: String,
    pub capacity: i32,
    pub active: bool,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::booking_items::Entity")]
    BookingItems,
    #[sea_orm(has_many = "super::resource_time_offs::Entity")]
    ResourceTimeOffs,
    #[sea_orm(has_many = "super::schedules::Entity")]
    Schedules,
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
    #[sea_orm(has_many = "super::user_resources::Entity")]
    UserResources,
}

impl Related<super::booking_items::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingItems.def()
    }
}

impl Related<super::resource_time_offs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ResourceTimeOffs.def()
    }
}

impl Related<super::schedules::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Schedules.def()
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

impl Related<super::user_resources::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserResources.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

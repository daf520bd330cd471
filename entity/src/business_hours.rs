//! `business_hours`: The weekly opening hours of a schedule (0 = Sunday).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "business_hours")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    #[sea_orm(unique_key = "uq_business_hours_schedule_id_day_of_week_open_time")]
    pub schedule_id: i64,
    #[sea_orm(unique_key = "uq_business_hours_schedule_id_day_of_week_open_time")]
    pub day_of_week: i16,
    #[sea_orm(unique_key = "uq_business_hours_schedule_id_day_of_week_open_time")]
    pub open_time: Time,
    pub close_time: Time,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::schedules::Entity",
        from = "Column::ScheduleId",
        to = "super::schedules::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Schedules,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
}

impl Related<super::schedules::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Schedules.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

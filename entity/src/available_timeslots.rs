//! `available_timeslots` (view): open slots with places left, on an active resource of an
//! active tenant, outside the resource's time off and the tenant's holidays. Read-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "available_timeslots")]
pub struct Model {
    /// The timeslot's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub tenant_id: i64,
    pub resource_id: i64,
    pub service_id: Option<i64>,
    pub start_at: DateTimeWithTimeZone,
    pub end_at: DateTimeWithTimeZone,
    pub capacity: i32,
    pub booked_count: i32,
    /// `capacity - booked_count`, always at least 1.
    pub remaining: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::timeslots::Entity",
        from = "Column::Id",
        to = "super::timeslots::Column::Id"
    )]
    Timeslots,
    #[sea_orm(
        belongs_to = "super::resources::Entity",
        from = "Column::ResourceId",
        to = "super::resources::Column::Id"
    )]
    Resources,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenants,
}

impl Related<super::timeslots::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Timeslots.def()
    }
}

impl Related<super::resources::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Resources.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

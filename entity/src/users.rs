//! `users`: A tenant's staff and administrators.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "uq_users_tenant_id_email")]
    pub tenant_id: i64,
    #[sea_orm(
        column_type = "String(StringLen::N(255))",
        unique_key = "uq_users_tenant_id_email"
    )]
    pub email: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub name: String,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub role: String,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub password_hash: Option<String>,
    pub active: bool,
    pub last_login_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::audit_logs::Entity")]
    AuditLogs,
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
    #[sea_orm(has_many = "super::user_resources::Entity")]
    UserResources,
}

impl Related<super::audit_logs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuditLogs.def()
    }
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

impl Related<super::user_resources::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserResources.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

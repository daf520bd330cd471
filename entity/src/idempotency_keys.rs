//! `idempotency_keys`: Replayed API requests get the first response instead of a second effect.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "uq_idempotency_keys_tenant_id_idempotency_key")]
    pub tenant_id: i64,
    #[sea_orm(
        column_type = "String(StringLen::N(255))",
        unique_key = "uq_idempotency_keys_tenant_id_idempotency_key"
    )]
    pub idempotency_key: String,
    #[sea_orm(column_type = "String(StringLen::N(10))")]
    pub request_method: String,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub request_path: String,
    #[sea_orm(column_type = "Char(Some(64))")]
    pub request_hash: String,
    pub response_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub locked_at: Option<DateTimeWithTimeZone>,
    pub expires_at: DateTimeWithTimeZone,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

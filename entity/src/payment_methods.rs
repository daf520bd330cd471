//! `payment_methods`: A customer's stored card or account at the payment provider.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_methods")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    #[sea_orm(
        column_type = "String(StringLen::N(32))",
        unique_key = "uq_payment_methods_provider_provider_ref"
    )]
    pub provider: String,
    #[sea_orm(
        column_type = "String(StringLen::N(255))",
        unique_key = "uq_payment_methods_provider_provider_ref"
    )]
    pub provider_ref: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub brand: Option<String>,
    #[sea_orm(column_type = "Char(Some(4))", nullable)]
    pub last4: Option<String>,
    pub exp_month: Option<i16>,
    pub exp_year: Option<i16>,
    pub is_default: bool,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::customers::Entity",
        from = "Column::CustomerId",
        to = "super::customers::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Customers,
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
}

impl Related<super::customers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customers.def()
    }
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `tenants`: One business on the platform; every other table belongs to one.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(63))", unique)]
    pub slug: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub name: String,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub business_type: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub timezone: String,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub status: String,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::audit_logs::Entity")]
    AuditLogs,
    #[sea_orm(has_many = "super::booking_cancellations::Entity")]
    BookingCancellations,
    #[sea_orm(has_many = "super::booking_items::Entity")]
    BookingItems,
    #[sea_orm(has_many = "super::bookings::Entity")]
    Bookings,
    #[sea_orm(has_many = "super::business_hours::Entity")]
    BusinessHours,
    #[sea_orm(has_many = "super::cancel_reasons::Entity")]
    CancelReasons,
    #[sea_orm(has_many = "super::customers::Entity")]
    Customers,
    #[sea_orm(has_many = "super::holidays::Entity")]
    Holidays,
    #[sea_orm(has_many = "super::idempotency_keys::Entity")]
    IdempotencyKeys,
    #[sea_orm(has_many = "super::notifications::Entity")]
    Notifications,
    #[sea_orm(has_many = "super::outbox_events::Entity")]
    OutboxEvents,
    #[sea_orm(has_many = "super::payment_methods::Entity")]
    PaymentMethods,
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
    #[sea_orm(has_many = "super::resource_time_offs::Entity")]
    ResourceTimeOffs,
    #[sea_orm(has_many = "super::resources::Entity")]
    Resources,
    #[sea_orm(has_many = "super::schedules::Entity")]
    Schedules,
    #[sea_orm(has_many = "super::service_resources::Entity")]
    ServiceResources,
    #[sea_orm(has_many = "super::services::Entity")]
    Services,
    #[sea_orm(has_many = "super::timeslots::Entity")]
    Timeslots,
    #[sea_orm(has_many = "super::user_resources::Entity")]
    UserResources,
    #[sea_orm(has_many = "super::users::Entity")]
    Users,
    #[sea_orm(has_many = "super::webhook_events::Entity")]
    WebhookEvents,
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

impl Related<super::booking_items::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingItems.def()
    }
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::business_hours::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BusinessHours.def()
    }
}

impl Related<super::cancel_reasons::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CancelReasons.def()
    }
}

impl Related<super::customers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customers.def()
    }
}

impl Related<super::holidays::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Holidays.def()
    }
}

impl Related<super::idempotency_keys::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::IdempotencyKeys.def()
    }
}

impl Related<super::notifications::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notifications.def()
    }
}

impl Related<super::outbox_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OutboxEvents.def()
    }
}

impl Related<super::payment_methods::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PaymentMethods.def()
    }
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl Related<super::resource_time_offs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ResourceTimeOffs.def()
    }
}

impl Related<super::resources::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Resources.def()
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

impl Related<super::services::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Services.def()
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

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::webhook_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookEvents.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

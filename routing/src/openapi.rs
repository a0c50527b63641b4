//! JSON schemas of the types whose serde form is hand-written (GUID text, validated ranges and
//! lengths), so the gateway's OpenAPI document states the same limits the deserializers enforce.
//! Derive-only: behind the `openapi` feature, no runtime and no I/O.

use crate::config::values::{
    AcwExtension, AcwTime, EscalateAfter, MaxQueueTime, ParameterId, ParameterValue, RingTimeout,
    RonaCooldown, RonaResetTime, SlaTime,
};
use crate::ids::*;
use crate::task::{PreferredUser, PreferredUsers};
use std::borrow::Cow;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
// Implemented through `ComposeSchema` (utoipa's derive does the same) so that maps, options and
// arrays of these types compose; `PartialSchema` follows from utoipa's blanket impl.
use utoipa::__dev::ComposeSchema;
use utoipa::{PartialSchema, ToSchema};

macro_rules! guid_schema {
    ($($name:ident),* $(,)?) => {$(
        impl ComposeSchema for $name {
            fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("uuid".into())))
                    .description(Some(concat!("A GUID (", stringify!($name), ")")))
                    .into()
            }
        }
        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

guid_schema!(
    Guid,
    PartnerId,
    TenantId,
    M365TenantId,
    OrgUnitId,
    ServiceId,
    UserId,
    TaskId,
    SkillCategoryId,
    SkillId,
    ProfileId,
    PolicyId,
    NotAvailableReasonId,
    WorkflowId,
);

macro_rules! secs_schema {
    ($($name:ident),* $(,)?) => {$(
        impl ComposeSchema for $name {
            fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some($name::MIN))
                    .maximum(Some($name::MAX))
                    .description(Some(concat!("Seconds (", stringify!($name), ")")))
                    .into()
            }
        }
        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

secs_schema!(
    RingTimeout,
    RonaResetTime,
    RonaCooldown,
    AcwTime,
    AcwExtension,
    SlaTime,
    MaxQueueTime,
    EscalateAfter,
);

impl ComposeSchema for ParameterId {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(ParameterId::MAX_LEN))
            .pattern(Some("^[A-Za-z0-9_]+$"))
            .description(Some(
                "A custom context parameter id: letters, digits and '_'",
            ))
            .into()
    }
}
impl ToSchema for ParameterId {}

impl ComposeSchema for ParameterValue {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(ParameterValue::MAX_LEN))
            .into()
    }
}
impl ToSchema for ParameterValue {}

impl ComposeSchema for PreferredUsers {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(PreferredUser::schema())
            .max_items(Some(PreferredUsers::MAX))
            .description(Some(
                "Users the task goes to first, lowest priority number first",
            ))
            .into()
    }
}
impl ToSchema for PreferredUsers {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PreferredUser::name().into(), PreferredUser::schema()));
        PreferredUser::schemas(schemas);
    }
}

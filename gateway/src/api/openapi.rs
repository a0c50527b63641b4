//! The OpenAPI 3.1 document of `/api/v1`, built from the endpoint table: every request and response
//! body is the JSON schema of the Rust type the handler (de)serializes (`utoipa::ToSchema`, derived
//! on the gateway's DTOs and, through `stratus-routing`'s `openapi` feature, on the configuration
//! and task types), and every schema a body refers to is in `components`.

use super::live::{Pickup, ServiceLiveView, SetActive, SetDuty, SetNotAvailable, UserLiveView};
use super::tasks::{CreateTask, Created, TaskView, UpdateTask};
use super::{ENDPOINTS, Endpoint};
use crate::error::ErrorEnvelope;
use std::collections::BTreeMap;
use stratus_routing::config as rc;
use stratus_routing::decision::Decision;
use stratus_routing::task::TaskEvent;
use utoipa::ToSchema;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};

/// Named schemas collected while the document is built (name → schema).
pub(crate) type Schemas = BTreeMap<String, RefOr<Schema>>;

/// A body's schema: a reference to (or array of) a named schema, registering it and everything it
/// refers to.
pub(crate) type BodySchema = fn(&mut Schemas) -> RefOr<Schema>;

/// The named schema of `T` (and, recursively, of the types it refers to).
pub(crate) fn one<T: ToSchema>(out: &mut Schemas) -> RefOr<Schema> {
    let mut deps = Vec::new();
    T::schemas(&mut deps);
    out.extend(deps);
    out.insert(T::name().into_owned(), T::schema());
    Ref::from_schema_name(T::name()).into()
}

/// A JSON array of `T`.
pub(crate) fn many<T: ToSchema>(out: &mut Schemas) -> RefOr<Schema> {
    ArrayBuilder::new().items(one::<T>(out)).into()
}

/// The request body and the success body of an endpoint, `None` where it has none.
pub(crate) fn bodies(method: &str, path: &str) -> (Option<BodySchema>, Option<BodySchema>) {
    type B = Option<BodySchema>;
    let both = |f: BodySchema| -> (B, B) { (Some(f), Some(f)) };
    let res = |f: BodySchema| -> (B, B) { (None, Some(f)) };
    let req = |f: BodySchema| -> (B, B) { (Some(f), None) };
    match (method, path) {
        ("GET", "/api/v1/tenants") => res(many::<rc::Tenant>),
        ("POST", "/api/v1/tenants") => both(one::<rc::Tenant>),
        ("GET", "/api/v1/tenant") => res(one::<rc::Tenant>),
        ("GET", "/api/v1/services") => res(many::<rc::ServiceConfig>),
        ("POST", "/api/v1/services") | ("PUT", "/api/v1/services/{id}") => {
            both(one::<rc::ServiceConfig>)
        }
        ("GET", "/api/v1/services/{id}") => res(one::<rc::ServiceConfig>),
        ("GET", "/api/v1/services/{id}/live") => res(one::<ServiceLiveView>),
        ("POST", "/api/v1/services/{id}/pickup") => req(one::<Pickup>),
        ("GET", "/api/v1/users") => res(many::<rc::UserConfig>),
        ("POST", "/api/v1/users") | ("PUT", "/api/v1/users/{id}") => both(one::<rc::UserConfig>),
        ("GET", "/api/v1/users/{id}") => res(one::<rc::UserConfig>),
        ("PUT", "/api/v1/users/{id}/memberships") => {
            (Some(many::<rc::Membership>), Some(one::<rc::UserConfig>))
        }
        ("GET", "/api/v1/users/{id}/live") => res(one::<UserLiveView>),
        ("PUT", "/api/v1/users/{id}/duty") => req(one::<SetDuty>),
        ("PUT", "/api/v1/users/{id}/active") => req(one::<SetActive>),
        ("PUT", "/api/v1/users/{id}/not-available") => req(one::<SetNotAvailable>),
        ("GET", "/api/v1/skill-categories") => res(many::<rc::SkillCategory>),
        ("POST", "/api/v1/skill-categories") => both(one::<rc::SkillCategory>),
        ("GET", "/api/v1/skills") => res(many::<rc::Skill>),
        ("POST", "/api/v1/skills") => both(one::<rc::Skill>),
        ("GET", "/api/v1/profiles") => res(many::<rc::ResponsibilityProfile>),
        ("POST", "/api/v1/profiles") => both(one::<rc::ResponsibilityProfile>),
        ("GET", "/api/v1/policies") => res(many::<rc::DistributionPolicy>),
        ("POST", "/api/v1/policies") => both(one::<rc::DistributionPolicy>),
        ("GET", "/api/v1/not-available-reasons") => res(many::<rc::NotAvailableReason>),
        ("POST", "/api/v1/not-available-reasons") => both(one::<rc::NotAvailableReason>),
        ("POST", "/api/v1/tasks") => (Some(one::<CreateTask>), Some(one::<Created>)),
        ("GET", "/api/v1/tasks/{id}") => res(one::<TaskView>),
        ("PUT", "/api/v1/tasks/{id}") => req(one::<UpdateTask>),
        ("GET", "/api/v1/tasks/{id}/decisions") => res(many::<Decision>),
        ("GET", "/api/v1/tasks/{id}/events") => res(many::<TaskEvent>),
        _ => (None, None),
    }
}

/// What a success answers: 201 for a creation, 202 for a pickup, 204 for an action without a
/// body, else 200.
fn success_status(e: &Endpoint, has_body: bool) -> (&'static str, &'static str) {
    match e.method {
        "DELETE" => ("204", "Done"),
        "POST" if !e.path.contains("{id}") => ("201", "Created"),
        "POST" if e.path.ends_with("/pickup") => ("202", "Accepted"),
        _ if !has_body => ("204", "Done"),
        _ => ("200", "Success"),
    }
}

fn http_method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn refusal(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            json(Ref::from_schema_name("ErrorEnvelope").into()),
        )
        .build()
}

/// The refusals every endpoint may answer with, and those of endpoints with an id or a body.
fn refusals(e: &Endpoint, mut op: OperationBuilder) -> OperationBuilder {
    op = op
        .response("401", refusal("Missing, expired or forged token"))
        .response("403", refusal("The caller's roles do not allow this"))
        .response("404", refusal("Unknown id (or another tenant's)"))
        .response(
            "default",
            refusal("Any other refusal (413 body too large, 503 unavailable, …)"),
        );
    if e.path.contains("{id}") || e.has_body {
        op = op.response(
            "400",
            refusal("Malformed JSON, an id that is not a GUID, or text with NUL"),
        );
    }
    if e.has_body {
        op = op
            .response("409", refusal("Conflicts with the current state"))
            .response("415", refusal("The body is not `application/json`"))
            .response("422", refusal("A field is invalid; `field` names it"));
    }
    op
}

fn id_parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("A GUID"))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::Custom("uuid".into())))
                .build(),
        ))
        .build()
}

/// One endpoint's operation, registering the schemas of its bodies in `schemas`.
fn operation(e: &Endpoint, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let (request, response) = bodies(e.method, e.path);
    let success = success_status(e, response.is_some());
    let mut ok = ResponseBuilder::new().description(success.1);
    if let Some(r) = response {
        ok = ok.content("application/json", json(r(schemas)));
    }
    let mut op = OperationBuilder::new()
        .tag(e.tag)
        .summary(Some(e.summary))
        .description(Some(format!("Roles: {}.", e.roles)))
        .operation_id(Some(format!("{} {}", e.method.to_lowercase(), e.path)))
        .response(success.0, ok.build());
    op = refusals(e, op);
    if e.path.contains("{id}") {
        op = op.parameter(id_parameter());
    }
    if let Some(r) = request {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", json(r(schemas)))
                .required(Some(Required::True))
                .build(),
        ));
    }
    op.build()
}

/// The OpenAPI 3.1 document of `/api/v1`.
pub fn openapi() -> OpenApi {
    let mut schemas = Schemas::new();
    one::<ErrorEnvelope>(&mut schemas);
    let mut paths = PathsBuilder::new();
    for e in ENDPOINTS {
        let op = operation(e, &mut schemas);
        paths = paths.path(e.path, PathItem::new(http_method(e.method), op));
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Stratus API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Configuration, live state, tasks and routing explanations of a Stratus contact centre. Every endpoint takes a bearer JWT; a token only ever sees its own tenant."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .security(Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .build()
}

/// `doc` (OpenAPI 3.x or Swagger 2.0) passes `openapi-spec-validator` (pinned in `.ci/run`).
/// Outside CI a machine without it skips with a message; in CI (`CI=true`) a missing validator
/// fails.
#[cfg(test)]
pub(crate) fn check_with_spec_validator(doc: &serde_json::Value) {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "openapi-spec-validator is missing in CI (.ci/run installs it)"
        );
        eprintln!(
            "SKIPPED: python3 -m pip install openapi-spec-validator==0.9.0 to run this check"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let script = "import sys\nfrom openapi_spec_validator import validate\nfrom openapi_spec_validator.readers import read_from_filename\nd, _ = read_from_filename(sys.argv[1])\nvalidate(d)";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator rejects the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(openapi()).unwrap()
    }

    /// Every `$ref` in `v`, with the JSON path it was found at.
    fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push((at.to_string(), x.as_str().unwrap_or_default().to_string()));
                    } else {
                        refs(x, &format!("{at}/{k}"), out);
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    refs(x, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, "", &mut found);
        assert!(found.len() > 50, "only {} references", found.len());
        for (at, r) in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{at}: {r} is not a component schema"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{at}: {r} does not resolve"
            );
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }

    #[test]
    fn every_body_has_a_named_schema() {
        let doc = document();
        for e in ENDPOINTS {
            let op = &doc["paths"][e.path][e.method.to_lowercase()];
            if e.has_body {
                let s = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(
                    s["$ref"].is_string() || s["items"]["$ref"].is_string(),
                    "{} {}: request body {s}",
                    e.method,
                    e.path
                );
            }
            for (code, r) in op["responses"].as_object().unwrap() {
                let s = &r["content"]["application/json"]["schema"];
                if code.starts_with('2') && !["202", "204"].contains(&code.as_str()) {
                    assert!(
                        s["$ref"].is_string() || s["items"]["$ref"].is_string(),
                        "{} {} {code}: {s}",
                        e.method,
                        e.path
                    );
                }
                if !code.starts_with('2') {
                    assert_eq!(s["$ref"], "#/components/schemas/ErrorEnvelope");
                }
            }
        }
        let service = &doc["components"]["schemas"]["ServiceConfig"]["properties"];
        assert_eq!(
            service["ring_timeout_secs"]["oneOf"][0]["$ref"],
            "#/components/schemas/RingTimeout"
        );
        let ring = &doc["components"]["schemas"]["RingTimeout"];
        assert_eq!(
            (ring["minimum"].as_u64(), ring["maximum"].as_u64()),
            (Some(5), Some(300))
        );
    }

    #[test]
    fn the_document_passes_openapi_spec_validator() {
        check_with_spec_validator(&document());
    }

    #[test]
    fn no_schema_is_named_after_a_container() {
        let doc = document();
        for name in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(
                !["BTreeMap", "HashMap", "Vec", "Option"].contains(&name.as_str()),
                "schema named {name}"
            );
        }
    }
}

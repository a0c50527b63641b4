//! The Power Automate custom connector: a Swagger 2.0 rendering of the connector's operations,
//! generated from the OpenAPI 3.1 document (so it cannot drift from what is served), plus its
//! `apiProperties.json` (Entra ID sign-in, the `dynamichosturl` policy that points each connection
//! at its own Stratus). `stratus connector --out DIR` writes both; `docs/connector/` ships them.

use serde_json::{Map, Value, json};

/// One connector operation: an endpoint of the table under the connector's operation name.
pub struct ConnectorOp {
    pub method: &'static str,
    pub path: &'static str,
    /// The connector's `operationId` (the Nimbus connector's name where it has one).
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// `internal`: used by the connector itself (unsubscribe, dynamic value lists), hidden in flows.
    pub internal: bool,
}

const fn op(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    internal: bool,
) -> ConnectorOp {
    ConnectorOp {
        method,
        path,
        operation_id,
        summary,
        internal,
    }
}

/// The connector's operations, in the order Power Automate lists them.
pub const CONNECTOR_OPS: &[ConnectorOp] = &[
    op(
        "POST",
        "/api/v1/tasks",
        "AddExternalTask",
        "Add a new external task",
        false,
    ),
    op(
        "PUT",
        "/api/v1/tasks/{id}",
        "UpdateTask",
        "Update task",
        false,
    ),
    op("GET", "/api/v1/tasks/{id}", "GetTask", "Get a task", false),
    op(
        "DELETE",
        "/api/v1/tasks/{id}",
        "CancelTask",
        "Cancel a task",
        false,
    ),
    op(
        "GET",
        "/api/v1/services",
        "GetServices",
        "Services (helper list)",
        true,
    ),
    op(
        "GET",
        "/api/v1/users",
        "GetUsers",
        "Users (helper list)",
        true,
    ),
];

/// Placeholder host: the `dynamichosturl` policy replaces it with the connection's endpoint URL.
const HOST: &str = "stratus.invalid";
const BASE_PATH: &str = "/api/v1";

/// The Swagger 2.0 connector definition rendered from the OpenAPI 3.1 document `doc`.
pub fn swagger(doc: &Value) -> Value {
    let mut paths = Map::new();
    for o in CONNECTOR_OPS {
        let Some(source) = doc["paths"][o.path][o.method.to_lowercase()].as_object() else {
            continue;
        };
        let rel = o.path.strip_prefix(BASE_PATH).unwrap_or(o.path);
        let item = paths
            .entry(rel.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(o.method.to_lowercase(), operation(o, source));
        }
    }
    let definitions: Map<String, Value> = doc["components"]["schemas"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), schema(v))).collect())
        .unwrap_or_default();
    json!({
        "swagger": "2.0",
        "info": {
            "title": "Stratus",
            "description": "Tasks, triggers and helper lists of a Stratus contact centre.",
            "version": "1.0",
        },
        "host": HOST,
        "basePath": BASE_PATH,
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            "oauth2-auth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://login.microsoftonline.com/common/oauth2/authorize",
                "tokenUrl": "https://login.microsoftonline.com/common/oauth2/authorize",
                "scopes": {},
            }
        },
        "security": [{ "oauth2-auth": [] }],
    })
}

/// The connector's files as `docs/connector/` ships them: (file name, pretty JSON with a final
/// newline).
pub fn files() -> Result<[(&'static str, String); 2], serde_json::Error> {
    let doc = serde_json::to_value(super::openapi())?;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    Ok([
        ("apiDefinition.swagger.json", pretty(&swagger(&doc))?),
        ("apiProperties.json", pretty(&properties())?),
    ])
}

/// `apiProperties.json`: the connection's parameters and the `dynamichosturl` policy.
pub fn properties() -> Value {
    json!({
        "properties": {
            "connectionParameters": {
                "endpointUrl": {
                    "type": "string",
                    "uiDefinition": {
                        "displayName": "Stratus URL",
                        "description": "The base URL of your Stratus, e.g. https://stratus.contoso.com",
                        "tooltip": "Scheme and host of the Stratus server, without /api/v1",
                        "constraints": { "required": "true" }
                    }
                },
                "token": {
                    "type": "oauthSetting",
                    "oAuthSettings": {
                        "identityProvider": "aad",
                        "clientId": "[[Stratus API app (client) id]]",
                        "scopes": [],
                        "redirectMode": "GlobalPerConnector",
                        "properties": {
                            "IsFirstParty": "False",
                            "AzureActiveDirectoryResourceId": "[[Stratus API application id URI]]"
                        },
                        "customParameters": {
                            "loginUri": { "value": "https://login.microsoftonline.com" },
                            "tenantId": { "value": "common" },
                            "resourceUri": { "value": "[[Stratus API application id URI]]" }
                        }
                    }
                }
            },
            "iconBrandColor": "#1f4e79",
            "capabilities": [],
            "publisher": "Stratus",
            "stackOwner": "Stratus",
            "policyTemplateInstances": [{
                "templateId": "dynamichosturl",
                "title": "Stratus endpoint of the connection",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('endpointUrl')/api/v1"
                }
            }]
        }
    })
}

fn operation(o: &ConnectorOp, source: &Map<String, Value>) -> Value {
    let mut parameters: Vec<Value> = source
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(parameter).collect())
        .unwrap_or_default();
    if let Some(body) = source
        .get("requestBody")
        .and_then(|b| b.pointer("/content/application~1json/schema"))
    {
        parameters.push(json!({
            "name": "body",
            "in": "body",
            "required": true,
            "schema": schema(body),
        }));
    }
    let responses: Map<String, Value> = source
        .get("responses")
        .and_then(Value::as_object)
        .map(|rs| rs.iter().map(|(c, r)| (c.clone(), response(r))).collect())
        .unwrap_or_default();
    let mut out = json!({
        "operationId": o.operation_id,
        "summary": o.summary,
        "description": source.get("description").cloned().unwrap_or(Value::Null),
        "parameters": parameters,
        "responses": responses,
    });
    if o.internal {
        out["x-ms-visibility"] = json!("internal");
    }
    out
}

fn parameter(p: &Value) -> Value {
    let mut out = json!({
        "name": p["name"],
        "in": p["in"],
        "required": p["required"].as_bool().unwrap_or(false),
        "type": p["schema"]["type"].as_str().unwrap_or("string"),
    });
    if let Some(f) = p["schema"]["format"].as_str() {
        out["format"] = json!(f);
    }
    if let Some(d) = p["description"].as_str() {
        out["description"] = json!(d);
    }
    out
}

fn response(r: &Value) -> Value {
    let mut out = json!({ "description": r["description"] });
    if let Some(s) = r.pointer("/content/application~1json/schema") {
        out["schema"] = schema(s);
    }
    out
}

/// A JSON Schema (OpenAPI 3.1 dialect) in Swagger 2.0's subset: references move to
/// `#/definitions/`, `null` alternatives become `x-nullable`, and what 2.0 cannot say (`oneOf`
/// of different shapes, `prefixItems`) widens to a schema that accepts it.
fn schema(s: &Value) -> Value {
    let Value::Object(m) = s else {
        return s.clone();
    };
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        return json!({ "$ref": r.replace("#/components/schemas/", "#/definitions/") });
    }
    if let Some(alts) = m.get("oneOf").and_then(Value::as_array) {
        return one_of(m, alts);
    }
    let mut out = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "type" => type_of(v, &mut out),
            "properties" => {
                let props = v
                    .as_object()
                    .map(|p| p.iter().map(|(n, x)| (n.clone(), schema(x))).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" | "additionalProperties" if v.is_object() => {
                out.insert(k.clone(), schema(v));
            }
            // Swagger 2.0 validators check a default against the type, and know no null.
            "default" if v.is_null() => {}
            "prefixItems" => {
                out.insert("items".into(), json!({}));
            }
            "required"
            | "enum"
            | "description"
            | "format"
            | "minimum"
            | "maximum"
            | "minLength"
            | "maxLength"
            | "pattern"
            | "minItems"
            | "maxItems"
            | "default"
            | "title"
            | "additionalProperties" => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    if out.get("type") == Some(&json!("array")) && !out.contains_key("items") {
        out.insert("items".into(), json!({}));
    }
    Value::Object(out)
}

/// `type: [T, "null"]` → `type: T, x-nullable: true`; a lone `null` type is dropped.
fn type_of(v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Array(ts) => {
            let real: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
            if let [t] = real.as_slice() {
                out.insert("type".into(), (*t).clone());
            }
            if real.len() < ts.len() {
                out.insert("x-nullable".into(), json!(true));
            }
        }
        Value::String(t) if t == "null" => {}
        other => {
            out.insert("type".into(), other.clone());
        }
    }
}

fn one_of(m: &Map<String, Value>, alts: &[Value]) -> Value {
    let real: Vec<&Value> = alts.iter().filter(|a| a["type"] != "null").collect();
    let mut out = match real.as_slice() {
        // `Option<T>`: T, nullable.
        [only] => schema(only),
        // Alternatives of different shapes (enums with data): any value, described.
        _ => json!({}),
    };
    if let (Some(d), Value::Object(o)) = (m.get("description"), &mut out)
        && !o.contains_key("$ref")
    {
        o.insert("description".into(), d.clone());
    }
    if real.len() < alts.len()
        && let Value::Object(o) = &mut out
        && !o.contains_key("$ref")
    {
        o.insert("x-nullable".into(), json!(true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ENDPOINTS;

    #[test]
    fn every_connector_operation_is_an_endpoint() {
        for o in CONNECTOR_OPS {
            assert!(
                ENDPOINTS
                    .iter()
                    .any(|e| e.method == o.method && e.path == o.path),
                "{} {} ({}) is not served",
                o.method,
                o.path,
                o.operation_id
            );
        }
        let doc = serde_json::to_value(crate::api::openapi()).unwrap();
        let s = swagger(&doc);
        let ops: usize = s["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(ops, CONNECTOR_OPS.len());
    }

    #[test]
    fn the_swagger_passes_openapi_spec_validator() {
        let doc = serde_json::to_value(crate::api::openapi()).unwrap();
        let s = swagger(&doc);
        assert_eq!(s["swagger"], "2.0");
        let text = s.to_string();
        assert!(!text.contains("#/components/"), "3.x reference left");
        assert!(!text.contains("oneOf") && !text.contains("prefixItems"));
        crate::api::openapi::check_with_spec_validator(&s);
    }

    /// `docs/connector/` is what `stratus connector` generates: regenerate with
    /// `cargo run -p stratus-gateway --bin stratus -- connector --out docs/connector`.
    #[test]
    fn the_shipped_connector_is_up_to_date() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/connector");
        for (name, text) in files().unwrap() {
            let shipped = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert!(
                shipped == text,
                "docs/connector/{name} is stale: run `cargo run -p stratus-gateway --bin stratus -- connector --out docs/connector`"
            );
        }
    }

    #[test]
    fn the_host_comes_from_the_connection() {
        let p = properties();
        let policy = &p["properties"]["policyTemplateInstances"][0];
        assert_eq!(policy["templateId"], "dynamichosturl");
        assert!(
            policy["parameters"]["x-ms-apimTemplateParameter.urlTemplate"]
                .as_str()
                .unwrap()
                .contains("@connectionParameters('endpointUrl')")
        );
        assert!(p["properties"]["connectionParameters"]["endpointUrl"].is_object());
    }
}

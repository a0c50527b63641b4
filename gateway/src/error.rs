//! API errors: every failure a client can cause is a 4xx with a JSON body naming what was wrong.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code (`bad_request`, `not_found`, `forbidden`, …).
    pub code: &'static str,
    pub message: String,
    /// The offending field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.into()),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found", what.into()),
        )
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, code = self.code, message = %self.message, "request failed");
        } else {
            tracing::info!(status = %self.status, code = self.code, message = %self.message, field = ?self.field, "request refused");
        }
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<stratus_routing::error::ValidationError> for ApiError {
    fn from(e: stratus_routing::error::ValidationError) -> Self {
        ApiError::invalid(e.field, e.problem)
    }
}

impl From<stratus_routing::port::StoreError> for ApiError {
    fn from(e: stratus_routing::port::StoreError) -> Self {
        use stratus_routing::port::StoreError as E;
        match e {
            E::NotFound { entity, id } => ApiError::not_found(format!("{entity} {id}")),
            E::Conflict(m) | E::Constraint(m) => {
                // The database's own words (table and constraint names) are for the log.
                tracing::info!(error = %m, "store refused a write");
                ApiError::conflict(
                    "the request conflicts with existing data (a unique id or binding is taken, or a referenced item is missing)",
                )
            }
            E::Unavailable(m) => {
                // The driver's words (addresses, server messages) are for the log.
                tracing::warn!(error = %m, "store unavailable");
                ApiError::unavailable("the database is temporarily unavailable; retry")
            }
            E::Other(m) => {
                // Database details are for the log, not for the client.
                tracing::error!(error = %m, "store failure");
                ApiError::internal("the request could not be completed; see the server log")
            }
        }
    }
}

/// JSON bodies that fail to parse become 400/422 with the serde message, never a 500.
pub fn json_rejection(r: axum::extract::rejection::JsonRejection) -> ApiError {
    use axum::extract::rejection::JsonRejection as R;
    match r {
        R::JsonDataError(e) => {
            let text = e.body_text();
            // "Failed to deserialize the JSON body into the target type: <path>: <problem>";
            // the path is absent for problems at the root.
            let detail = text
                .split_once(": ")
                .map(|(_, d)| d.to_string())
                .unwrap_or(text);
            let field = field_of(&detail);
            ApiError {
                field,
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
            }
        }
        R::JsonSyntaxError(e) => ApiError::bad_request(e.body_text()),
        R::MissingJsonContentType(e) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            e.body_text(),
        ),
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The field a serde message is about: its leading path (`acw.seconds: …`,
/// `preferred_users[0].priority: …`), or the name in "missing/unknown field `x`".
fn field_of(detail: &str) -> Option<String> {
    let path = detail.split_once(": ").map(|(p, _)| p).filter(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    });
    let named = ["missing field `", "unknown field `"].iter().find_map(|m| {
        let rest = &detail[detail.find(m)? + m.len()..];
        rest.split_once('`').map(|(name, _)| name)
    });
    match (path, named) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (Some(p), None) => Some(p.to_string()),
        (None, n) => n.map(str::to_string),
    }
}

impl From<stratus_actors::ActorsError> for ApiError {
    fn from(e: stratus_actors::ActorsError) -> Self {
        use stratus_actors::ActorsError as E;
        match e {
            E::UnknownTenant => ApiError::not_found("tenant"),
            E::UnknownService => ApiError::not_found("service"),
            E::UnknownUser => ApiError::not_found("user"),
            E::UnknownTask => ApiError::not_found("task"),
            E::UnknownCall => ApiError::not_found("call"),
            E::Rejected(m) => ApiError::conflict(m),
            E::Invalid { field, message } => ApiError::invalid(field, message),
            E::Store(s) => s.into(),
            E::Unavailable(m) => ApiError::unavailable(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn the_field_is_found_in_serde_messages() {
        let f = |d: &str| field_of(d);
        assert_eq!(
            f("ring_timeout_secs: 2 s is out of range 5..=300 s at line 1 column 30").as_deref(),
            Some("ring_timeout_secs")
        );
        assert_eq!(
            f("preferred_users[0].priority: 0 is out of range").as_deref(),
            Some("preferred_users[0].priority")
        );
        assert_eq!(
            f("missing field `upn` at line 1 column 2").as_deref(),
            Some("upn")
        );
        assert_eq!(
            f("acw: unknown field `secs`, expected one of …").as_deref(),
            Some("acw.secs")
        );
        assert_eq!(
            f("invalid type: sequence, expected struct ServiceConfig"),
            None
        );
    }
}

//! The control plane's error replies, as Bedrock's REST-JSON protocol sends them: an HTTP
//! status, `x-amzn-ErrorType` (what the SDK picks its typed error from) and `{"message"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

impl ControlError {
    pub(crate) fn validation(message: impl Into<String>) -> ControlError {
        ControlError { status: StatusCode::BAD_REQUEST, kind: "ValidationException", message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ControlError {
        ControlError { status: StatusCode::NOT_FOUND, kind: "ResourceNotFoundException", message: message.into() }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> ControlError {
        ControlError { status: StatusCode::CONFLICT, kind: "ConflictException", message: message.into() }
    }

    /// One member breaking its constraint, in the words AWS's request validation uses.
    pub(crate) fn constraint(value: &str, member: &str, constraint: &str) -> ControlError {
        ControlError::validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(json!({ "message": self.message }))).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

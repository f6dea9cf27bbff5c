//! Bedrock's error replies: the HTTP errors (status, `x-amzn-ErrorType`, `{"message"}`) and the
//! exceptions sent inside a stream, plus the fault directives that select them per request.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error Bedrock answers with before any output: one HTTP status and one error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockError {
    pub kind: ErrorKind,
    pub message: String,
}

/// The error shapes of the Converse and ConverseStream operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    AccessDenied,
    ResourceNotFound,
    ModelTimeout,
    ModelError,
    Throttling,
    ModelNotReady,
    ServiceQuotaExceeded,
    InternalServer,
    ServiceUnavailable,
}

impl ErrorKind {
    /// The `x-amzn-ErrorType` value, which is what the SDK picks the error variant from.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::ModelTimeout => "ModelTimeoutException",
            ErrorKind::ModelError => "ModelErrorException",
            ErrorKind::Throttling => "ThrottlingException",
            ErrorKind::ModelNotReady => "ModelNotReadyException",
            ErrorKind::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            ErrorKind::InternalServer => "InternalServerException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::Validation | ErrorKind::ServiceQuotaExceeded => StatusCode::BAD_REQUEST,
            ErrorKind::AccessDenied => StatusCode::FORBIDDEN,
            ErrorKind::ResourceNotFound => StatusCode::NOT_FOUND,
            ErrorKind::ModelTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::ModelError => StatusCode::FAILED_DEPENDENCY,
            ErrorKind::Throttling | ErrorKind::ModelNotReady => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message the real service sends for this error when nothing more specific applies.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorKind::Validation => "Malformed input request, please reformat your input and try again.",
            ErrorKind::AccessDenied => "You don't have access to the model with the specified model ID.",
            ErrorKind::ResourceNotFound => {
                "The requested model was not found. Check the model ID and the Region, then try again."
            }
            ErrorKind::ModelTimeout => "Model has timed out in processing the request. Try your request again.",
            ErrorKind::ModelError => "The model encountered an error processing the request.",
            ErrorKind::Throttling => "Too many requests, please wait before trying again.",
            ErrorKind::ModelNotReady => {
                "The model is not ready to serve inference requests, please wait before trying again."
            }
            ErrorKind::ServiceQuotaExceeded => {
                "Your request exceeds the service quota for your account. Request a quota increase and try again."
            }
            ErrorKind::InternalServer => "The server encountered an internal error while processing the request.",
            ErrorKind::ServiceUnavailable => "Bedrock is unable to process your request.",
        }
    }
}

impl BedrockError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> BedrockError {
        BedrockError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> BedrockError {
        BedrockError::new(ErrorKind::Validation, message)
    }

    pub fn of(kind: ErrorKind) -> BedrockError {
        BedrockError::new(kind, kind.default_message())
    }
}

impl IntoResponse for BedrockError {
    fn into_response(self) -> Response {
        let mut response = (self.kind.status(), axum::Json(json!({ "message": self.message }))).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind.name()));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// `[[fault:NAME]]`: the HTTP error it selects (`throttle_once` is handled by [`ThrottleOnce`]).
pub fn fault_kind(name: &str) -> Option<ErrorKind> {
    Some(match name {
        "throttle" => ErrorKind::Throttling,
        "validation" => ErrorKind::Validation,
        "access_denied" => ErrorKind::AccessDenied,
        "not_found" => ErrorKind::ResourceNotFound,
        "model_timeout" => ErrorKind::ModelTimeout,
        "model_error" => ErrorKind::ModelError,
        "not_ready" => ErrorKind::ModelNotReady,
        "quota" => ErrorKind::ServiceQuotaExceeded,
        "internal" => ErrorKind::InternalServer,
        "unavailable" => ErrorKind::ServiceUnavailable,
        _ => return None,
    })
}

/// `[[midstream:TYPE]]`: the `:exception-type` to send and its payload. TYPE is either the wire
/// name (`throttlingException`, ...) or a short alias (`throttle`, `model_error`, ...).
pub fn stream_exception(kind: &str) -> (String, serde_json::Value) {
    let wire = match kind {
        "throttle" | "throttling" => "throttlingException",
        "model_error" | "model_stream_error" => "modelStreamErrorException",
        "internal" => "internalServerException",
        "unavailable" => "serviceUnavailableException",
        "validation" => "validationException",
        other => other,
    };
    let payload = match wire {
        "throttlingException" => json!({"message": ErrorKind::Throttling.default_message()}),
        "modelStreamErrorException" => json!({
            "message": "The model stream was interrupted by an error in the model.",
            "originalStatusCode": 500,
            "originalMessage": "Model stream error"
        }),
        "internalServerException" => {
            json!({"message": ErrorKind::InternalServer.default_message()})
        }
        "serviceUnavailableException" => {
            json!({"message": ErrorKind::ServiceUnavailable.default_message()})
        }
        "validationException" => {
            json!({"message": "The model rejected the request while it was streaming its response."})
        }
        other => json!({"message": format!("{other} raised while streaming the response.")}),
    };
    (wire.to_owned(), payload)
}

/// Memory for `[[fault:throttle_once]]`: the first request with a given body is throttled, a
/// retry of the same body goes through.
#[derive(Debug, Default)]
pub struct ThrottleOnce {
    seen: Mutex<HashSet<Vec<u8>>>,
}

/// Bodies remembered before the memory is cleared; tests send a handful, this only bounds growth.
const THROTTLE_ONCE_MEMORY: usize = 1024;

impl ThrottleOnce {
    /// True the first time `body` is seen.
    pub fn first_time(&self, body: &[u8]) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|poison| poison.into_inner());
        if seen.len() >= THROTTLE_ONCE_MEMORY {
            seen.clear();
        }
        seen.insert(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_carry_status_type_header_and_message() {
        let response = BedrockError::of(ErrorKind::Throttling).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["x-amzn-errortype"], "ThrottlingException");
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[test]
    fn every_fault_name_maps_to_the_documented_status() {
        let expected = [
            ("throttle", 429),
            ("validation", 400),
            ("access_denied", 403),
            ("not_found", 404),
            ("model_timeout", 408),
            ("model_error", 424),
            ("not_ready", 429),
            ("quota", 400),
            ("internal", 500),
            ("unavailable", 503),
        ];
        for (name, status) in expected {
            assert_eq!(fault_kind(name).unwrap().status().as_u16(), status, "{name}");
        }
        assert_eq!(fault_kind("nonsense"), None);
    }

    #[test]
    fn throttle_once_lets_the_retry_through() {
        let memory = ThrottleOnce::default();
        assert!(memory.first_time(b"body"));
        assert!(!memory.first_time(b"body"));
        assert!(memory.first_time(b"other body"));
    }
}

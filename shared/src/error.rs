//! The one error type: every failure knows its HTTP status, its error `type` and `code`, and
//! carries a message that tells the caller what to do next.
//!
//! Bedrock exceptions are mapped here and nowhere else, by their error code, so the Converse,
//! ConverseStream and in-stream exception paths all answer alike.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or asks for something invalid; `param` names the field.
    #[error("{message}")]
    BadRequest { message: String, param: Option<String> },
    /// A valid OpenAI/Mistral field that Bedrock cannot honour for the chosen model.
    #[error("{message}")]
    Unsupported { message: String, param: String },
    #[error("{0}")]
    ModelNotFound(String),
    #[error("request body is larger than {limit} bytes; send a shorter conversation")]
    PayloadTooLarge { limit: usize },
    /// A file upload larger than API Gateway and Lambda carry; the message names the other way.
    #[error("{0}")]
    UploadTooLarge(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Bedrock refused the caller (IAM or model access).
    #[error("{0}")]
    AccessDenied(String),
    /// Bedrock (or the model) is rate limiting; retry after `retry_after` seconds.
    #[error("{message}")]
    Throttled { message: String, retry_after: u32 },
    /// Bedrock rejected the input for a reason our own checks did not catch.
    #[error("{0}")]
    BedrockValidation(String),
    /// The model or Bedrock is temporarily unable to answer.
    #[error("{message}")]
    Unavailable { message: String, retry_after: u32 },
    /// Bedrock or the model failed.
    #[error("{0}")]
    Upstream(String),
    /// Bedrock did not answer within the time budget.
    #[error("{0}")]
    Timeout(String),
    /// The caller's key may not use this model.
    #[error("{0}")]
    ModelNotAllowed(String),
    /// The caller's key may not use this route.
    #[error("{0}")]
    RouteNotAllowed(String),
    /// The caller's key has spent its budget for the period; retry after the reset, if any.
    #[error("{message}")]
    BudgetExceeded { message: String, retry_after: Option<u32> },
    /// The caller's key is over its requests or tokens per minute.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u32 },
    /// The keys table cannot be read or written: fail closed, charge nothing.
    #[error("{0}")]
    KeysUnavailable(String),
    /// A bug or an impossible state on our side.
    #[error("{0}")]
    Internal(String),
}

/// The `code` of an error response, kept in its extensions for the request's metrics record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

/// `{"error": {...}}`, the shape the OpenAI and Mistral SDKs read.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'a str>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest { message: message.into(), param: None }
    }

    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        ApiError::BadRequest { message: format!("{param}: {}", message.into()), param: Some(param) }
    }

    pub fn unsupported(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        ApiError::Unsupported { message: format!("{param}: {}", message.into()), param }
    }

    /// HTTP status, error `type` (OpenAI's vocabulary, which both SDKs understand) and a stable
    /// machine-readable `code`: the one table all three are read from.
    fn spec(&self) -> (StatusCode, &'static str, &'static str) {
        const INVALID: &str = "invalid_request_error";
        const SERVER: &str = "server_error";
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, INVALID, "invalid_request"),
            ApiError::Unsupported { .. } => (StatusCode::BAD_REQUEST, INVALID, "unsupported_parameter"),
            ApiError::BedrockValidation(_) => (StatusCode::BAD_REQUEST, INVALID, "bedrock_validation"),
            ApiError::ModelNotFound(_) => (StatusCode::NOT_FOUND, "not_found_error", "model_not_found"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found_error", "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, INVALID, "method_not_allowed"),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, INVALID, "payload_too_large"),
            ApiError::UploadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, INVALID, "upload_too_large"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "authentication_error", "unauthorized"),
            ApiError::AccessDenied(_) => (StatusCode::FORBIDDEN, "permission_error", "access_denied"),
            ApiError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "throttled"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, SERVER, "unavailable"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, SERVER, "bedrock_error"),
            ApiError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, SERVER, "timeout"),
            ApiError::ModelNotAllowed(_) => (StatusCode::FORBIDDEN, "permission_error", "model_not_allowed"),
            ApiError::RouteNotAllowed(_) => (StatusCode::FORBIDDEN, "permission_error", "route_not_allowed"),
            ApiError::BudgetExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", "budget_exceeded"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "rate_limit_exceeded"),
            ApiError::KeysUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, SERVER, "keys_store_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, SERVER, "internal_error"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.spec().0
    }

    /// The error `type`.
    pub fn kind(&self) -> &'static str {
        self.spec().1
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.spec().2
    }

    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { param, .. } => param.as_deref(),
            ApiError::Unsupported { param, .. } => Some(param),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::Throttled { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. }
            | ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            ApiError::BudgetExceeded { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail { message: self.to_string(), kind: self.kind(), code: self.code(), param: self.param() },
        }
    }

    /// The body as a JSON value, for the final `data:` event of a stream.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.body()).unwrap_or_default()
    }

    /// Maps a Bedrock error code (`ThrottlingException`, or the in-stream `throttlingException`)
    /// and its message to our error, for the model `model_id`.
    pub fn from_bedrock(code: Option<&str>, message: Option<&str>, model_id: &str, retry_after: u32) -> Self {
        let said = message.filter(|m| !m.is_empty()).unwrap_or("no message");
        let code = code.unwrap_or_default();
        let is = |name: &str| code.eq_ignore_ascii_case(name);
        if is("ThrottlingException") {
            ApiError::Throttled {
                message: format!(
                    "Bedrock is throttling requests to {model_id} ({said}). Retry after a few seconds, or ask for a higher Bedrock quota."
                ),
                retry_after,
            }
        } else if is("ServiceQuotaExceededException") {
            ApiError::Throttled {
                message: format!(
                    "Bedrock service quota exceeded for {model_id} ({said}). Retry later or request a quota increase in Service Quotas."
                ),
                retry_after,
            }
        } else if is("AccessDeniedException") {
            ApiError::AccessDenied(format!(
                "Bedrock denied access to {model_id} ({said}). Enable access to this model in the Bedrock console (Model access) for this region, and check that the function's IAM role allows bedrock:InvokeModel/InvokeModelWithResponseStream on its ARN."
            ))
        } else if is("ResourceNotFoundException") {
            ApiError::ModelNotFound(format!(
                "Bedrock does not know {model_id} in this region ({said}). Check the model id, its region availability, or use an inference profile."
            ))
        } else if is("ValidationException") {
            ApiError::BedrockValidation(format!("Bedrock rejected the request for {model_id}: {said}"))
        } else if is("ModelTimeoutException") {
            ApiError::Timeout(format!(
                "{model_id} took too long to answer ({said}). Retry with a shorter prompt or a lower max_tokens."
            ))
        } else if is("ModelNotReadyException") {
            ApiError::Unavailable {
                message: format!("{model_id} is not ready to serve requests yet ({said}). Retry in a few seconds."),
                retry_after,
            }
        } else if is("ServiceUnavailableException") {
            ApiError::Unavailable {
                message: format!("Bedrock is temporarily unavailable ({said}). Retry in a few seconds."),
                retry_after,
            }
        } else if is("ModelErrorException") || is("ModelStreamErrorException") {
            ApiError::Upstream(format!(
                "{model_id} failed while processing the request ({said}). Retry, or change the prompt."
            ))
        } else if is("InternalServerException") {
            ApiError::Upstream(format!("Bedrock had an internal error ({said}). Retry the request."))
        } else {
            ApiError::Upstream(format!("Bedrock call to {model_id} failed ({code}: {said}). Retry the request."))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), code = self.code(), error = %self, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), code = self.code(), "request refused");
        }
        let mut response = (status, Json(self.body())).into_response();
        // For the per-request metrics, which see the response only.
        response.extensions_mut().insert(ErrorCode(self.code()));
        if let Some(secs) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bedrock_exception_maps_to_a_status_that_fits() {
        let cases = [
            ("ThrottlingException", 429),
            ("throttlingException", 429),
            ("ServiceQuotaExceededException", 429),
            ("AccessDeniedException", 403),
            ("ResourceNotFoundException", 404),
            ("ValidationException", 400),
            ("ModelTimeoutException", 504),
            ("ModelNotReadyException", 503),
            ("ServiceUnavailableException", 503),
            ("serviceUnavailableException", 503),
            ("ModelErrorException", 502),
            ("modelStreamErrorException", 502),
            ("InternalServerException", 502),
            ("SomethingNew", 502),
        ];
        for (code, status) in cases {
            let e = ApiError::from_bedrock(Some(code), Some("boom"), "mistral.m", 2);
            assert_eq!(e.status().as_u16(), status, "{code}");
            assert!(e.to_string().contains("boom"), "{code}: {e}");
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let denied = ApiError::from_bedrock(Some("AccessDeniedException"), None, "mistral.m", 2).to_string();
        assert!(denied.contains("Model access") && denied.contains("IAM"), "{denied}");
        let throttled = ApiError::from_bedrock(Some("ThrottlingException"), None, "mistral.m", 2).to_string();
        assert!(throttled.contains("Retry"), "{throttled}");
    }

    #[test]
    fn throttling_sets_retry_after_and_the_error_shape() {
        let response = ApiError::Throttled { message: "slow down".into(), retry_after: 7 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        let body = ApiError::invalid("messages[0].role", "unknown role `robot`").to_json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], "messages[0].role");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("messages[0].role: "));
    }
}

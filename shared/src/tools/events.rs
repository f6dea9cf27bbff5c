//! The tools function's Lambda entry point: one handler for API Gateway requests (REST and
//! HTTP APIs), SQS batches and EventBridge events, told apart by the event's shape.
//!
//! An SQS message body or an EventBridge `detail` carries a tool-loop request and where to send
//! the answer:
//!
//! ```json
//! {"callback_url": "https://hooks.example.com/answers", "reference": "order-42",
//!  "request": {"model": "mistral-large", "messages": [{"role": "user", "content": "..."}]}}
//! ```
//!
//! The result (the completion, or the error a retry cannot fix) is POSTed to `callback_url`,
//! signed with `TOOLS_CALLBACK_SECRET` like webhook calls, under the same SSRF rules. A record
//! that fails (Bedrock throttled or down, callback unreachable) is listed in
//! `batchItemFailures` so SQS retries that record only; a malformed record is listed too and,
//! never able to succeed, reaches the queue's dead-letter queue after `maxReceiveCount`
//! receives (docs/tools.md). EventBridge events that fail return an error, so Lambda's
//! asynchronous retries and on-failure destination take over.

use std::convert::Infallible;

use axum::Router;
use futures_util::future::join_all;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// What kind of event the function was invoked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Sqs,
    EventBridge,
    /// An API Gateway (REST or HTTP API) request.
    Http,
    Unknown,
}

pub fn kind(event: &Value) -> EventKind {
    let first_source = event["Records"][0]["eventSource"].as_str();
    if first_source == Some("aws:sqs") {
        EventKind::Sqs
    } else if event.get("detail-type").is_some() && event.get("source").is_some() && event.get("detail").is_some() {
        EventKind::EventBridge
    } else if event.get("requestContext").is_some()
        && (event.get("httpMethod").is_some() || event.get("routeKey").is_some())
    {
        EventKind::Http
    } else {
        EventKind::Unknown
    }
}

const UNRECOGNISED: &str = "the event is neither an API Gateway request, an SQS batch nor an EventBridge event";

/// The function's handler, built once per cold start.
pub struct Handler {
    state: AppState,
    router: Router,
}

impl Handler {
    pub fn new(state: AppState) -> Self {
        let router = crate::routes::tools_router(state.clone());
        Handler { state, router }
    }

    /// Handles one invocation: the returned JSON is the Lambda response.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_http::Error> {
        let LambdaEvent { payload, context } = event;
        match kind(&payload) {
            EventKind::Sqs => Ok(sqs_batch(&self.state, &payload).await),
            EventKind::EventBridge => eventbridge(&self.state, &payload).await,
            EventKind::Http => self.http(payload, context).await,
            EventKind::Unknown => Err(UNRECOGNISED.into()),
        }
    }

    async fn http(&self, payload: Value, context: Context) -> Result<Value, lambda_http::Error> {
        let request: LambdaRequest = serde_json::from_value(payload).map_err(|e| format!("{UNRECOGNISED} ({e})"))?;
        // lambda_http's own adapter: the same request/response mapping as `lambda_http::run`.
        let mut adapter: Adapter<'_, axum::response::Response, Router> = Adapter::from(self.router.clone());
        std::future::poll_fn(|cx| adapter.poll_ready(cx)).await.map_err(|e: Infallible| match e {})?;
        let response = adapter.call(LambdaEvent::new(request, context)).await.map_err(|e: Infallible| match e {})?;
        Ok(serde_json::to_value(response)?)
    }
}

/// The payload of an SQS message body or an EventBridge `detail`.
#[derive(Debug, Clone, Deserialize)]
pub struct ToolsEvent {
    pub callback_url: String,
    pub request: Value,
    /// Anything the sender wants back in the callback, to match answers to requests.
    #[serde(default)]
    pub reference: Option<Value>,
}

/// Why a record was not handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// It can never succeed (not JSON, no callback, callback refused): dead-letter material.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// It may succeed later (Bedrock throttled or unavailable, callback down).
    #[error("{0}")]
    Transient(String),
}

/// Handles an SQS batch; answers `{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}`.
pub async fn sqs_batch(state: &AppState, event: &Value) -> Value {
    let records = event["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
    let outcomes = join_all(records.iter().map(|record| async move {
        let id = record["messageId"].as_str().unwrap_or_default().to_owned();
        let outcome = match record["body"].as_str() {
            Some(body) => match serde_json::from_str::<Value>(body) {
                Ok(payload) => process(state, &id, payload).await,
                Err(e) => Err(Failure::Malformed(format!("the message body is not JSON ({e})"))),
            },
            None => Err(Failure::Malformed("the record has no body".into())),
        };
        (id, record["attributes"]["ApproximateReceiveCount"].as_str().unwrap_or("?").to_owned(), outcome)
    }))
    .await;
    let mut failures = Vec::new();
    for (id, receives, outcome) in outcomes {
        match outcome {
            Ok(()) => tracing::info!(message_id = %id, "sqs record handled"),
            Err(failure @ Failure::Malformed(_)) => {
                tracing::error!(message_id = %id, receives = %receives, error = %failure,
                    "sqs record cannot be handled; it reaches the dead-letter queue after maxReceiveCount receives");
                failures.push(json!({"itemIdentifier": id}));
            }
            Err(failure) => {
                tracing::warn!(message_id = %id, receives = %receives, error = %failure, "sqs record failed; SQS will retry it");
                failures.push(json!({"itemIdentifier": id}));
            }
        }
    }
    json!({"batchItemFailures": failures})
}

/// Handles an EventBridge event; an error makes Lambda retry it, then send it to the
/// function's on-failure destination.
pub async fn eventbridge(state: &AppState, event: &Value) -> Result<Value, lambda_http::Error> {
    let id = event["id"].as_str().unwrap_or_default().to_owned();
    match process(state, &id, event["detail"].clone()).await {
        Ok(()) => {
            tracing::info!(event_id = %id, "eventbridge event handled");
            Ok(json!({"status": "delivered", "event_id": id}))
        }
        Err(failure) => {
            tracing::error!(event_id = %id, error = %failure, "eventbridge event failed");
            Err(failure.to_string().into())
        }
    }
}

/// Runs the request an event carries and POSTs the outcome to its callback.
pub async fn process(state: &AppState, event_id: &str, payload: Value) -> Result<(), Failure> {
    let event: ToolsEvent = serde_json::from_value(payload)
        .map_err(|e| Failure::Malformed(format!("{e}; expected {{\"callback_url\", \"request\", \"reference\"}}")))?;
    let toolbox = state.tools.as_deref().ok_or_else(|| Failure::Malformed("this function serves no tools".into()))?;
    let url = toolbox.settings.callbacks.check(&event.callback_url).map_err(|e| Failure::Malformed(e.0))?;
    let secret = toolbox.settings.callback_secret.as_ref().ok_or_else(|| {
        Failure::Malformed("TOOLS_CALLBACK_SECRET is not configured, so results cannot be signed".into())
    })?;
    let body = serde_json::to_vec(&event.request).map_err(|e| Failure::Malformed(e.to_string()))?;

    let outcome = super::complete(&state.config, state.bedrock.as_ref(), toolbox, &body).await;
    let answer = match outcome {
        Ok(completion) => json!({"status": "completed", "response": completion}),
        Err(e) if retryable(&e) => return Err(Failure::Transient(format!("the tool loop failed: {e}"))),
        Err(e) => json!({"status": "failed", "error": e.to_json()["error"]}),
    };
    let mut answer = answer;
    answer["event_id"] = Value::String(event_id.to_owned());
    answer["reference"] = event.reference.unwrap_or(Value::Null);
    let body = serde_json::to_vec(&answer).map_err(|e| Failure::Transient(e.to_string()))?;
    let reply =
        toolbox.outbound.post_signed(&url, body, secret, toolbox.settings.tool_timeout).await.map_err(|e| match e {
            super::webhook::OutboundError::Refused(why) => Failure::Malformed(format!("callback_url refused: {why}")),
            other => Failure::Transient(format!("the callback failed: {other}")),
        })?;
    if !reply.status.is_success() {
        return Err(Failure::Transient(format!("the callback answered HTTP {}", reply.status.as_u16())));
    }
    Ok(())
}

/// Errors that a later attempt may not meet: throttling, timeouts, Bedrock faults.
fn retryable(e: &ApiError) -> bool {
    e.status().as_u16() == 429 || e.status().is_server_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_told_apart_by_shape() {
        assert_eq!(kind(&json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]})), EventKind::Sqs);
        assert_eq!(kind(&json!({"detail-type": "x", "source": "y", "detail": {}})), EventKind::EventBridge);
        let rest = json!({"httpMethod": "POST", "path": "/tools/v1/chat/completions", "requestContext": {}});
        assert_eq!(kind(&rest), EventKind::Http);
        assert_eq!(kind(&json!({"version": "2.0", "routeKey": "$default", "requestContext": {}})), EventKind::Http);
        assert_eq!(kind(&json!({"Records": [{"eventSource": "aws:s3"}]})), EventKind::Unknown);
        assert_eq!(kind(&json!({"hello": "world"})), EventKind::Unknown);
    }
}

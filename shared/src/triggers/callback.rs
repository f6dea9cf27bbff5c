//! One tools event (an SQS message body or an EventBridge `detail`): run the tool-loop request it
//! carries and POST the outcome to its callback URL.
//!
//! ```json
//! {"callback_url": "https://hooks.example.com/answers", "reference": "order-42",
//!  "request": {"model": "mistral-large", "messages": [{"role": "user", "content": "..."}]}}
//! ```
//!
//! The result (the completion, or the error a retry cannot fix) is POSTed to `callback_url`,
//! signed with `TOOLS_CALLBACK_SECRET` like webhook calls, under the same SSRF rules, to URLs
//! that `TOOLS_CALLBACK_ALLOWLIST` allows.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use tokio::time::Instant;

use crate::api::request::ChatRequest;
use crate::error::ApiError;
use crate::metrics::Observation;
use crate::state::ToolsState;
use crate::tools::{self, webhook::OutboundError};

/// A tools event, its request left undecoded until the envelope is known to be sound.
#[derive(Debug, Deserialize)]
pub struct ToolsEvent<R> {
    pub callback_url: String,
    pub request: R,
    /// Anything the sender wants back in the callback, to match answers to requests.
    #[serde(default)]
    pub reference: Option<Value>,
}

const SHAPE: &str = "expected {\"callback_url\", \"request\", \"reference\"}";

/// Why an event was not handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The event can never succeed (not JSON, no callback, a callback URL no rule could allow):
    /// dead-letter material.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// This deployment's settings stop it (callback host not allowlisted, no signing secret):
    /// it succeeds once they are fixed.
    #[error("not handled because of this deployment's settings: {0}")]
    Configuration(String),
    /// It may succeed later (Bedrock throttled or unavailable, callback down).
    #[error("{0}")]
    Transient(String),
}

impl Failure {
    /// The error type Lambda records for a failed invocation.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Malformed(_) => "MalformedEvent",
            Failure::Configuration(_) => "Misconfigured",
            Failure::Transient(_) => "TransientFailure",
        }
    }
}

/// An SQS message body: the envelope is decoded once, the request within it is parsed once from
/// its own bytes.
pub async fn from_sqs_body(state: &ToolsState, event_id: &str, body: &str) -> Result<(), Failure> {
    let event: ToolsEvent<&RawValue> =
        serde_json::from_str(body).map_err(|e| Failure::Malformed(format!("the message body: {e}; {SHAPE}")))?;
    let request = ChatRequest::from_slice(event.request.get().as_bytes());
    recorded(state, "sqs", run(state, event_id, &event.callback_url, event.reference, request)).await
}

/// An EventBridge `detail`, already decoded by the event type.
pub async fn from_detail(state: &ToolsState, event_id: &str, detail: Value) -> Result<(), Failure> {
    let event: ToolsEvent<Value> =
        serde_json::from_value(detail).map_err(|e| Failure::Malformed(format!("the detail: {e}; {SHAPE}")))?;
    let request = ChatRequest::from_value(event.request);
    recorded(state, "eventbridge", run(state, event_id, &event.callback_url, event.reference, request)).await
}

/// Runs one event and writes its metrics record: the answer's accounts when there is one, the
/// failure's class when there is not.
async fn recorded(
    state: &ToolsState,
    source: &'static str,
    work: impl Future<Output = (Result<(), Failure>, Observation)>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let (outcome, observation) = work.await;
    if let Some(namespace) = &state.app.config.metrics_namespace {
        let (status, code) = match &outcome {
            Ok(()) => (200, None),
            Err(Failure::Malformed(_)) => (400, Some("malformed_event")),
            Err(Failure::Configuration(_)) => (500, Some("misconfigured")),
            Err(Failure::Transient(_)) => (503, Some("transient")),
        };
        observation.record("tools", source, status, code, started.elapsed()).emit(namespace);
    }
    outcome
}

async fn run(
    state: &ToolsState,
    event_id: &str,
    callback_url: &str,
    reference: Option<Value>,
    request: Result<ChatRequest, ApiError>,
) -> (Result<(), Failure>, Observation) {
    let mut observation = Observation::default();
    let outcome = deliver(state, event_id, callback_url, reference, request, &mut observation).await;
    (outcome, observation)
}

async fn deliver(
    state: &ToolsState,
    event_id: &str,
    callback_url: &str,
    reference: Option<Value>,
    request: Result<ChatRequest, ApiError>,
    observation: &mut Observation,
) -> Result<(), Failure> {
    let toolbox = &state.toolbox;
    let settings = &toolbox.settings;
    let policy = &settings.callbacks;
    let url = reqwest::Url::parse(callback_url)
        .map_err(|e| Failure::Malformed(format!("callback_url `{callback_url}` is not a URL ({e})")))?;
    if !policy.allowlist.allows(&url) {
        return Err(Failure::Configuration(format!(
            "callback_url `{}` is not in the callback allowlist ({}); add its host there to let results be sent to it",
            crate::tools::ssrf::redact(&url),
            policy.allowlist_var
        )));
    }
    let url = policy.check(callback_url).map_err(|e| Failure::Malformed(format!("callback_url refused: {e}")))?;
    let secret = settings.callback_secret.as_ref().ok_or_else(|| {
        Failure::Configuration("TOOLS_CALLBACK_SECRET is not set, so results cannot be signed".into())
    })?;

    let outcome = match request {
        Ok(request) => tools::run_chat(&state.app.config, state.app.bedrock.as_ref(), toolbox, request, None).await,
        Err(e) => Err(e),
    };
    let mut answer = match outcome {
        Ok(answer) => {
            let completion = &answer.completion;
            *observation = Observation::answered(
                &completion.model,
                completion.usage,
                completion.routing.as_ref(),
                answer.bedrock_time,
                completion.extra.tool_runs.len(),
            );
            json!({"status": "completed", "response": answer.completion})
        }
        Err(e) if retryable(&e) => return Err(Failure::Transient(format!("the tool loop failed: {e}"))),
        Err(e) => json!({"status": "failed", "error": e.body().error}),
    };
    answer["event_id"] = Value::String(event_id.to_owned());
    answer["reference"] = reference.unwrap_or(Value::Null);
    let body = serde_json::to_vec(&answer).map_err(|e| Failure::Transient(e.to_string()))?;
    let reply = toolbox.outbound.post_signed(&url, body, secret, settings.tool_timeout).await.map_err(|e| match e {
        OutboundError::Refused(why) => Failure::Malformed(format!("callback_url refused: {why}")),
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

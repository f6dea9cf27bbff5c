//! The HTTP side of the emulator: the axum routes (`POST /model/{modelId}/{operation}`), request
//! bookkeeping, queued replies first, then the operation's handler (the steps handlers share
//! are in [`super::handling`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::batch::{self, Batch};
use super::faults::ThrottleOnce;
use super::handling::Call;
use super::models::Profiles;
use super::queue::{self, Queue};
use super::{converse, native};

/// Bedrock accepts documents and images inline; leave room for them.
const BODY_LIMIT: usize = 25 * 1024 * 1024;

/// What the emulator remembers across requests.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) requests: AtomicUsize,
    pub(crate) last_request: Mutex<Option<Value>>,
    pub(crate) queue: Queue,
    pub(crate) profiles: Profiles,
    pub(crate) throttle_once: ThrottleOnce,
    pub(crate) batch: Batch,
}

/// The emulator's routes, on the given state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/model/{*rest}", post(call))
        .merge(batch::routes())
        .fallback(unknown_operation)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// The Bedrock Runtime operations the emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Converse,
    ConverseStream,
    Invoke,
    InvokeWithResponseStream,
}

impl Operation {
    fn from_path(segment: &str) -> Option<Operation> {
        Some(match segment {
            "converse" => Operation::Converse,
            "converse-stream" => Operation::ConverseStream,
            "invoke" => Operation::Invoke,
            "invoke-with-response-stream" => Operation::InvokeWithResponseStream,
            _ => return None,
        })
    }

    /// The path segment, which `last_request()` reports as `operation`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Converse => "converse",
            Operation::ConverseStream => "converse-stream",
            Operation::Invoke => "invoke",
            Operation::InvokeWithResponseStream => "invoke-with-response-stream",
        }
    }

    pub(crate) fn streams(self) -> bool {
        matches!(self, Operation::ConverseStream | Operation::InvokeWithResponseStream)
    }
}

async fn unknown_operation() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "The requested operation is not supported by this emulator: use POST /model/{modelId}/converse, /converse-stream, /invoke or /invoke-with-response-stream, or the batch operations under /model-invocation-job(s)." })),
    )
        .into_response();
    response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static("UnknownOperationException"));
    response
}

/// `POST /model/{modelId}/{operation}`; the model ID arrives percent-decoded.
async fn call(State(shared): State<Arc<Shared>>, Path(rest): Path<String>, headers: HeaderMap, raw: Bytes) -> Response {
    let started = Instant::now();
    let Some((model, operation)) = rest.rsplit_once('/') else {
        return unknown_operation().await;
    };
    let Some(operation) = Operation::from_path(operation) else {
        return unknown_operation().await;
    };
    let number = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let parsed = serde_json::from_slice::<Value>(&raw);
    remember(&shared, model, operation, parsed.as_ref().ok(), &raw, &headers);
    tracing::debug!(model, operation = operation.name(), number, "bedrock emulator request");

    let outcome = match shared.queue.pop() {
        Some((reply, gate)) => Ok(queue::respond(reply, gate)),
        None => {
            let call = Call { shared: &shared, model_id: model, operation, headers: &headers, raw: &raw, started };
            match operation {
                Operation::Converse | Operation::ConverseStream => converse::respond(&call, parsed).await,
                Operation::Invoke | Operation::InvokeWithResponseStream => native::respond(&call, parsed).await,
            }
        }
    };
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id(number)) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

/// InvokeModel's guardrail headers, as `last_request()` reports them.
const GUARDRAIL_HEADERS: [(&str, &str); 3] = [
    ("x-amzn-bedrock-guardrailidentifier", "guardrailIdentifier"),
    ("x-amzn-bedrock-guardrailversion", "guardrailVersion"),
    ("x-amzn-bedrock-trace", "trace"),
];

fn remember(shared: &Shared, model: &str, operation: Operation, body: Option<&Value>, raw: &[u8], headers: &HeaderMap) {
    let mut record = match body {
        Some(Value::Object(map)) => map.clone(),
        _ => {
            let mut map = Map::new();
            map.insert("rawBody".into(), String::from_utf8_lossy(raw).into());
            map
        }
    };
    record.insert("modelId".into(), model.into());
    record.insert("operation".into(), operation.name().into());
    if matches!(operation, Operation::Invoke | Operation::InvokeWithResponseStream) {
        let guardrail: Map<String, Value> = GUARDRAIL_HEADERS
            .iter()
            .filter_map(|(header, key)| {
                let value = headers.get(*header)?;
                Some(((*key).to_owned(), String::from_utf8_lossy(value.as_bytes()).into()))
            })
            .collect();
        if !guardrail.is_empty() {
            record.insert("guardrailConfig".into(), Value::Object(guardrail));
        }
    }
    *shared.last_request.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(Value::Object(record));
}

fn request_id(number: usize) -> String {
    format!("0e3c1b2a-5d4f-4e6a-9b8c-{number:012x}")
}

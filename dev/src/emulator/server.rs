//! The HTTP side of the emulator: the axum routes for Converse and ConverseStream, request
//! bookkeeping, fault and timing directives, and the frame-by-frame streaming body.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::faults::{self, BedrockError, ErrorKind, ThrottleOnce};
use super::models::{self, Profiles};
use super::queue::{self, Queue};
use super::{frames, script, validate};

/// Bedrock accepts documents and images inline; leave room for them.
const BODY_LIMIT: usize = 25 * 1024 * 1024;

/// What the emulator remembers across requests.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) requests: AtomicUsize,
    pub(crate) last_request: Mutex<Option<Value>>,
    pub(crate) queue: Queue,
    pub(crate) profiles: Profiles,
    throttle_once: ThrottleOnce,
}

/// The emulator's routes, on the given state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/model/{*rest}", post(invoke))
        .fallback(unknown_operation)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Converse,
    ConverseStream,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Converse => "converse",
            Operation::ConverseStream => "converse-stream",
        }
    }
}

async fn unknown_operation() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "The requested operation is not supported by this emulator: use POST /model/{modelId}/converse or /converse-stream." })),
    )
        .into_response();
    response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static("UnknownOperationException"));
    response
}

/// `POST /model/{modelId}/converse` and `/converse-stream`; the model ID arrives percent-decoded.
async fn invoke(State(shared): State<Arc<Shared>>, Path(rest): Path<String>, raw: Bytes) -> Response {
    let started = Instant::now();
    let Some((model, operation)) = rest.rsplit_once('/') else {
        return unknown_operation().await;
    };
    let operation = match operation {
        "converse" => Operation::Converse,
        "converse-stream" => Operation::ConverseStream,
        _ => return unknown_operation().await,
    };
    let number = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let parsed = serde_json::from_slice::<Value>(&raw);
    remember(&shared, model, operation, parsed.as_ref().ok(), &raw);
    tracing::debug!(model, operation = operation.name(), number, "bedrock emulator request");

    let outcome = match shared.queue.pop() {
        Some((reply, gate)) => Ok(queue::respond(reply, gate)),
        None => respond(&shared, model, operation, parsed, &raw, started).await,
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

fn remember(shared: &Shared, model: &str, operation: Operation, body: Option<&Value>, raw: &[u8]) {
    let mut record = match body {
        Some(Value::Object(map)) => map.clone(),
        _ => {
            let mut map = serde_json::Map::new();
            map.insert("rawBody".into(), String::from_utf8_lossy(raw).into());
            map
        }
    };
    record.insert("modelId".into(), model.into());
    record.insert("operation".into(), operation.name().into());
    *shared.last_request.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(Value::Object(record));
}

fn request_id(number: usize) -> String {
    format!("0e3c1b2a-5d4f-4e6a-9b8c-{number:012x}")
}

async fn respond(
    shared: &Shared,
    model: &str,
    operation: Operation,
    parsed: serde_json::Result<Value>,
    raw: &[u8],
    started: Instant,
) -> Result<Response, BedrockError> {
    let model = models::resolve(model, &shared.profiles)?;
    let body = parsed.map_err(|error| {
        BedrockError::validation(format!(
            "Malformed input request: the body is not valid JSON ({error}). Reformat your input and try again."
        ))
    })?;
    validate::request(&body)?;

    let controls = script::controls(&body, &model);
    if let Some(ms) = controls.slow_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(fault) = &controls.fault {
        if fault == "throttle_once" {
            if shared.throttle_once.first_time(raw) {
                return Err(BedrockError::of(ErrorKind::Throttling));
            }
        } else if let Some(kind) = faults::fault_kind(fault) {
            return Err(BedrockError::of(kind));
        }
    }

    let reply = script::answer(&body, &model);
    Ok(match operation {
        Operation::Converse => Json(reply.converse_json(elapsed_ms(started))).into_response(),
        Operation::ConverseStream => stream(reply, controls, started),
    })
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One frame still to send.
enum Planned {
    Event(&'static str, Value),
    Metadata,
    Exception(String, Value),
}

/// The ConverseStream body: each frame is encoded and sent when its turn comes, `[[delay:MS]]`
/// apart, so a client sees the first events long before the last one exists.
fn stream(reply: script::Answer, controls: script::Controls, started: Instant) -> Response {
    let mut plan: Vec<Planned> = Vec::new();
    let mut deltas = 0;
    let mut interrupted = false;
    for (kind, payload) in reply.stream_events() {
        if let Some(exception) = &controls.midstream
            && (deltas == 2 || kind == "messageStop")
        {
            let (wire, payload) = faults::stream_exception(exception);
            plan.push(Planned::Exception(wire, payload));
            interrupted = true;
            break;
        }
        deltas += usize::from(kind == "contentBlockDelta");
        plan.push(Planned::Event(kind, payload));
    }
    if !interrupted {
        plan.push(Planned::Metadata);
    }

    let delay = controls.delay_ms.map(Duration::from_millis);
    let frames =
        futures_util::stream::unfold((plan.into_iter().enumerate(), reply), move |(mut plan, reply)| async move {
            let (index, next) = plan.next()?;
            if let Some(delay) = delay
                && index > 0
            {
                tokio::time::sleep(delay).await;
            }
            // Padding lengths vary like the recordings' do, but deterministically.
            let padding = 1 + (index * 23 + 11) % 52;
            let frame = match next {
                Planned::Event(kind, payload) => frames::event_frame(kind, &payload, padding),
                Planned::Metadata => {
                    frames::event_frame("metadata", &reply.metadata_json(elapsed_ms(started)), padding)
                }
                Planned::Exception(kind, payload) => frames::exception_frame(&kind, &payload),
            };
            Some((Ok::<Bytes, Infallible>(frame), (plan, reply)))
        });
    let mut response = Response::new(Body::from_stream(frames));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.amazon.eventstream"));
    response
}

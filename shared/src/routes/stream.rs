//! `POST /stream/v1/chat/completions`: server-sent events from ConverseStream, or plain JSON
//! when the caller sends `stream: false`.
//!
//! The status is decided only once Bedrock's first event is in: until then every failure is an
//! ordinary JSON error with its real status (429 with Retry-After, 400, 403, 404, 5xx), and a
//! fault before the first byte falls back to the next model. After it, the answer is a
//! `200 text/event-stream` whose frames are written as they are made. Under `cascade` the answer
//! is checked before anything is sent, so it arrives as the same SSE sequence in one burst.

use super::observe::{Deferred, RequestStarted};
use super::{ChatBody, routed_model};
use crate::chat;
use crate::convert::prepare;
use crate::convert::response::Envelope;
use crate::error::ApiError;
use crate::model_choice::{Policy, RouteKind, Router};
use crate::state::AppState;
use crate::stream::{self, ChunkMapper, Deadline, Started, StreamMetrics, fallback};
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use tokio::time::Instant;

pub async fn complete(
    State(state): State<AppState>,
    began: Option<Extension<RequestStarted>>,
    ChatBody(request): ChatBody,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let bedrock = state.bedrock.as_ref();
    let plan = chat::plan(config, &request, RouteKind::Stream)?;
    if request.stream != Some(true) {
        let answer = chat::complete(config, bedrock, &request, plan).await?;
        let tool_calls = answer.completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
        return Ok(super::answered(answer.completion, answer.bedrock_time, tool_calls));
    }

    let deadline = Deadline::after(config.stream_timeout);
    let (started, model, ledger, bedrock_time) = if plan.policy == Policy::Cascade {
        // Checked before any token is sent: the whole answer, then its SSE replay.
        let answer = chat::complete(config, bedrock, &request, plan).await?;
        (fallback::replay(&answer.output)?, answer.model, answer.ledger, answer.bedrock_time)
    } else {
        let mut router = Router::new(config, bedrock, plan, deadline.at);
        router.triage(&request).await;
        let (started, model): (Started, _) = router.open_stream(|m| Ok(prepare(&request, m, config)?.request)).await?;
        let bedrock_time = router.bedrock_time();
        (started, model, router.into_ledger(), bedrock_time)
    };

    let metrics = config.metrics_namespace.as_deref().map(|namespace| StreamMetrics {
        namespace: namespace.into(),
        function: "stream",
        route: "/stream/v1/chat/completions",
        request_started: began.map_or_else(Instant::now, |Extension(RequestStarted(at))| at),
        bedrock_before: bedrock_time,
    });
    let mapper = ChunkMapper::new(Envelope::new(&model.id), model.price).with_ledger(ledger);
    let body = Body::from_stream(stream::sse_recorded(started, mapper, deadline, metrics));
    let mut response = stream::sse::response(body);
    response.headers_mut().extend(routed_model(&model.id));
    response.extensions_mut().insert(Deferred);
    Ok(response)
}

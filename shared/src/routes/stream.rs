//! `POST /stream/v1/chat/completions`: server-sent events, or plain JSON when the caller sends
//! `stream: false`. The chat use case ([`chat::stream`]) routes the request and opens the
//! stream; this route only turns it into a response.
//!
//! The status is decided only once Bedrock's first event is in: until then every failure is an
//! ordinary JSON error with its real status (429 with Retry-After, 400, 403, 404, 5xx), and a
//! fault before the first byte falls back to the next model. After it, the answer is a
//! `200 text/event-stream` whose frames are written as they are made. Under `cascade` the answer
//! is checked before anything is sent, so it arrives as the same SSE sequence in one burst.

use super::observe::{Deferred, RequestStarted};
use super::{ChatBody, routed_model};
use crate::chat;
use crate::config::routing::RouteKind;
use crate::convert::response::{Envelope, ToolCalls};
use crate::error::ApiError;
use crate::keys::Caller;
use crate::state::AppState;
use crate::stream::{self, ChunkMapper, Deadline, StreamMetrics};
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use tokio::time::Instant;

pub async fn post_stream_chat(
    State(state): State<AppState>,
    began: Option<Extension<RequestStarted>>,
    caller: Option<Extension<Caller>>,
    ChatBody(request): ChatBody,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let bedrock = state.bedrock.as_ref();
    let planned = chat::plan(config, &request, RouteKind::Stream, caller.as_deref())?;
    if request.stream != Some(true) {
        let answer = chat::answer(config, bedrock, &request, planned).await?;
        let tool_calls = answer.completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
        return Ok(super::answered(answer.completion, answer.bedrock_time, tool_calls));
    }

    let deadline = Deadline::after(config.stream_timeout);
    let streamed = chat::stream(config, bedrock, &request, planned, deadline.at).await?;
    let metrics = config.metrics_namespace.as_deref().map(|namespace| StreamMetrics {
        namespace: namespace.into(),
        function: "stream",
        route: "/stream/v1/chat/completions",
        request_started: began.map_or_else(Instant::now, |Extension(RequestStarted(at))| at),
        bedrock_before: streamed.bedrock_time,
        key_id: caller.as_ref().map(|c| c.key.id.clone()),
    });
    let model = streamed.model;
    // A replayed (cascade) answer is limited already; a live stream is limited as it is mapped.
    let mapper = ChunkMapper::new(Envelope::new(&model.id), model.price)
        .with_tool_calls(ToolCalls::of(request.parallel_tool_calls))
        .with_reasoning_format(request.reasoning_format);
    let accounts = stream::Accounts { ledger: Some(streamed.ledger), charge: streamed.charge };
    let body = Body::from_stream(stream::sse_recorded(streamed.started, mapper, accounts, deadline, metrics));
    let mut response = stream::sse::response(body);
    response.headers_mut().extend(routed_model(&model.id));
    response.extensions_mut().insert(Deferred);
    Ok(response)
}

//! `POST /v1/chat/completions`: one routed answer, as JSON, or, for clients that always stream
//! (`stream: true`), as the same server-sent events `/stream/v1` sends, made once the whole
//! answer is in and sent as one body (`x-stream-mode: buffered`). The converse function sits
//! behind API Gateway's buffered Lambda proxy, which cannot send a body before it is complete,
//! so this is not incremental; `/stream/v1` streams tokens as they come.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use futures_util::StreamExt;
use http::HeaderValue;

use super::{ChatBody, routed_model};
use crate::api::reasoning::ReasoningFormat;
use crate::bedrock::started;
use crate::chat;
use crate::convert::response::Envelope;
use crate::error::ApiError;
use crate::keys::Caller;
use crate::metrics::Observation;
use crate::model_choice::RouteKind;
use crate::state::AppState;
use crate::stream::{self, Accounts, ChunkMapper, Deadline};

/// The header that says how a stream was sent: `buffered`, all at once when the answer is ready.
pub const STREAM_MODE: &str = "x-stream-mode";

pub async fn post_chat(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    ChatBody(request): ChatBody,
) -> Result<Response, ApiError> {
    let planned = chat::plan(&state.config, &request, RouteKind::Chat, caller.as_deref())?;
    let answer = chat::answer(&state.config, state.bedrock.as_ref(), &request, planned).await?;
    let tool_calls = answer.completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
    if request.stream != Some(true) {
        return Ok(super::answered(answer.completion, answer.bedrock_time, tool_calls));
    }
    buffered_stream(answer, tool_calls, state.config.stream_timeout, request.reasoning_format).await
}

/// A whole answer as a complete SSE body: the answer replayed as Bedrock events through the
/// same chunk mapping and relay as a live stream (role, content, whole tool calls, the last
/// chunk with `finish_reason`, `usage` and `routing`, then `[DONE]`), with the completion's id.
async fn buffered_stream(
    answer: chat::Answer<'_>,
    tool_calls: usize,
    limit: std::time::Duration,
    reasoning: ReasoningFormat,
) -> Result<Response, ApiError> {
    let chat::Answer { completion, output, model, ledger, bedrock_time } = answer;
    let envelope = Envelope { id: completion.id.clone(), created: completion.created, model: model.id.clone() };
    let mapper = ChunkMapper::new(envelope, model.price).with_reasoning_format(reasoning);
    let accounts = Accounts { ledger: Some(ledger), charge: None };
    let frames: Vec<_> =
        stream::sse_recorded(started::replayed(&output)?, mapper, accounts, Deadline::after(limit), None)
            .collect()
            .await;
    let body: Vec<u8> = frames.into_iter().flat_map(|frame| frame.unwrap_or_else(|never| match never {})).collect();

    let mut response = stream::sse::response(Body::from(body));
    let headers = response.headers_mut();
    headers.extend(routed_model(&model.id));
    headers.insert(STREAM_MODE, HeaderValue::from_static("buffered"));
    // The metrics record is the request's, as for a JSON answer.
    let observation = Observation::answered(
        &completion.model,
        completion.usage,
        completion.routing.as_ref(),
        bedrock_time,
        tool_calls,
    );
    response.extensions_mut().insert(observation);
    Ok(response)
}

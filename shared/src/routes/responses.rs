//! `POST /v1/responses` and `POST /stream/v1/responses`: the OpenAI Responses API over the chat
//! use case. The body is translated into a chat request ([`crate::responses::translate`]),
//! planned and answered by [`chat`] as on the chat routes (keys, routing, fallbacks,
//! guardrails, metrics), and the answer translated back: a response object, or the Responses
//! event sequence. As on chat, `/v1` sends `stream: true` as one buffered SSE body
//! (`x-stream-mode: buffered`) and `/stream/v1` streams it live; errors before the first event
//! keep their real HTTP status.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::HeaderValue;
use tokio::time::Instant;

use super::chat::STREAM_MODE;
use super::observe::{Deferred, RequestStarted};
use super::routed_model;
use crate::bedrock::started;
use crate::chat;
use crate::config::routing::RouteKind;
use crate::convert::response::{Envelope, ToolCalls};
use crate::error::ApiError;
use crate::keys::Caller;
use crate::metrics::Observation;
use crate::responses::output::{self, Context};
use crate::responses::{DROPPED_TOOLS, Translated, events, in_responses_terms, translate};
use crate::state::AppState;
use crate::stream::{self, Accounts, ChunkMapper, Deadline, StreamMetrics};

/// `/v1/responses` (converse): a whole answer, as JSON or as a buffered event stream.
pub async fn post_responses(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let translated = read(&state, request).await?;
    answer_whole(&state, caller, &translated).await.map_err(in_responses_terms)
}

/// One routed answer, sent as a response object or, for `stream: true`, replayed through the
/// same chunk mapping and event translation as a live stream and sent as one body.
async fn answer_whole(
    state: &AppState,
    caller: Option<Extension<Caller>>,
    translated: &Translated,
) -> Result<Response, ApiError> {
    let planned = chat::plan(&state.config, &translated.chat, RouteKind::Chat, caller.as_deref())?;
    let answer = chat::answer(&state.config, state.bedrock.as_ref(), &translated.chat, planned).await?;
    if translated.chat.stream != Some(true) {
        return Ok(whole(answer, translated));
    }
    let chat::Answer { completion, output, model, ledger, bedrock_time } = answer;
    let envelope = Envelope { id: completion.id.clone(), created: completion.created, model: model.id.clone() };
    let accounts = Accounts { ledger: Some(ledger), charge: None };
    let deadline = Deadline::after(state.config.stream_timeout);
    let frames = stream::sse_recorded(
        started::replayed(&output)?,
        ChunkMapper::new(envelope, model.price),
        accounts,
        deadline,
        None,
    );
    let context = Context::new(&model.id, translated.echo.clone(), translated.namespaces.clone());
    let body: Vec<u8> = events::sse(frames, context)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|frame| frame.unwrap_or_else(|never| match never {}))
        .collect();
    let mut response = stream::sse::response(Body::from(body));
    decorate(&mut response, &model.id, translated);
    response.headers_mut().insert(STREAM_MODE, HeaderValue::from_static("buffered"));
    let tool_calls = completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
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

/// `/stream/v1/responses` (stream): the Responses events as the model writes them.
pub async fn post_stream_responses(
    State(state): State<AppState>,
    began: Option<Extension<RequestStarted>>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let translated = read(&state, request).await?;
    answer_streamed(&state, began, caller, &translated).await.map_err(in_responses_terms)
}

/// One routed answer as a live event stream (or a response object for `stream: false`); the
/// status is decided once Bedrock's first event is in, as on `/stream/v1/chat/completions`.
async fn answer_streamed(
    state: &AppState,
    began: Option<Extension<RequestStarted>>,
    caller: Option<Extension<Caller>>,
    translated: &Translated,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let bedrock = state.bedrock.as_ref();
    let planned = chat::plan(config, &translated.chat, RouteKind::Stream, caller.as_deref())?;
    if translated.chat.stream != Some(true) {
        let answer = chat::answer(config, bedrock, &translated.chat, planned).await?;
        return Ok(whole(answer, translated));
    }
    let deadline = Deadline::after(config.stream_timeout);
    let streamed = chat::stream(config, bedrock, &translated.chat, planned, deadline.at).await?;
    let metrics = config.metrics_namespace.as_deref().map(|namespace| StreamMetrics {
        namespace: namespace.into(),
        function: "stream",
        route: "/stream/v1/responses",
        request_started: began.map_or_else(Instant::now, |Extension(RequestStarted(at))| at),
        bedrock_before: streamed.bedrock_time,
        key_id: caller.as_ref().map(|c| c.key.id.clone()),
    });
    let model = streamed.model;
    let mapper = ChunkMapper::new(Envelope::new(&model.id), model.price)
        .with_tool_calls(ToolCalls::of(translated.chat.parallel_tool_calls));
    let accounts = Accounts { ledger: Some(streamed.ledger), charge: streamed.charge };
    let frames = stream::sse_recorded(streamed.started, mapper, accounts, deadline, metrics);
    let context = Context::new(&model.id, translated.echo.clone(), translated.namespaces.clone());
    let mut response = stream::sse::response(Body::from_stream(events::sse(frames, context)));
    decorate(&mut response, &model.id, translated);
    response.extensions_mut().insert(Deferred);
    Ok(response)
}

/// The body, read within `MAX_BODY_BYTES` and translated.
async fn read(state: &AppState, request: Request) -> Result<Translated, ApiError> {
    let body = super::read_body(request.into_body(), state.config.max_body_bytes).await?;
    translate(&body)
}

/// A whole answer as a response object, with the metrics observation a chat answer has.
fn whole(answer: chat::Answer<'_>, translated: &Translated) -> Response {
    let completion = answer.completion;
    let context = Context::new(&completion.model, translated.echo.clone(), translated.namespaces.clone());
    let body = output::from_completion(&completion, &context);
    let tool_calls = completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
    let observation = Observation::answered(
        &completion.model,
        completion.usage,
        completion.routing.as_ref(),
        answer.bedrock_time,
        tool_calls,
    );
    let mut response = axum::Json(body).into_response();
    decorate(&mut response, &completion.model, translated);
    response.extensions_mut().insert(observation);
    response
}

/// `x-routed-model`, and `x-dropped-tools` when hosted tools were dropped.
fn decorate(response: &mut Response, model_id: &str, translated: &Translated) {
    let headers = response.headers_mut();
    headers.extend(routed_model(model_id));
    let dropped = translated.dropped_tools.join(", ");
    if let (false, Ok(value)) = (dropped.is_empty(), HeaderValue::from_str(&dropped)) {
        headers.insert(DROPPED_TOOLS, value);
    }
}

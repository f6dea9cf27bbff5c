//! `POST /stream/v1/chat/completions`: server-sent events from ConverseStream, or plain JSON
//! when the caller sends `stream: false`.
//!
//! The status is decided only once Bedrock's first event is in: until then every failure is an
//! ordinary JSON error with its real status (429 with Retry-After, 400, 403, 404, 5xx). After it,
//! the answer is a `200 text/event-stream` whose frames are written as they are made.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::ChatBody;
use crate::chat;
use crate::convert::response::Envelope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::stream::{self, ChunkMapper, Deadline, fallback};

pub async fn complete(State(state): State<AppState>, ChatBody(request): ChatBody) -> Result<Response, ApiError> {
    let call = chat::prepare_call(&state.config, request)?;
    if !call.prepared.stream {
        return Ok(Json(chat::complete(state.bedrock.as_ref(), call).await?).into_response());
    }

    let deadline = Deadline::after(state.config.stream_timeout);
    let model = call.model;
    let request = call.prepared.request;
    let bedrock = state.bedrock.as_ref();
    let started = if request.tool_config.is_some() && !model.capabilities.streaming_tools {
        tracing::info!(model = %model.id, "model cannot stream tool use; answering from Converse as SSE");
        deadline.run(&model.id, fallback::start(bedrock, request)).await?
    } else {
        deadline.run(&model.id, stream::open(bedrock, request)).await?
    };

    let mapper = ChunkMapper::new(Envelope::new(&model.id), model.price);
    Ok(stream::sse::response(Body::from_stream(stream::sse(started, mapper, deadline))))
}

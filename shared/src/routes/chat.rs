//! `POST /v1/chat/completions`: one Converse call, answered as JSON.

use axum::Json;
use axum::body::Body;
use axum::extract::State;

use crate::api::response::ChatCompletion;
use crate::chat;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn complete(State(state): State<AppState>, body: Body) -> Result<Json<ChatCompletion>, ApiError> {
    let body = super::read_body(body, state.config.max_body_bytes).await?;
    let call = chat::parse(&state.config, &body)?;
    if call.prepared.stream {
        return Err(ApiError::invalid(
            "stream",
            "this endpoint answers with one JSON body; for server-sent events use the streaming base URL (POST /stream/v1/chat/completions), or send stream: false",
        ));
    }
    Ok(Json(chat::complete(state.bedrock.as_ref(), call).await?))
}

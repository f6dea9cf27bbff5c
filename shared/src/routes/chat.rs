//! `POST /v1/chat/completions`: one model call, answered as JSON.

use axum::Json;
use axum::extract::State;

use super::ChatBody;
use crate::api::response::ChatCompletion;
use crate::chat;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn complete(
    State(state): State<AppState>,
    ChatBody(request): ChatBody,
) -> Result<Json<ChatCompletion>, ApiError> {
    let call = chat::prepare_call(&state.config, request)?;
    if call.prepared.stream {
        return Err(ApiError::invalid(
            "stream",
            "this endpoint answers with one JSON body; for server-sent events use the streaming base URL (POST /stream/v1/chat/completions), or send stream: false",
        ));
    }
    Ok(Json(chat::complete(state.bedrock.as_ref(), call).await?))
}

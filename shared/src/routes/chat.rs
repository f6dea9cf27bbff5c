//! `POST /v1/chat/completions`: one routed answer, as JSON.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use super::ChatBody;
use crate::chat;
use crate::error::ApiError;
use crate::keys::Caller;
use crate::model_choice::RouteKind;
use crate::state::AppState;

pub async fn post_chat(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    ChatBody(request): ChatBody,
) -> Result<Response, ApiError> {
    if request.stream == Some(true) {
        return Err(ApiError::invalid(
            "stream",
            "this endpoint answers with one JSON body; for server-sent events use the streaming base URL (POST /stream/v1/chat/completions), or send stream: false",
        ));
    }
    let planned = chat::plan(&state.config, &request, RouteKind::Chat, caller.as_deref())?;
    let answer = chat::answer(&state.config, state.bedrock.as_ref(), &request, planned).await?;
    let tool_calls = answer.completion.choices[0].message.tool_calls.as_ref().map_or(0, Vec::len);
    Ok(super::answered(answer.completion, answer.bedrock_time, tool_calls))
}

//! `POST /tools/v1/chat/completions`: the server-side tool loop.
//!
//! The signature (when `TOOLS_INBOUND_SECRET` is set) is checked on the raw body before it is
//! parsed, so an unauthenticated request never reaches the model.

use crate::api::request::ChatRequest;
use crate::error::ApiError;
use crate::keys::Caller;
use crate::state::ToolsState;
use crate::tools;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;

pub async fn post_tools_chat(
    State(state): State<ToolsState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = super::read_body(body, state.app.config.max_body_bytes).await?;
    state.toolbox.authenticate(&headers, &body)?;
    let request = ChatRequest::from_slice(&body)?;
    let caller = caller.as_deref();
    let answer =
        tools::run_chat(&state.app.config, state.app.bedrock.as_ref(), &state.toolbox, request, caller).await?;
    let tool_calls = answer.completion.extra.tool_runs.len();
    Ok(super::answered(answer.completion, answer.bedrock_time, tool_calls))
}

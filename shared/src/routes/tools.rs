//! `POST /tools/v1/chat/completions`: the server-side tool loop.
//!
//! The signature (when `TOOLS_INBOUND_SECRET` is set) is checked on the raw body before
//! anything else, so an unauthenticated request never reaches the model.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use http::HeaderMap;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tools::{self, ToolsCompletion};

pub async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ToolsCompletion>, ApiError> {
    let Some(toolbox) = &state.tools else {
        return Err(ApiError::NotFound("this function serves no tools; use the tools base URL (/tools/v1)".into()));
    };
    let body = super::read_body(body, state.config.max_body_bytes).await?;
    toolbox.authenticate(&headers, &body)?;
    let completion = tools::complete(&state.config, state.bedrock.as_ref(), toolbox, &body).await?;
    Ok(Json(completion))
}

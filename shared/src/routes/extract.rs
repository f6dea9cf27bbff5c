//! The typed request body: a handler receives a parsed [`ChatRequest`], and every way a body can
//! be wrong (too large, unreadable, not JSON, a bad field) is already an [`ApiError`] in the
//! API's shape, so no handler sees raw bytes or writes a 400 by hand.

use axum::extract::{FromRef, FromRequest, Request};

use crate::api::reasoning::{REASONING_FORMAT_HEADER, ReasoningFormat};
use crate::api::request::ChatRequest;
use crate::error::ApiError;
use crate::state::{AppState, ToolsState};

/// A chat-completions body, read within `MAX_BODY_BYTES` and parsed once, with the one header
/// that shapes the answer's body (`x-reasoning-format`).
#[derive(Debug)]
pub struct ChatBody(pub ChatRequest);

impl<S> FromRequest<S> for ChatBody
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = AppState::from_ref(state).config.max_body_bytes;
        let header = request.headers().get(REASONING_FORMAT_HEADER).and_then(|v| v.to_str().ok());
        let reasoning_format = ReasoningFormat::from_header(header);
        let body = super::read_body(request.into_body(), limit).await?;
        let mut chat = ChatRequest::from_slice(&body)?;
        chat.reasoning_format = reasoning_format;
        Ok(ChatBody(chat))
    }
}

impl FromRef<ToolsState> for AppState {
    fn from_ref(state: &ToolsState) -> AppState {
        state.app.clone()
    }
}

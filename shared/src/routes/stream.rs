//! `POST /stream/v1/chat/completions`: server-sent events from ConverseStream.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

pub async fn complete(State(_state): State<AppState>, _body: Body) -> Result<Response, ApiError> {
    Err(ApiError::Internal("streaming is not implemented yet".into()))
}

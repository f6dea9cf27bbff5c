//! `POST /tools/v1/chat/completions`: the server-side tool loop.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

pub async fn complete(State(_state): State<AppState>, _body: Body) -> Result<Response, ApiError> {
    Err(ApiError::Internal("the tool loop is not implemented yet".into()))
}

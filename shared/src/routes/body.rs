//! Reads a request body with the configured size limit, answering 413 in the API's error shape.

use axum::body::{Body, Bytes};

use crate::error::ApiError;

pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::bad_request(format!("could not read the request body ({e})"))
        }
    })
}

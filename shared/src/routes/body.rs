//! Reads a request body with the configured size limit, answering 413 in the API's error shape.
//!
//! A client that writes its whole body before reading (Python's `http.client`, many SDKs) would
//! get a broken pipe instead of the 413 if the server closed the connection with the body
//! half-read, so the rest of an oversized body is read and discarded, up to a bound.

use axum::body::{Body, Bytes};
use bytes::BytesMut;
use http_body_util::BodyExt;

use crate::error::ApiError;

/// How much of an oversized body is read and thrown away, beyond the limit, so the client gets
/// to read the 413; past this the connection is closed (an API Gateway payload is at most 10 MB).
const DISCARD_LIMIT: usize = 16 << 20;

pub async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("could not read the request body ({e})")))?;
        let Ok(data) = frame.into_data() else { continue };
        if buffer.len() + data.len() > limit {
            discard_rest(&mut body, buffer.len() + data.len()).await;
            return Err(ApiError::PayloadTooLarge { limit });
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

/// Reads the body to its end, or until `DISCARD_LIMIT` bytes have gone by.
async fn discard_rest(body: &mut Body, mut seen: usize) {
    while seen <= DISCARD_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) | None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_up_to_the_limit_are_read_and_larger_ones_refused() {
        let read = |n: usize| read_body(Body::from(vec![b'x'; n]), 1024);
        assert_eq!(read(1024).await.unwrap().len(), 1024);
        assert_eq!(read(1025).await.unwrap_err(), ApiError::PayloadTooLarge { limit: 1024 });
    }
}

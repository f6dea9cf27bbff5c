//! Server-sent events framing: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` at the end,
//! `data: {"error": {...}}\n\n` when a stream fails after it has started.
//!
//! JSON never holds a raw line break (serde escapes them in strings), so every event is one
//! `data:` line, which is what the OpenAI and Mistral SDKs parse.

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::api::chunk::ChatChunk;
use crate::error::ApiError;

/// The end-of-stream sentinel both SDKs stop at.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// One chunk as an event.
pub fn chunk(chunk: &ChatChunk) -> Bytes {
    Bytes::from(data(chunk, b""))
}

/// The final chunk and `[DONE]` in one write: the caller learns the answer is over at once.
pub fn last_chunk(chunk: &ChatChunk) -> Bytes {
    Bytes::from(data(chunk, DONE))
}

/// An error event in the API's error shape. Nothing follows it, not even `[DONE]`: the OpenAI
/// SDK raises `APIError` on an `error` member, and Mistral's SDK fails to read it as a chunk, so
/// neither can mistake a failed answer for a complete one.
pub fn error(error: &ApiError) -> Bytes {
    Bytes::from(data(&error.body(), b""))
}

/// A `200 text/event-stream` response around `body`, with the headers that keep proxies
/// (API Gateway, nginx, CloudFront) from buffering or caching it.
pub fn response(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn data(value: &impl Serialize, trailer: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(256 + trailer.len());
    frame.extend_from_slice(b"data: ");
    if let Err(e) = serde_json::to_writer(&mut frame, value) {
        // Our wire types always serialize; should that ever change, the caller still gets a
        // well-formed error event instead of a broken line.
        tracing::error!(error = %e, "could not serialize a stream event");
        frame.truncate(6);
        frame.extend_from_slice(br#"{"error":{"message":"internal error while encoding the stream","type":"server_error","code":"internal_error"}}"#);
    }
    frame.extend_from_slice(b"\n\n");
    frame.extend_from_slice(trailer);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::chunk::{ChunkChoice, Delta};

    fn sample() -> ChatChunk {
        ChatChunk {
            id: "chatcmpl-1".into(),
            object: "chat.completion.chunk",
            created: 7,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta { content: Some("two\nlines".into()), ..Delta::default() },
                finish_reason: None,
            }],
            usage: None,
            routing: None,
        }
    }

    #[test]
    fn a_chunk_is_one_data_line_and_a_blank_line() {
        let frame = chunk(&sample());
        let text = std::str::from_utf8(&frame).unwrap();
        assert!(text.starts_with("data: {") && text.ends_with("}\n\n"), "{text:?}");
        assert_eq!(text.matches('\n').count(), 2, "{text:?}");
        let json: serde_json::Value = serde_json::from_str(&text[6..]).unwrap();
        assert_eq!(json["choices"][0]["delta"]["content"], "two\nlines");
        assert_eq!(json["choices"][0]["finish_reason"], serde_json::Value::Null);
    }

    #[test]
    fn the_last_chunk_is_followed_by_done() {
        let frame = last_chunk(&sample());
        assert!(frame.ends_with(b"}\n\ndata: [DONE]\n\n"));
    }

    #[test]
    fn errors_use_the_api_error_shape() {
        let frame = error(&ApiError::Throttled { message: "slow down".into(), retry_after: 2 });
        let text = std::str::from_utf8(&frame).unwrap();
        let json: serde_json::Value = serde_json::from_str(text.strip_prefix("data: ").unwrap().trim_end()).unwrap();
        assert_eq!(json["error"]["message"], "slow down");
        assert_eq!(json["error"]["type"], "rate_limit_error");
        assert_eq!(json["error"]["code"], "throttled");
        assert!(!text.contains("[DONE]"));
    }

    #[test]
    fn responses_are_unbuffered_event_streams() {
        let response = response(Body::empty());
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
    }
}

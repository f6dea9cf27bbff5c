//! ConverseStream events → chat-completion chunks → server-sent events.
//!
//! A stream is opened by the router ([`crate::bedrock::started`] waits for Bedrock's first event,
//! so errors before it still get their real HTTP status); [`sse`] then relays the rest as SSE frames, one
//! frame per event as soon as it is in; only a tool call's argument fragments are held, until its
//! block ends, so the call goes out whole ([`chunks`]). The relay is a plain stream with no
//! task of its own: when the caller goes away the response body is dropped, and with it the
//! Bedrock stream and its connection.

pub mod chunks;
mod relay;
pub mod sse;

use std::time::Duration;

use crate::error::ApiError;

pub use crate::bedrock::Started;
pub use chunks::ChunkMapper;
pub use relay::{Accounts, StreamMetrics, sse, sse_recorded};

/// The time budget of one streamed answer, from the request to its last event.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub(crate) at: tokio::time::Instant,
    limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Self {
        Deadline { at: tokio::time::Instant::now() + limit, limit }
    }

    /// Runs `work`, or answers the timeout error if the budget runs out first.
    pub async fn run<T>(&self, model: &str, work: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
        tokio::time::timeout_at(self.at, work).await.unwrap_or_else(|_| Err(self.error(model)))
    }

    pub fn error(&self, model: &str) -> ApiError {
        ApiError::Timeout(format!(
            "{model} did not finish its answer within {} ms (STREAM_TIMEOUT_MS). Retry with a shorter prompt or a lower max_tokens.",
            self.limit.as_millis()
        ))
    }
}

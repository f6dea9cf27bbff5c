//! ConverseStream events → chat-completion chunks → server-sent events.
//!
//! [`open`] waits for Bedrock's first event, so errors before it (validation, throttling,
//! access) still get their real HTTP status; [`sse`] then relays the rest as SSE frames, one
//! frame per event as soon as it is in, nothing accumulated. The relay is a plain stream with no
//! task of its own: when the caller goes away the response body is dropped, and with it the
//! Bedrock stream and its connection.

pub mod chunks;
pub mod fallback;
mod relay;
pub mod sse;

use std::time::Duration;

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use futures_util::StreamExt;

use crate::bedrock::{Bedrock, EventStream, ModelRequest};
use crate::error::ApiError;

pub use chunks::ChunkMapper;
pub use relay::{StreamMetrics, sse, sse_recorded};

/// A ConverseStream that has produced its first event.
pub struct Started {
    pub first: ConverseStreamOutput,
    pub events: EventStream,
}

/// Starts ConverseStream and waits for its first event: an error before it is returned here,
/// to be answered with its own HTTP status.
pub async fn open(bedrock: &dyn Bedrock, request: ModelRequest) -> Result<Started, ApiError> {
    let model = request.model_id.clone();
    let mut events = bedrock.stream(request).await?;
    match events.next().await {
        Some(Ok(first)) => Ok(Started { first, events }),
        Some(Err(error)) => Err(error),
        None => Err(ApiError::Upstream(format!(
            "Bedrock closed the stream of {model} before its first event. Retry the request."
        ))),
    }
}

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

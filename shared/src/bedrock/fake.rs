//! An in-process Bedrock for unit tests and benches: answers come from a function of the request,
//! streams are those answers replayed as ConverseStream events, and every request is kept for
//! assertions. End-to-end tests use the emulator (real SDK, real HTTP) instead.

use std::sync::{Arc, Mutex};

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, StopReason, ToolUseBlock};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{Bedrock, EventStream, ModelRequest};
use crate::bedrock::document::to_document;
use crate::error::ApiError;

type Answer = dyn Fn(&ModelRequest) -> Result<ConverseOutput, ApiError> + Send + Sync;

/// A Bedrock answering with `answer(request)`.
#[derive(Clone)]
pub struct FakeBedrock {
    answer: Arc<Answer>,
    /// `None` for benches, where keeping every request would be measured too.
    requests: Option<Arc<Mutex<Vec<ModelRequest>>>>,
}

impl FakeBedrock {
    pub fn new(answer: impl Fn(&ModelRequest) -> Result<ConverseOutput, ApiError> + Send + Sync + 'static) -> Self {
        FakeBedrock { answer: Arc::new(answer), requests: Some(Arc::default()) }
    }

    /// The same without keeping the requests.
    pub fn unrecorded(
        answer: impl Fn(&ModelRequest) -> Result<ConverseOutput, ApiError> + Send + Sync + 'static,
    ) -> Self {
        FakeBedrock { answer: Arc::new(answer), requests: None }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ModelRequest> {
        let Some(requests) = &self.requests else { return Vec::new() };
        requests.lock().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    fn record(&self, request: ModelRequest) -> Result<ConverseOutput, ApiError> {
        let output = (self.answer)(&request);
        if let Some(requests) = &self.requests {
            requests.lock().unwrap_or_else(|poison| poison.into_inner()).push(request);
        }
        output
    }
}

impl Bedrock for FakeBedrock {
    fn answer(&self, request: ModelRequest) -> BoxFuture<'_, Result<ConverseOutput, ApiError>> {
        let output = self.record(request);
        Box::pin(async move { output })
    }

    fn stream(&self, request: ModelRequest) -> BoxFuture<'_, Result<EventStream, ApiError>> {
        let events = self.record(request).and_then(|output| super::replay::events(&output));
        Box::pin(async move {
            let events = events?;
            Ok(Box::pin(futures_util::stream::iter(events.into_iter().map(Ok))) as EventStream)
        })
    }
}

/// A text answer with the given token counts.
pub fn text(text: &str, input_tokens: i32, output_tokens: i32) -> ConverseOutput {
    answer(vec![ContentBlock::Text(text.to_owned())], StopReason::EndTurn, input_tokens, output_tokens)
}

/// An answer that calls tools: (id, name, arguments) each.
pub fn tool_calls(calls: &[(&str, &str, Value)], input_tokens: i32, output_tokens: i32) -> ConverseOutput {
    let blocks = calls
        .iter()
        .map(|(id, name, arguments)| {
            ContentBlock::ToolUse(
                ToolUseBlock::builder()
                    .tool_use_id(*id)
                    .name(*name)
                    .input(to_document(arguments))
                    .build()
                    .expect("id, name and input are set"),
            )
        })
        .collect();
    answer(blocks, StopReason::ToolUse, input_tokens, output_tokens)
}

/// An assistant answer of `content`.
pub fn answer(content: Vec<ContentBlock>, stop: StopReason, input_tokens: i32, output_tokens: i32) -> ConverseOutput {
    super::converse_output(content, stop, input_tokens, output_tokens)
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn answers_and_streams_from_one_function_and_keeps_requests() {
        let fake = FakeBedrock::new(|r| Ok(text(&format!("hello {}", r.model_id), 3, 2)));
        let output = fake.answer(ModelRequest::new("mistral.a", Vec::new())).await.unwrap();
        assert_eq!(output.usage().unwrap().total_tokens, 5);
        let events: Vec<_> = fake.stream(ModelRequest::new("mistral.b", Vec::new())).await.unwrap().collect().await;
        assert!(events.len() >= 4, "start, delta, stop, metadata: {events:?}");
        let ids: Vec<String> = fake.requests().into_iter().map(|r| r.model_id).collect();
        assert_eq!(ids, ["mistral.a", "mistral.b"]);
    }
}

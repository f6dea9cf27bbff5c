//! The Bedrock port: a small trait over the two things the gateway asks of Bedrock (one answer,
//! or an answer as a stream of events), its `aws-sdk-bedrockruntime` adapter ([`sdk`]) and an
//! in-process fake ([`fake`]) for unit tests and benches.
//!
//! Requests and answers are Converse-shaped whatever operation carries them, so the chat,
//! streaming and tool-loop code never depends on which Bedrock operation a model is called with.

pub mod fake;
pub mod sdk;

use std::pin::Pin;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ConverseStreamOutput, InferenceConfiguration, Message, OutputConfig, SystemContentBlock, ToolConfiguration,
};
use futures_util::Stream;
use futures_util::future::BoxFuture;

use crate::error::ApiError;

pub use fake::FakeBedrock;
pub use sdk::SdkBedrock;

/// Everything one model call needs.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// Model, inference-profile or application-inference-profile id, as Bedrock expects it.
    pub model_id: String,
    pub messages: Vec<Message>,
    pub system: Vec<SystemContentBlock>,
    pub inference: InferenceConfiguration,
    pub tool_config: Option<ToolConfiguration>,
    pub output_config: Option<OutputConfig>,
}

impl ModelRequest {
    /// A request of `messages` to `model_id` with every option at its default.
    pub fn new(model_id: impl Into<String>, messages: Vec<Message>) -> Self {
        ModelRequest {
            model_id: model_id.into(),
            messages,
            system: Vec::new(),
            inference: InferenceConfiguration::builder().build(),
            tool_config: None,
            output_config: None,
        }
    }
}

/// ConverseStream events, ending at the first error (mapped to [`ApiError`]).
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ConverseStreamOutput, ApiError>> + Send>>;

pub trait Bedrock: Send + Sync + 'static {
    /// One whole answer.
    fn complete(&self, request: ModelRequest) -> BoxFuture<'_, Result<ConverseOutput, ApiError>>;
    /// Resolves once Bedrock has accepted the call (HTTP headers received); events follow.
    fn stream(&self, request: ModelRequest) -> BoxFuture<'_, Result<EventStream, ApiError>>;
}

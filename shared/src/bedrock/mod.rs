//! The Bedrock port: a small trait over the two things the gateway asks of Bedrock (one answer,
//! or an answer as a stream of events), its `aws-sdk-bedrockruntime` adapter ([`sdk`]) and an
//! in-process fake ([`fake`]) for unit tests and benches.
//!
//! Requests and answers are Converse-shaped whatever operation carries them, so the chat,
//! streaming and tool-loop code never depends on which Bedrock operation a model is called with.

pub mod converse_json;
pub mod document;
pub mod fake;
pub mod native;
pub mod output_tool;
pub mod replay;
pub mod sdk;
pub mod started;

use std::pin::Pin;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseMetrics, ConverseOutput as Output, ConverseStreamOutput,
    InferenceConfiguration, Message, OutputConfig, StopReason, SystemContentBlock, TokenUsage, ToolConfiguration,
};
use futures_util::Stream;
use futures_util::future::BoxFuture;

use crate::catalog::NativeBody;
use crate::error::ApiError;

pub use fake::FakeBedrock;
pub use sdk::SdkBedrock;
pub use started::Started;

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
    /// Called through InvokeModel with Mistral's native body instead of Converse.
    pub native: Option<NativeBody>,
    /// `tool_choice: "none"` with the tools still defined: what a conversation holding tool
    /// calls needs to get a plain answer. Only the native chat body can say it.
    pub tool_choice_none: bool,
    /// The tool whose call is the answer (`json_schema` on a model without native structured
    /// output): its call is turned back into the answer's text ([`output_tool`]).
    pub output_tool: Option<String>,
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
            native: None,
            tool_choice_none: false,
            output_tool: None,
        }
    }

    /// The Bedrock operation this request goes through, as logs name it.
    pub fn operation(&self, streamed: bool) -> &'static str {
        match (self.native.is_some(), streamed) {
            (false, false) => "converse",
            (false, true) => "converse-stream",
            (true, false) => "invoke",
            (true, true) => "invoke-with-response-stream",
        }
    }
}

/// A Converse-shaped answer: the assistant's `content`, why it stopped, and its token counts.
/// Native answers are turned into this too, so every route reads one shape.
pub fn converse_output(
    content: Vec<ContentBlock>,
    stop: StopReason,
    input_tokens: i32,
    output_tokens: i32,
) -> ConverseOutput {
    let message = Message::builder()
        .role(ConversationRole::Assistant)
        .set_content(Some(content))
        .build()
        .expect("role and content are set");
    let usage = TokenUsage::builder()
        .input_tokens(input_tokens)
        .output_tokens(output_tokens)
        .total_tokens(input_tokens + output_tokens)
        .build()
        .expect("token counts are set");
    ConverseOutput::builder()
        .output(Output::Message(message))
        .stop_reason(stop)
        .usage(usage)
        .metrics(ConverseMetrics::builder().latency_ms(0).build().expect("latency is set"))
        .build()
        .expect("output, stop reason, usage and metrics are set")
}

/// ConverseStream events, ending at the first error (mapped to [`ApiError`]).
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ConverseStreamOutput, ApiError>> + Send>>;

pub trait Bedrock: Send + Sync + 'static {
    /// One whole answer.
    fn answer(&self, request: ModelRequest) -> BoxFuture<'_, Result<ConverseOutput, ApiError>>;
    /// Resolves once Bedrock has accepted the call (HTTP headers received); events follow.
    fn stream(&self, request: ModelRequest) -> BoxFuture<'_, Result<EventStream, ApiError>>;
}

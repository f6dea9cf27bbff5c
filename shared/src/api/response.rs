//! `chat.completion` response body.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::reasoning::{self, ReasoningFormat};
use super::request::ToolCall;
use super::routing::RoutingReport;
use super::usage::Usage;

/// A `chat.completion`. Routes that add to it say how: the finish reason type `F` (the tool
/// loop adds its bounds) and flattened extra fields `X` (the tool loop's trace).
#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletion<F = FinishReason, X = NoExtras> {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<Choice<F>>,
    /// Every Bedrock call of the request, summed (triage and escalations included).
    pub usage: Usage,
    /// How the model was chosen and what each attempt cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingReport>,
    #[serde(flatten)]
    pub extra: X,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice<F = FinishReason> {
    pub index: u32,
    pub message: ResponseMessage,
    pub finish_reason: F,
}

/// No fields beyond the chat-completions ones.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NoExtras {}

#[derive(Debug, Clone, Default)]
pub struct ResponseMessage {
    pub role: &'static str,
    pub content: Option<String>,
    /// What a reasoning model (Magistral) thought before answering, kept out of `content`; sent
    /// as `reasoning_content` (the field OpenAI-compatible clients read it from) or as a
    /// `thinking` chunk, per `reasoning_format`.
    pub reasoning_content: Option<String>,
    pub tool_calls: Option<Vec<ToolCall>>,
    /// How the reasoning is sent (the request's `x-reasoning-format`).
    pub reasoning_format: ReasoningFormat,
}

impl Serialize for ResponseMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        reasoning::map(serializer, |map| {
            map.serialize_entry("role", self.role)?;
            let (content, thought) = (self.content.as_ref(), self.reasoning_content.as_ref());
            reasoning::serialize_content(map, self.reasoning_format, content, thought, true)?;
            reasoning::entry(map, "tool_calls", self.tool_calls.as_ref())
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Error,
}

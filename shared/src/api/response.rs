//! `chat.completion` response body and the usage block shared with streamed chunks.

use serde::Serialize;

use super::request::ToolCall;
use super::routing::RoutingReport;

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

#[derive(Debug, Clone, Serialize, Default)]
pub struct ResponseMessage {
    pub role: &'static str,
    pub content: Option<String>,
    /// What a reasoning model (Magistral) thought before answering, kept out of `content`; the
    /// field OpenAI-compatible clients read it from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
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

/// Token counts and, where the model's price is known, what the call cost.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
}

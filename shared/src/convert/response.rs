//! Converse output → chat-completions response.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConverseOutput as Output, ReasoningContentBlock, StopReason, TokenUsage,
};

use crate::api::request::{FunctionCall, ToolCall};
use crate::api::response::{ChatCompletion, Choice, FinishReason, NoExtras, ResponseMessage};
use crate::api::usage::Usage;
use crate::bedrock::document;
use crate::catalog::Price;
use crate::cost;

/// Identity of one answer: the same `id`, `created` and `model` on every chunk of a stream.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub created: u64,
    pub model: String,
}

impl Envelope {
    pub fn new(model: impl Into<String>) -> Self {
        let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Envelope { id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()), created, model: model.into() }
    }

    /// The one-choice `chat.completion` of this answer.
    pub fn completion<F, X>(
        self,
        message: ResponseMessage,
        finish_reason: F,
        usage: Usage,
        extra: X,
    ) -> ChatCompletion<F, X> {
        ChatCompletion {
            id: self.id,
            object: "chat.completion",
            created: self.created,
            model: self.model,
            choices: vec![Choice { index: 0, message, finish_reason }],
            usage,
            routing: None,
            extra,
        }
    }
}

pub fn finish_reason(stop: &StopReason) -> FinishReason {
    match stop {
        StopReason::EndTurn | StopReason::StopSequence => FinishReason::Stop,
        StopReason::ToolUse => FinishReason::ToolCalls,
        StopReason::MaxTokens | StopReason::ModelContextWindowExceeded => FinishReason::Length,
        StopReason::GuardrailIntervened | StopReason::ContentFiltered => FinishReason::ContentFilter,
        StopReason::MalformedModelOutput | StopReason::MalformedToolUse => FinishReason::Error,
        _ => FinishReason::Stop,
    }
}

pub fn usage_from_tokens(tokens: Option<&TokenUsage>, price: Option<&Price>) -> Usage {
    let Some(t) = tokens else { return Usage::default() };
    let prompt = t.input_tokens.max(0) as u64;
    let completion = t.output_tokens.max(0) as u64;
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: (t.total_tokens.max(0) as u64).max(prompt + completion),
        cost_usd: price.map(|p| cost::usd(prompt, completion, p)),
    }
}

/// The assistant message and finish reason of a Converse answer.
pub fn message_from_converse(output: &ConverseOutput) -> (ResponseMessage, FinishReason) {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    if let Some(Output::Message(message)) = output.output() {
        for block in message.content() {
            match block {
                ContentBlock::Text(t) => text.push_str(t),
                ContentBlock::ToolUse(call) => calls.push(ToolCall {
                    id: Some(call.tool_use_id().to_owned()),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: call.name().to_owned(),
                        arguments: serde_json::Value::String(document::to_json(call.input()).to_string()),
                    },
                    index: None,
                }),
                ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(thought)) => {
                    reasoning.push_str(thought.text());
                }
                // Redacted reasoning, citations and other blocks have no chat-completions equivalent.
                _ => {}
            }
        }
    }
    let message = ResponseMessage {
        role: "assistant",
        content: if text.is_empty() && !calls.is_empty() { None } else { Some(text) },
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        tool_calls: (!calls.is_empty()).then_some(calls),
        reasoning_format: Default::default(),
    };
    (message, finish_reason(output.stop_reason()))
}

/// How many tool calls one assistant turn may carry. `parallel_tool_calls: false` asks for one;
/// Bedrock cannot be told, so the answer keeps the model's first call and drops the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolCalls {
    #[default]
    Parallel,
    One,
}

impl ToolCalls {
    /// What the request's `parallel_tool_calls` asks for (absent or `true`: no limit).
    pub fn of(parallel_tool_calls: Option<bool>) -> Self {
        if parallel_tool_calls == Some(false) { ToolCalls::One } else { ToolCalls::Parallel }
    }

    /// Applies the limit to a whole answer: with [`ToolCalls::One`], every `toolUse` block after
    /// the first is removed, so the completion, a replayed stream and a tool loop's next turn all
    /// see the same single call (Bedrock then expects exactly one `toolResult` back). Returns how
    /// many calls were dropped.
    pub fn limit(self, output: &mut ConverseOutput) -> usize {
        let (ToolCalls::One, Some(Output::Message(message))) = (self, output.output.as_mut()) else { return 0 };
        let before = message.content.len();
        let mut kept = false;
        message
            .content
            .retain(|block| !matches!(block, ContentBlock::ToolUse(_)) || !std::mem::replace(&mut kept, true));
        let dropped = before - message.content.len();
        if dropped > 0 {
            tracing::info!(dropped, "parallel_tool_calls is false: kept the first tool call of the turn");
        }
        dropped
    }
}

pub fn completion_from_converse(output: &ConverseOutput, envelope: Envelope, price: Option<&Price>) -> ChatCompletion {
    let (message, finish_reason) = message_from_converse(output);
    envelope.completion(message, finish_reason, usage_from_tokens(output.usage(), price), NoExtras {})
}

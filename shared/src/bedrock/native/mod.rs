//! Mistral's native bodies for InvokeModel and InvokeModelWithResponseStream (AWS's "Mistral AI
//! chat completion" and "Mistral AI text completion" model-parameter pages), both ways: a
//! Converse-shaped [`ModelRequest`] becomes the native JSON body, and the native answer (whole,
//! or chunk by chunk) becomes the Converse shapes the rest of the gateway reads.
//!
//! [`chat`]: `{"messages", "tools", "tool_choice", "max_tokens", "temperature", "top_p",
//! "response_format"}` answered by `choices[].message` and `stop_reason`. [`text`]: a `[INST]`
//! prompt answered by `outputs[].text`. [`chunks`] turns streamed chunks into ConverseStream
//! events.

pub mod chat;
pub mod chunks;
pub mod text;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::StopReason;
use serde_json::Value;

use super::ModelRequest;
use crate::catalog::NativeBody;
use crate::error::ApiError;

pub use chunks::ChunkTranslator;

/// The native JSON body of `request`.
pub fn body(request: &ModelRequest, kind: NativeBody) -> Result<Vec<u8>, ApiError> {
    let body = match kind {
        NativeBody::Chat => chat::body(request),
        NativeBody::Text => text::body(request),
    }?;
    serde_json::to_vec(&body).map_err(|e| ApiError::Internal(format!("cannot encode the native body ({e})")))
}

/// Token counts Bedrock sends beside a native answer (the `x-amzn-bedrock-*-token-count`
/// headers, or the stream's invocation metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: i32,
    pub output: i32,
}

/// A whole native answer as a Converse output.
pub fn answer(kind: NativeBody, body: &[u8], tokens: Option<Tokens>) -> Result<ConverseOutput, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::Upstream(format!("Bedrock's native answer is not JSON ({e}). Retry the request.")))?;
    match kind {
        NativeBody::Chat => chat::answer(&value, tokens),
        NativeBody::Text => text::answer(&value, tokens),
    }
}

/// A native `stop_reason` (or `finish_reason`) as Converse's; a guardrail intervention
/// (`amazon-bedrock-guardrailAction: INTERVENED`) wins over what the model said.
pub fn stop_reason(reason: Option<&str>, body: &Value) -> StopReason {
    if body["amazon-bedrock-guardrailAction"] == "INTERVENED" {
        return StopReason::GuardrailIntervened;
    }
    match reason {
        Some("length" | "model_length") => StopReason::MaxTokens,
        Some("tool_calls") => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

/// `max_tokens`, `temperature` and `top_p`, the sampling settings both native bodies share.
pub fn sampling(request: &ModelRequest, body: &mut serde_json::Map<String, Value>) {
    let inference = &request.inference;
    if let Some(max) = inference.max_tokens() {
        body.insert("max_tokens".into(), Value::from(max));
    }
    if let Some(t) = inference.temperature() {
        body.insert("temperature".into(), Value::from(t));
    }
    if let Some(p) = inference.top_p() {
        body.insert("top_p".into(), Value::from(p));
    }
}

/// Tokens from the invocation metrics of a native body, if it has them.
pub fn metrics(body: &Value) -> Option<Tokens> {
    let metrics = body.get("amazon-bedrock-invocationMetrics")?;
    Some(Tokens {
        input: metrics["inputTokenCount"].as_i64()? as i32,
        output: metrics["outputTokenCount"].as_i64()? as i32,
    })
}

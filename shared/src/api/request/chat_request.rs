//! The request itself: its top-level fields (`stop`, `routing`, ...) and `from_slice`/`from_value`,
//! the two ways a body becomes a [`ChatRequest`] or a 400 in the API's words.

use serde::Deserialize;
use serde_json::Value;

use super::wording::field_error;
use super::{ChatMessage, ResponseFormat, ToolChoice, ToolSpec};
use crate::api::reasoning::ReasoningFormat;
use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "a chat-completions request object {\"model\": \"...\", \"messages\": [...]}")]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default, alias = "max_completion_tokens")]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub tools: Option<Vec<ToolSpec>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub random_seed: Option<Value>,
    #[serde(default)]
    pub seed: Option<Value>,
    #[serde(default)]
    pub n: Option<i64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub safe_prompt: Option<bool>,
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// OpenAI's reasoning budget: refused by name, since Bedrock takes none for Mistral's models.
    #[serde(default)]
    pub reasoning_effort: Option<Value>,
    /// How `model: "auto"` chooses, for this request (this gateway's extension).
    #[serde(default)]
    pub routing: Option<RoutingOptions>,
    /// How the answer's reasoning is sent: the `x-reasoning-format` header, not a body field.
    #[serde(skip)]
    pub reasoning_format: ReasoningFormat,
}

/// The `routing` field: `{"policy": "cascade" | "triage" | "rules"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"policy\": \"cascade\" | \"triage\" | \"rules\"}")]
pub struct RoutingOptions {
    #[serde(default)]
    pub policy: Option<String>,
}

/// `stop`: one string or a list of them.
#[derive(Debug, Clone)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Stop;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a stop sequence (a string) or a list of them")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Stop, E> {
                Ok(Stop::One(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Stop, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Stop::Many)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
impl ChatRequest {
    /// Parses a request body, naming the offending field in the error
    /// (`messages[1].role: unknown variant ...`).
    pub fn from_slice(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("request body is empty; send a JSON chat-completions request"));
        }
        let text = std::str::from_utf8(body)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid UTF-8 ({e})")))?;
        if !text.trim_start().starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Err(ApiError::bad_request(
                "invalid request: the body must be a JSON object {\"model\": \"...\", \"messages\": [...]}",
            ));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
        de.end().map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
        Ok(parsed)
    }

    /// The same from JSON already decoded (an EventBridge event's `detail`).
    pub fn from_value(value: Value) -> Result<Self, ApiError> {
        serde_path_to_error::deserialize(value).map_err(field_error)
    }
}

//! `POST .../chat/completions` request body.
//!
//! Parsing is lenient where the SDKs differ (unknown fields are ignored, `seed` and
//! `random_seed`, `max_tokens` and `max_completion_tokens`, `developer` and `system`) and strict
//! where a wrong value would change the answer: every field Bedrock cannot honour is kept so
//! `convert` can refuse it by name instead of dropping it silently.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize)]
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
}

/// The `routing` field: `{"policy": "cascade" | "triage" | "rules"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingOptions {
    #[serde(default)]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    #[serde(alias = "developer")]
    System {
        content: Content,
    },
    User {
        content: Content,
    },
    Assistant {
        #[serde(default)]
        content: Option<Content>,
        #[serde(default)]
        tool_calls: Option<Vec<ToolCall>>,
        /// Mistral's prefix mode: the answer must continue this message.
        #[serde(default)]
        prefix: Option<bool>,
    },
    Tool {
        content: Content,
        #[serde(default)]
        tool_call_id: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
}

/// Message content: a string, or a list of typed parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ImageUrl {
    Url(String),
    Object { url: String },
}

impl ImageUrl {
    pub fn url(&self) -> &str {
        match self {
            ImageUrl::Url(u) | ImageUrl::Object { url: u } => u,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
    /// Mistral sends the position of the call; OpenAI omits it outside streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

fn function_type() -> String {
    "function".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    /// A JSON text (OpenAI) or an object (Mistral accepts both).
    #[serde(default = "empty_arguments")]
    pub arguments: Value,
}

fn empty_arguments() -> Value {
    Value::String(String::new())
}

/// An entry of `tools`: a function definition, or, on `/tools/v1` only, the name of a
/// server-side tool. A custom `Deserialize` (not `untagged`) keeps serde's precise errors for a
/// malformed function object.
#[derive(Debug, Clone)]
pub enum ToolSpec {
    Name(String),
    Function(ToolDef),
}

impl<'de> Deserialize<'de> for ToolSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ToolSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a function object {\"type\": \"function\", \"function\": {...}} or a tool name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ToolSpec, E> {
                Ok(ToolSpec::Name(name.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ToolSpec, A::Error> {
                ToolDef::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ToolSpec::Function)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl ToolSpec {
    /// The tool's name, whichever form it was given in.
    pub fn name(&self) -> &str {
        match self {
            ToolSpec::Name(name) => name,
            ToolSpec::Function(def) => &def.function.name,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolDef {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionDef,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `auto`, `none`, `any`, `required`.
    Mode(String),
    /// `{"type": "function", "function": {"name": ...}}`.
    Named { function: NamedFunction },
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedFunction {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Clone, Deserialize)]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "schema_definition")]
    pub schema: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
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

/// A deserialization error as a 400 naming the field (`messages[1].role: unknown variant ...`).
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        ApiError::bad_request(format!("request body is not valid JSON: {inner}"))
    } else if path == "." || path.is_empty() {
        ApiError::bad_request(format!("invalid request: {inner}"))
    } else {
        ApiError::invalid(path, inner.to_string())
    }
}

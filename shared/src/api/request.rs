//! `POST .../chat/completions` request body.
//!
//! Parsing is lenient where the SDKs differ (unknown fields are ignored, `seed` and
//! `random_seed`, `max_tokens` and `max_completion_tokens`, `developer` and `system`) and strict
//! where a wrong value would change the answer: every field Bedrock cannot honour is kept so
//! `convert` can refuse it by name instead of dropping it silently.
//!
//! A malformed body is the API's 400, never the parser's: it names the field by its path
//! (`messages[2].content[0].type`) and the shapes the field takes, in words. So no untagged or
//! internally tagged serde enum is used (the first hides the reason, the second the path):
//! fields that take several shapes have visitors that say which, and messages and content parts
//! are read through plain structs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// A message. Parsed through [`RawMessage`] (a plain struct, not a tagged enum) so an error
/// deep inside a message keeps its full path (`messages[2].tool_calls[0].function.name`).
#[derive(Debug, Clone)]
pub enum ChatMessage {
    System {
        content: Content,
    },
    User {
        content: Content,
    },
    Assistant {
        content: Option<Content>,
        tool_calls: Option<Vec<ToolCall>>,
        /// Mistral's prefix mode: the answer must continue this message.
        prefix: Option<bool>,
        /// Mistral's `thinking` content chunks (a reasoning model's earlier reasoning, sent
        /// back): accepted and never shown to the model, like `reasoning_content`.
        thinking: Vec<Value>,
    },
    Tool {
        content: Content,
        tool_call_id: Option<String>,
        name: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use Role::*;
        one_of(
            deserializer,
            &["system", "developer", "user", "assistant", "tool"],
            &[System, System, User, Assistant, Tool],
        )
    }
}

/// A string naming one of `names` (an enum's tag). Read as a string first: serde_json refuses a
/// number or `null` where a derived enum is expected as a syntax error, which would read as
/// "not valid JSON".
fn one_of<'de, D: serde::Deserializer<'de>, T: Copy>(
    deserializer: D,
    names: &'static [&'static str],
    values: &[T],
) -> Result<T, D::Error> {
    let name = String::deserialize(deserializer)?;
    match names.iter().position(|n| *n == name) {
        Some(i) => Ok(values[i]),
        None => Err(serde::de::Error::unknown_variant(&name, names)),
    }
}

impl<'de> Deserialize<'de> for ChatMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: RawMessage =
            object(deserializer, "a message: a JSON object such as {\"role\": \"user\", \"content\": \"...\"}")?;
        ChatMessage::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// A JSON object read as `R`. serde lets a list stand for a struct's fields in order, which
/// would turn a misplaced list into a puzzling complaint about its first element.
fn object<'de, D: serde::Deserializer<'de>, R: Deserialize<'de>>(
    deserializer: D,
    expecting: &'static str,
) -> Result<R, D::Error> {
    struct Visitor<R>(&'static str, std::marker::PhantomData<R>);
    impl<'de, R: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<R> {
        type Value = R;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<R, A::Error> {
            R::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    deserializer.deserialize_map(Visitor(expecting, std::marker::PhantomData))
}

#[derive(Deserialize)]
struct RawMessage {
    role: Role,
    #[serde(default)]
    content: Option<RawContent>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    prefix: Option<bool>,
    #[serde(default)]
    tool_call_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl TryFrom<RawMessage> for ChatMessage {
    type Error = String;

    fn try_from(raw: RawMessage) -> Result<Self, String> {
        let role = match raw.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        let mut thinking = Vec::new();
        let content = match raw.content {
            None => None,
            Some(RawContent::Text(text)) => Some(Content::Text(text)),
            Some(RawContent::Parts(raw_parts)) => {
                let mut parts = Vec::with_capacity(raw_parts.len());
                for (j, part) in raw_parts.into_iter().enumerate() {
                    match part {
                        Part::Content(part) => parts.push(part),
                        Part::Thinking(chunks) if raw.role == Role::Assistant => thinking.extend(chunks),
                        Part::Thinking(_) => {
                            return Err(format!(
                                "content[{j}] is a `thinking` part, which is only accepted in assistant messages (where it is dropped, as reasoning_content is); a {role} message takes `text` parts{}",
                                if raw.role == Role::User { " and `image_url` parts" } else { "" }
                            ));
                        }
                    }
                }
                Some(Content::Parts(parts))
            }
        };
        let required = |content: Option<Content>| {
            content.ok_or_else(|| {
                format!(
                    "missing field `content`: a {role} message needs its content, a string or a list of content parts"
                )
            })
        };
        Ok(match raw.role {
            Role::System => ChatMessage::System { content: required(content)? },
            Role::User => ChatMessage::User { content: required(content)? },
            Role::Assistant => {
                ChatMessage::Assistant { content, tool_calls: raw.tool_calls, prefix: raw.prefix, thinking }
            }
            Role::Tool => {
                ChatMessage::Tool { content: required(content)?, tool_call_id: raw.tool_call_id, name: raw.name }
            }
        })
    }
}

/// Message content: a string, or a list of typed parts.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// The content parts the model is shown.
#[derive(Debug, Clone)]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// Content as sent: `thinking` parts are still among the others.
enum RawContent {
    Text(String),
    Parts(Vec<Part>),
}

impl<'de> Deserialize<'de> for RawContent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawContent;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of content parts ({\"type\": \"text\", \"text\": \"...\"}, {\"type\": \"image_url\", \"image_url\": ...}, {\"type\": \"thinking\", \"thinking\": [...]})")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawContent, E> {
                Ok(RawContent::Text(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<RawContent, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(RawContent::Parts)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One content part as sent; read through a plain struct for the same reason as [`RawMessage`].
enum Part {
    Content(ContentPart),
    Thinking(Vec<Value>),
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: RawPart =
            object(deserializer, "a content part: a JSON object such as {\"type\": \"text\", \"text\": \"...\"}")?;
        Part::try_from(raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy)]
enum PartType {
    Text,
    ImageUrl,
    Thinking,
}

impl<'de> Deserialize<'de> for PartType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use PartType::*;
        one_of(deserializer, &["text", "image_url", "thinking"], &[Text, ImageUrl, Thinking])
    }
}

#[derive(Deserialize)]
struct RawPart {
    #[serde(rename = "type")]
    kind: PartType,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    image_url: Option<ImageUrl>,
    /// Mistral's reasoning chunks (`[{"type": "text", "text": "..."}, ...]`; text, reference
    /// and tool-reference chunks): kept as they are, since the reasoning is dropped.
    #[serde(default)]
    thinking: Option<Vec<serde_json::Map<String, Value>>>,
}

impl TryFrom<RawPart> for Part {
    type Error = String;

    fn try_from(raw: RawPart) -> Result<Self, String> {
        let missing = |field: &str, shape: &str| format!("missing field `{field}`: a `{field}` part is {shape}");
        Ok(match raw.kind {
            PartType::Text => Part::Content(ContentPart::Text {
                text: raw.text.ok_or_else(|| missing("text", "{\"type\": \"text\", \"text\": \"...\"}"))?,
            }),
            PartType::ImageUrl => Part::Content(ContentPart::ImageUrl {
                image_url: raw.image_url.ok_or_else(|| {
                    missing(
                        "image_url",
                        "{\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,...\"}}",
                    )
                })?,
            }),
            PartType::Thinking => Part::Thinking(
                raw.thinking
                    .ok_or_else(|| {
                        missing(
                            "thinking",
                            "{\"type\": \"thinking\", \"thinking\": [{\"type\": \"text\", \"text\": \"...\"}]}",
                        )
                    })?
                    .into_iter()
                    .map(Value::Object)
                    .collect(),
            ),
        })
    }
}

#[derive(Debug, Clone)]
pub enum ImageUrl {
    Url(String),
    Object { url: String },
}

impl<'de> Deserialize<'de> for ImageUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(expecting = "an object {\"url\": \"data:image/png;base64,...\"}")]
        struct Object {
            url: String,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ImageUrl;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an image URL: a string, or an object {\"url\": \"...\"}")
            }

            fn visit_str<E: serde::de::Error>(self, url: &str) -> Result<ImageUrl, E> {
                Ok(ImageUrl::Url(url.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ImageUrl, A::Error> {
                let Object { url } = Object::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ImageUrl::Object { url })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl ImageUrl {
    pub fn url(&self) -> &str {
        match self {
            ImageUrl::Url(u) | ImageUrl::Object { url: u } => u,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(
    expecting = "a tool call {\"id\": \"...\", \"type\": \"function\", \"function\": {\"name\": \"...\", \"arguments\": \"{...}\"}}"
)]
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
#[serde(expecting = "a function call {\"name\": \"...\", \"arguments\": \"{...}\"}")]
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
#[serde(
    expecting = "a function object {\"type\": \"function\", \"function\": {\"name\": \"...\", \"parameters\": {...}}}"
)]
pub struct ToolDef {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "a function definition {\"name\": \"...\", \"description\": \"...\", \"parameters\": {...}}")]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum ToolChoice {
    /// `auto`, `none`, `any`, `required`.
    Mode(String),
    /// `{"type": "function", "function": {"name": ...}}`.
    Named { function: NamedFunction },
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(expecting = "a named tool choice {\"type\": \"function\", \"function\": {\"name\": \"...\"}}")]
        struct Named {
            function: NamedFunction,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ToolChoice;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"auto\", \"none\", \"any\", \"required\", or {\"type\": \"function\", \"function\": {\"name\": \"...\"}}")
            }

            fn visit_str<E: serde::de::Error>(self, mode: &str) -> Result<ToolChoice, E> {
                Ok(ToolChoice::Mode(mode.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ToolChoice, A::Error> {
                let Named { function } = Named::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ToolChoice::Named { function })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "an object {\"name\": \"...\"}")]
pub struct NamedFunction {
    pub name: String,
}

/// `response_format`, parsed through a plain struct so errors keep their path.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawResponseFormat")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Clone, Copy)]
enum FormatType {
    Text,
    JsonObject,
    JsonSchema,
}

impl<'de> Deserialize<'de> for FormatType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use FormatType::*;
        one_of(deserializer, &["text", "json_object", "json_schema"], &[Text, JsonObject, JsonSchema])
    }
}

#[derive(Deserialize)]
#[serde(expecting = "an object {\"type\": \"text\" | \"json_object\" | \"json_schema\", ...}")]
struct RawResponseFormat {
    #[serde(rename = "type")]
    kind: FormatType,
    #[serde(default)]
    json_schema: Option<JsonSchemaFormat>,
}

impl TryFrom<RawResponseFormat> for ResponseFormat {
    type Error = &'static str;

    fn try_from(raw: RawResponseFormat) -> Result<Self, Self::Error> {
        Ok(match (raw.kind, raw.json_schema) {
            (FormatType::Text, _) => ResponseFormat::Text,
            (FormatType::JsonObject, _) => ResponseFormat::JsonObject,
            (FormatType::JsonSchema, Some(json_schema)) => ResponseFormat::JsonSchema { json_schema },
            (FormatType::JsonSchema, None) => {
                return Err(
                    "missing field `json_schema`: {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"...\", \"schema\": {...}}}",
                );
            }
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "an object {\"name\": \"...\", \"schema\": {...}}")]
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

/// A deserialization error as a 400 naming the field (`messages[1].role: unknown variant ...`),
/// in the API's words: serde's names for Rust types become JSON's, and the position in the
/// body is left out (the path already says where).
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request(format!("request body is not valid JSON: {inner}"));
    }
    let message = in_words(&inner);
    if path == "." || path.is_empty() {
        ApiError::bad_request(format!("invalid request: {message}"))
    } else {
        ApiError::invalid(path, message)
    }
}

fn in_words(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let text = text.strip_suffix(&position).unwrap_or(&text);
    // serde lets a list stand for a struct's fields in order; its complaint about the length
    // would only mislead.
    if text.starts_with("invalid length")
        && let Some((_, expected)) = text.split_once(", expected ")
    {
        let expected = expected.rsplit_once(" with ").map_or(expected, |(shape, _)| shape);
        return format!("expected {expected}, not a list");
    }
    const WORDS: &[(&str, &str)] = &[
        ("expected f64", "expected a number"),
        ("expected i64", "expected an integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        ("invalid type: map", "invalid type: object"),
        ("invalid type: sequence", "invalid type: list"),
        ("invalid type: unit value", "invalid type: null"),
        ("invalid type: floating point", "invalid type: number"),
    ];
    WORDS.iter().fold(text.to_owned(), |text, (rust, json)| text.replace(rust, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field each malformed body is refused at, and words its message must hold: the
    /// accepted shapes, never a Rust type or serde's enum vocabulary.
    #[test]
    fn malformed_bodies_name_the_field_and_the_accepted_shapes() {
        let cases: &[(&str, Option<&str>, &[&str])] = &[
            (r#"[]"#, None, &["must be a JSON object"]),
            (r#""hi""#, None, &["must be a JSON object"]),
            (r#"{"model": "x"}"#, None, &["missing field `messages`"]),
            (r#"{"messages": {}}"#, Some("messages"), &["expected a list"]),
            (r#"{"messages": ["hi"]}"#, Some("messages[0]"), &["a message: a JSON object such as"]),
            (r#"{"messages": [[{"role": "user"}]]}"#, Some("messages[0]"), &["invalid type: list, expected a message"]),
            (r#"{"messages": [{"content": "x"}]}"#, Some("messages[0]"), &["missing field `role`"]),
            (
                r#"{"messages": [{"role": "bot", "content": "x"}]}"#,
                Some("messages[0].role"),
                &["`bot`", "`user`", "`assistant`"],
            ),
            (
                r#"{"messages": [{"role": "user"}]}"#,
                Some("messages[0]"),
                &["missing field `content`", "a string or a list of content parts"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": 5}]}"#,
                Some("messages[0].content"),
                &["a string or a list of content parts", "\"type\": \"text\""],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [5]}]}"#,
                Some("messages[0].content[0]"),
                &["a content part: a JSON object such as"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [["text"]]}]}"#,
                Some("messages[0].content[0]"),
                &["invalid type: list, expected a content part"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}"#,
                Some("messages[0].content[0].text"),
                &["expected a string"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [{"type": "text"}]}]}"#,
                Some("messages[0].content[0]"),
                &["missing field `text`"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [{"type": "audio"}]}]}"#,
                Some("messages[0].content[0].type"),
                &["`audio`", "`text`", "`image_url`", "`thinking`"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": 5}]}]}"#,
                Some("messages[0].content[0].image_url"),
                &["an image URL: a string, or an object"],
            ),
            (
                r#"{"messages": [{"role": "user", "content": [{"type": "thinking", "thinking": []}]}]}"#,
                Some("messages[0]"),
                &["content[0]", "only accepted in assistant messages"],
            ),
            (
                r#"{"messages": [{"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}]}]}"#,
                Some("messages[0].content[0].thinking"),
                &["expected a list"],
            ),
            (
                r#"{"messages": [{"role": "assistant", "content": [{"type": "thinking"}]}]}"#,
                Some("messages[0].content[0]"),
                &["missing field `thinking`", "\"thinking\": [{\"type\": \"text\""],
            ),
            (
                r#"{"messages": [{"role": "assistant", "tool_calls": {}}]}"#,
                Some("messages[0].tool_calls"),
                &["expected a list"],
            ),
            (
                r#"{"messages": [{"role": "assistant", "tool_calls": [5]}]}"#,
                Some("messages[0].tool_calls[0]"),
                &["a tool call {"],
            ),
            (
                r#"{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": 5}}]}]}"#,
                Some("messages[0].tool_calls[0].function.name"),
                &["expected a string"],
            ),
            (
                r#"{"messages": [{"role": "assistant", "tool_calls": [{"id": "a"}]}]}"#,
                Some("messages[0].tool_calls[0]"),
                &["missing field `function`"],
            ),
            (
                r#"{"messages": [{"role": "tool", "content": "x", "tool_call_id": 7}]}"#,
                Some("messages[0].tool_call_id"),
                &["expected a string"],
            ),
            (r#"{"messages": [], "temperature": "hot"}"#, Some("temperature"), &["expected a number"]),
            (r#"{"messages": [], "max_tokens": 1.5}"#, Some("max_tokens"), &["expected an integer"]),
            (r#"{"messages": [], "stream": "yes"}"#, Some("stream"), &["expected a boolean"]),
            (r#"{"messages": [], "stop": 5}"#, Some("stop"), &["a stop sequence (a string) or a list of them"]),
            (r#"{"messages": [], "stop": ["a", 5]}"#, Some("stop[1]"), &["expected a string"]),
            (r#"{"messages": [], "tools": {}}"#, Some("tools"), &["expected a list"]),
            (r#"{"messages": [], "tools": [5]}"#, Some("tools[0]"), &["a function object"]),
            (
                r#"{"messages": [], "tools": [{"type": "function", "function": "f"}]}"#,
                Some("tools[0].function"),
                &["a function definition {"],
            ),
            (
                r#"{"messages": [], "tools": [{"type": "function", "function": []}]}"#,
                Some("tools[0].function"),
                &["expected a function definition {", "not a list"],
            ),
            (
                r#"{"messages": [], "tool_choice": 5}"#,
                Some("tool_choice"),
                &["\"auto\", \"none\", \"any\", \"required\", or {"],
            ),
            (
                r#"{"messages": [], "tool_choice": {"type": "function"}}"#,
                Some("tool_choice"),
                &["missing field `function`"],
            ),
            (
                r#"{"messages": [], "tool_choice": {"function": {"name": 1}}}"#,
                Some("tool_choice.function.name"),
                &["expected a string"],
            ),
            (
                r#"{"messages": [], "response_format": "json"}"#,
                Some("response_format"),
                &["an object {\"type\": \"text\" | \"json_object\" | \"json_schema\""],
            ),
            (
                r#"{"messages": [], "response_format": {"type": "xml"}}"#,
                Some("response_format.type"),
                &["`xml`", "`json_schema`"],
            ),
            (
                r#"{"messages": [], "response_format": {"type": "json_schema"}}"#,
                Some("response_format"),
                &["missing field `json_schema`", "\"schema\""],
            ),
            (
                r#"{"messages": [], "response_format": {"type": "json_schema", "json_schema": {"name": 5}}}"#,
                Some("response_format.json_schema.name"),
                &["expected a string"],
            ),
            (r#"{"messages": [], "routing": {"policy": 1}}"#, Some("routing.policy"), &["expected a string"]),
            (r#"{"messages": [], "routing": "cascade"}"#, Some("routing"), &["an object {\"policy\""]),
        ];
        for (body, param, words) in cases {
            let error = ChatRequest::from_slice(body.as_bytes()).expect_err(body);
            let ApiError::BadRequest { message, param: got } = &error else {
                panic!("{body}: expected a 400, got {error:?}");
            };
            assert_eq!(got.as_deref(), *param, "{body}: {message}");
            for word in *words {
                assert!(message.contains(word), "{body}: `{message}` lacks `{word}`");
            }
            for rust in [
                "f64",
                "i64",
                "u32",
                "struct ",
                "untagged",
                "internally tagged",
                "a sequence",
                "type: sequence",
                " map",
                "line 1 column",
            ] {
                assert!(!message.contains(rust), "{body}: `{message}` speaks of `{rust}`");
            }
        }
    }

    #[test]
    fn thinking_chunks_of_assistant_messages_are_kept_apart_from_the_content() {
        let body = r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think."}, {"type": "reference", "reference_ids": [1]}], "closed": true},
            {"type": "text", "text": "Hello."}]}]}"#;
        let request = ChatRequest::from_slice(body.as_bytes()).unwrap();
        let ChatMessage::Assistant { content: Some(Content::Parts(parts)), thinking, .. } = &request.messages[1] else {
            panic!("{:?}", request.messages[1]);
        };
        assert!(matches!(parts.as_slice(), [ContentPart::Text { text }] if text == "Hello."));
        assert_eq!(thinking.len(), 2);
        assert_eq!(thinking[0]["text"], "Let me think.");
    }
}

//! Chat-completions request → Converse input.
//!
//! Everything Bedrock would reject, and everything the chosen model cannot do, is refused here
//! with a 400 that names the field, before any Bedrock call: the caller learns what to change,
//! and a bad request costs no tokens. Nothing a caller sends is silently dropped.

use std::collections::HashSet;

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, ContentBlock, ConversationRole, ImageBlock, ImageFormat, ImageSource,
    InferenceConfiguration, JsonSchemaDefinition, Message, OutputConfig, OutputFormat, OutputFormatStructure,
    OutputFormatType, SpecificToolChoice, SystemContentBlock, Tool, ToolChoice as BedrockToolChoice, ToolConfiguration,
    ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::Blob;
use base64::Engine;
use serde_json::{Value, json};

use super::document::to_document;
use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart, ResponseFormat, ToolChoice, ToolDef};
use crate::bedrock::ConverseRequest;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

/// Bedrock's limit on stop sequences for Mistral models.
const MAX_STOP_SEQUENCES: usize = 10;
/// Bedrock's tool-name rule: `[a-zA-Z0-9_-]{1,64}`.
const MAX_TOOL_NAME: usize = 64;
/// Instruction used for `json_object` on models without native structured output (the emulator
/// recognises it as a JSON request).
pub const JSON_OBJECT_INSTRUCTION: &str = "Reply with a single valid JSON object and nothing else.";

/// A request ready for Bedrock, plus what the route needs to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub converse: ConverseRequest,
    pub stream: bool,
}

/// Validates `req` for `model` and builds the Converse input.
pub fn prepare(req: &ChatRequest, model: &AllowedModel, config: &Config) -> Result<Prepared, ApiError> {
    refuse_unsupported_fields(req)?;
    let inference = inference_config(req, config)?;
    let tools = tool_config(req.tools.as_deref(), req.tool_choice.as_ref(), model)?;
    let Conversation { mut system, messages, has_tool_blocks } = conversation(&req.messages, model, config)?;

    let tool_config = match tools {
        ToolPlan::Send(config) => Some(config),
        ToolPlan::Omit if has_tool_blocks => {
            return Err(ApiError::invalid(
                "tools",
                "the conversation holds tool calls, so Bedrock needs the tool definitions: send `tools` with every request of a tool conversation (and not tool_choice \"none\")",
            ));
        }
        ToolPlan::Omit => None,
    };

    let output_config = match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) if model.capabilities.json_schema => {
            Some(json_schema_output("json_object", None, &json!({"type": "object"}))?)
        }
        Some(ResponseFormat::JsonObject) if model.capabilities.system_prompt => {
            // No native JSON mode on this model: ask for it in the system prompt (documented as
            // best effort in README), rather than pretending to enforce it.
            system.push(SystemContentBlock::Text(JSON_OBJECT_INSTRUCTION.into()));
            None
        }
        Some(ResponseFormat::JsonObject) => {
            return Err(ApiError::unsupported(
                "response_format",
                format!(
                    "{} supports neither structured output nor a system prompt on Bedrock, so JSON mode cannot be honoured; choose another model",
                    model.id
                ),
            ));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let Some(schema) = json_schema.schema.as_ref().filter(|s| s.is_object()) else {
                return Err(ApiError::invalid(
                    "response_format.json_schema.schema",
                    "a JSON schema object is required",
                ));
            };
            if !model.capabilities.json_schema {
                return Err(ApiError::unsupported(
                    "response_format",
                    format!(
                        "{} has no native JSON-schema output on Bedrock; use a model that has (see GET /v1/models, `json_schema`), or response_format json_object",
                        model.id
                    ),
                ));
            }
            let name = json_schema.name.as_deref().unwrap_or("response");
            Some(json_schema_output(name, json_schema.description.clone(), schema)?)
        }
    };

    Ok(Prepared {
        converse: ConverseRequest {
            model_id: model.id.clone(),
            messages,
            system,
            inference,
            tool_config,
            output_config,
        },
        stream: req.stream.unwrap_or(false),
    })
}

fn refuse_unsupported_fields(req: &ChatRequest) -> Result<(), ApiError> {
    for (field, value) in [("random_seed", &req.random_seed), ("seed", &req.seed)] {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::unsupported(
                field,
                "Bedrock's Converse API offers no sampling seed for Mistral models, so a seeded (repeatable) answer cannot be honoured; remove the field, and use temperature 0 for the most stable answers",
            ));
        }
    }
    if let Some(n) = req.n
        && n != 1
    {
        return Err(ApiError::unsupported("n", "only one choice per request is supported (n = 1)"));
    }
    for (field, value) in [("presence_penalty", req.presence_penalty), ("frequency_penalty", req.frequency_penalty)] {
        if value.is_some_and(|v| v != 0.0) {
            return Err(ApiError::unsupported(
                field,
                "Bedrock's Converse API has no penalty parameters; remove it or set it to 0",
            ));
        }
    }
    if req.safe_prompt == Some(true) {
        return Err(ApiError::unsupported(
            "safe_prompt",
            "Mistral's safety prompt is not available on Bedrock; use a Bedrock guardrail or your own system prompt",
        ));
    }
    if req.logprobs == Some(true) {
        return Err(ApiError::unsupported("logprobs", "Bedrock does not return log probabilities"));
    }
    if req.parallel_tool_calls == Some(false) {
        return Err(ApiError::unsupported(
            "parallel_tool_calls",
            "Bedrock cannot stop a model from calling several tools in one turn; remove the field",
        ));
    }
    Ok(())
}

fn inference_config(req: &ChatRequest, config: &Config) -> Result<InferenceConfiguration, ApiError> {
    let mut inference = InferenceConfiguration::builder();
    if let Some(t) = req.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(ApiError::invalid(
                "temperature",
                format!("{t} is outside 0..=1, the range Bedrock accepts for Mistral models"),
            ));
        }
        inference = inference.temperature(t as f32);
    }
    if let Some(p) = req.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(ApiError::invalid("top_p", format!("{p} is outside (0, 1]")));
        }
        inference = inference.top_p(p as f32);
    }
    if let Some(max) = req.max_tokens {
        if max < 1 {
            return Err(ApiError::invalid("max_tokens", format!("{max} is not a positive number of tokens")));
        }
        let limit = config.max_output_tokens.map_or(i32::MAX as i64, i64::from);
        if max > limit {
            return Err(ApiError::invalid("max_tokens", format!("{max} is above this deployment's limit of {limit}")));
        }
        inference = inference.max_tokens(max as i32);
    }
    if let Some(stop) = req.stop.clone() {
        let stop = stop.into_vec();
        if stop.len() > MAX_STOP_SEQUENCES {
            return Err(ApiError::invalid(
                "stop",
                format!("{} stop sequences given; Bedrock accepts at most {MAX_STOP_SEQUENCES}", stop.len()),
            ));
        }
        if stop.iter().any(String::is_empty) {
            return Err(ApiError::invalid("stop", "stop sequences must not be empty"));
        }
        inference = inference.set_stop_sequences((!stop.is_empty()).then_some(stop));
    }
    Ok(inference.build())
}

enum ToolPlan {
    Send(ToolConfiguration),
    Omit,
}

fn tool_config(
    tools: Option<&[ToolDef]>,
    choice: Option<&ToolChoice>,
    model: &AllowedModel,
) -> Result<ToolPlan, ApiError> {
    let tools = tools.unwrap_or_default();
    let mode = match choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" | "none" | "any" | "required" => Some(mode.as_str()),
            other => {
                return Err(ApiError::invalid(
                    "tool_choice",
                    format!(
                        "`{other}` is not one of auto, none, any, required, or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}"
                    ),
                ));
            }
        },
        Some(ToolChoice::Named { .. }) => None,
    };
    if tools.is_empty() {
        return match (choice, mode) {
            (None, _) | (_, Some("auto" | "none")) => Ok(ToolPlan::Omit),
            _ => Err(ApiError::invalid("tool_choice", "forces a tool call, but no `tools` were given")),
        };
    }
    if mode == Some("none") {
        return Ok(ToolPlan::Omit);
    }
    if !model.capabilities.tools {
        return Err(ApiError::unsupported(
            "tools",
            format!(
                "{} does not support tool use on Bedrock; choose a model that does (see GET /v1/models, `function_calling`)",
                model.id
            ),
        ));
    }

    let mut names = HashSet::new();
    let mut specs = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        if tool.kind != "function" {
            return Err(ApiError::invalid(
                format!("tools[{i}].type"),
                format!("`{}` is not supported; only `function` tools are", tool.kind),
            ));
        }
        let f = &tool.function;
        if !valid_tool_name(&f.name) {
            return Err(ApiError::invalid(
                format!("tools[{i}].function.name"),
                format!("`{}` must be 1 to {MAX_TOOL_NAME} letters, digits, `_` or `-`", f.name),
            ));
        }
        if !names.insert(f.name.as_str()) {
            return Err(ApiError::invalid(
                format!("tools[{i}].function.name"),
                format!("`{}` is defined twice", f.name),
            ));
        }
        let schema = match &f.parameters {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(schema @ Value::Object(_)) => schema.clone(),
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("tools[{i}].function.parameters"),
                    "must be a JSON schema object",
                ));
            }
        };
        let spec = ToolSpecification::builder()
            .name(&f.name)
            .set_description(f.description.clone().filter(|d| !d.trim().is_empty()))
            .input_schema(ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map_err(internal)?;
        specs.push(Tool::ToolSpec(spec));
    }

    let bedrock_choice = match (choice, mode) {
        (Some(ToolChoice::Named { function }), _) => {
            if !names.contains(function.name.as_str()) {
                return Err(ApiError::invalid(
                    "tool_choice.function.name",
                    format!("`{}` is not among `tools`", function.name),
                ));
            }
            BedrockToolChoice::Tool(SpecificToolChoice::builder().name(&function.name).build().map_err(internal)?)
        }
        (_, Some("any" | "required")) => BedrockToolChoice::Any(AnyToolChoice::builder().build()),
        _ => BedrockToolChoice::Auto(AutoToolChoice::builder().build()),
    };
    let config =
        ToolConfiguration::builder().set_tools(Some(specs)).tool_choice(bedrock_choice).build().map_err(internal)?;
    Ok(ToolPlan::Send(config))
}

fn valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

struct Conversation {
    system: Vec<SystemContentBlock>,
    messages: Vec<Message>,
    has_tool_blocks: bool,
}

/// Tool calls of the last assistant message that no `tool` message has answered yet.
struct OpenCalls {
    /// (id, where it was made) in call order.
    calls: Vec<(String, String)>,
}

fn conversation(messages: &[ChatMessage], model: &AllowedModel, config: &Config) -> Result<Conversation, ApiError> {
    if messages.is_empty() {
        return Err(ApiError::invalid("messages", "must hold at least one message"));
    }
    if messages.len() > config.max_messages {
        return Err(ApiError::invalid(
            "messages",
            format!("{} messages exceed this deployment's limit of {}", messages.len(), config.max_messages),
        ));
    }
    let mut system = Vec::new();
    let mut turns: Vec<(ConversationRole, Vec<ContentBlock>)> = Vec::new();
    let mut open = OpenCalls { calls: Vec::new() };
    let mut has_tool_blocks = false;

    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        if !matches!(message, ChatMessage::Tool { .. }) {
            open.require_answered(&at)?;
        }
        match message {
            ChatMessage::System { content } => {
                if !model.capabilities.system_prompt {
                    return Err(ApiError::unsupported(
                        format!("{at}.role"),
                        format!(
                            "{} does not accept system prompts on Bedrock; put the instructions in the first user message or choose another model",
                            model.id
                        ),
                    ));
                }
                system.push(SystemContentBlock::Text(plain_text(content, &at)?));
            }
            ChatMessage::User { content } => {
                let blocks = user_blocks(content, &at, model)?;
                push_turn(&mut turns, ConversationRole::User, blocks);
            }
            ChatMessage::Assistant { content, tool_calls, prefix } => {
                if prefix == &Some(true) && i + 1 != messages.len() {
                    return Err(ApiError::invalid(format!("{at}.prefix"), "only the last message may be a prefix"));
                }
                let mut blocks = Vec::new();
                if let Some(content) = content {
                    let text = plain_text_allow_empty(content, &at)?;
                    if !text.trim().is_empty() {
                        blocks.push(ContentBlock::Text(text));
                    }
                }
                for (j, call) in tool_calls.iter().flatten().enumerate() {
                    let where_ = format!("{at}.tool_calls[{j}]");
                    let id = call.id.clone().filter(|id| !id.is_empty()).ok_or_else(|| {
                        ApiError::invalid(format!("{where_}.id"), "is required, so the tool message can refer to it")
                    })?;
                    if open.calls.iter().any(|(seen, _)| *seen == id) {
                        return Err(ApiError::invalid(format!("{where_}.id"), format!("`{id}` is used twice")));
                    }
                    let input = parse_arguments(&call.function.arguments, &where_)?;
                    blocks.push(ContentBlock::ToolUse(
                        ToolUseBlock::builder()
                            .tool_use_id(&id)
                            .name(&call.function.name)
                            .input(to_document(&input))
                            .build()
                            .map_err(internal)?,
                    ));
                    open.calls.push((id, where_));
                    has_tool_blocks = true;
                }
                if blocks.is_empty() {
                    return Err(ApiError::invalid(at, "an assistant message needs content or tool_calls"));
                }
                push_turn(&mut turns, ConversationRole::Assistant, blocks);
            }
            ChatMessage::Tool { content, tool_call_id, .. } => {
                let id = tool_call_id.as_deref().filter(|id| !id.is_empty()).ok_or_else(|| {
                    ApiError::invalid(
                        format!("{at}.tool_call_id"),
                        "is required: the id of the tool call this message answers",
                    )
                })?;
                open.answer(id, &at)?;
                let mut text = plain_text_allow_empty(content, &at)?;
                if text.trim().is_empty() {
                    // Bedrock rejects blank text blocks; an empty tool output is still an answer.
                    text = "(empty result)".into();
                }
                let result = ToolResultBlock::builder()
                    .tool_use_id(id)
                    .content(ToolResultContentBlock::Text(text))
                    .build()
                    .map_err(internal)?;
                push_turn(&mut turns, ConversationRole::User, vec![ContentBlock::ToolResult(result)]);
                has_tool_blocks = true;
            }
        }
    }
    open.require_answered("messages")?;

    match turns.first() {
        None => return Err(ApiError::invalid("messages", "at least one user message is required")),
        Some((ConversationRole::User, _)) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "messages",
                "the conversation must start with a user message (system messages aside); Bedrock refuses one that starts with the assistant",
            ));
        }
    }
    let messages = turns
        .into_iter()
        .map(|(role, content)| Message::builder().role(role).set_content(Some(content)).build().map_err(internal))
        .collect::<Result<_, _>>()?;
    Ok(Conversation { system, messages, has_tool_blocks })
}

impl OpenCalls {
    fn answer(&mut self, id: &str, at: &str) -> Result<(), ApiError> {
        match self.calls.iter().position(|(open, _)| open == id) {
            Some(k) => {
                self.calls.remove(k);
                Ok(())
            }
            None => Err(ApiError::invalid(
                format!("{at}.tool_call_id"),
                format!("`{id}` does not match an unanswered tool call of the preceding assistant message"),
            )),
        }
    }

    fn require_answered(&mut self, at: &str) -> Result<(), ApiError> {
        match self.calls.first() {
            None => Ok(()),
            Some((id, made_at)) => Err(ApiError::invalid(
                at,
                format!(
                    "tool call `{id}` ({made_at}) has no tool message answering it; add one with tool_call_id `{id}` right after the assistant message"
                ),
            )),
        }
    }
}

/// Consecutive messages of one role become one Converse turn (Bedrock requires alternation).
fn push_turn(
    turns: &mut Vec<(ConversationRole, Vec<ContentBlock>)>,
    role: ConversationRole,
    blocks: Vec<ContentBlock>,
) {
    match turns.last_mut() {
        Some((last, content)) if *last == role => content.extend(blocks),
        _ => turns.push((role, blocks)),
    }
}

fn plain_text_allow_empty(content: &Content, at: &str) -> Result<String, ApiError> {
    match content {
        Content::Text(text) => Ok(text.clone()),
        Content::Parts(parts) => {
            let mut out = String::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text } => out.push_str(text),
                    ContentPart::ImageUrl { .. } => {
                        return Err(ApiError::invalid(
                            format!("{at}.content[{j}]"),
                            "images are only accepted in user messages",
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

fn plain_text(content: &Content, at: &str) -> Result<String, ApiError> {
    let text = plain_text_allow_empty(content, at)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid(format!("{at}.content"), "must not be empty"));
    }
    Ok(text)
}

fn user_blocks(content: &Content, at: &str, model: &AllowedModel) -> Result<Vec<ContentBlock>, ApiError> {
    let parts: Vec<(usize, &ContentPart)> = match content {
        Content::Text(text) if text.trim().is_empty() => {
            return Err(ApiError::invalid(format!("{at}.content"), "must not be empty"));
        }
        Content::Text(text) => return Ok(vec![ContentBlock::Text(text.clone())]),
        Content::Parts(parts) => parts.iter().enumerate().collect(),
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts {
        match part {
            ContentPart::Text { text } if text.trim().is_empty() => {}
            ContentPart::Text { text } => blocks.push(ContentBlock::Text(text.clone())),
            ContentPart::ImageUrl { image_url } => {
                let where_ = format!("{at}.content[{j}]");
                if !model.capabilities.images {
                    return Err(ApiError::unsupported(
                        where_,
                        format!(
                            "{} does not accept images on Bedrock; use a vision model such as Pixtral Large",
                            model.id
                        ),
                    ));
                }
                blocks.push(ContentBlock::Image(image_block(image_url.url(), &where_)?));
            }
        }
    }
    if blocks.is_empty() {
        return Err(ApiError::invalid(format!("{at}.content"), "must not be empty"));
    }
    Ok(blocks)
}

/// Images must be inline `data:` URLs: Bedrock takes bytes, and fetching caller-given URLs from
/// inside the function would be a server-side request forgery hole.
fn image_block(url: &str, at: &str) -> Result<ImageBlock, ApiError> {
    let refuse = |why: &str| ApiError::invalid(format!("{at}.image_url"), why.to_owned());
    let rest = url.strip_prefix("data:").ok_or_else(|| {
        refuse("only inline `data:image/...;base64,...` URLs are accepted; this service does not fetch remote images")
    })?;
    let (meta, data) = rest.split_once(',').ok_or_else(|| refuse("is not a valid data URL"))?;
    let mime = meta.strip_suffix(";base64").ok_or_else(|| refuse("must be base64-encoded (`;base64,`)"))?;
    let format = match mime {
        "image/png" => ImageFormat::Png,
        "image/jpeg" | "image/jpg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::Webp,
        other => return Err(refuse(&format!("`{other}` is not one of image/png, image/jpeg, image/gif, image/webp"))),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| refuse(&format!("is not valid base64 ({e})")))?;
    ImageBlock::builder().format(format).source(ImageSource::Bytes(Blob::new(bytes))).build().map_err(internal)
}

/// Tool-call arguments: a JSON text (OpenAI; `""` means no arguments) or an object (Mistral).
pub fn parse_arguments(arguments: &Value, at: &str) -> Result<Value, ApiError> {
    let value = match arguments {
        Value::String(text) if text.trim().is_empty() => return Ok(json!({})),
        Value::String(text) => serde_json::from_str(text)
            .map_err(|e| ApiError::invalid(format!("{at}.function.arguments"), format!("is not valid JSON ({e})")))?,
        Value::Null => return Ok(json!({})),
        other => other.clone(),
    };
    if !value.is_object() {
        return Err(ApiError::invalid(format!("{at}.function.arguments"), "must be a JSON object"));
    }
    Ok(value)
}

fn json_schema_output(name: &str, description: Option<String>, schema: &Value) -> Result<OutputConfig, ApiError> {
    let definition = JsonSchemaDefinition::builder()
        .schema(schema.to_string())
        .name(name)
        .set_description(description)
        .build()
        .map_err(internal)?;
    let format = OutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(definition))
        .build()
        .map_err(internal)?;
    Ok(OutputConfig::builder().text_format(format).build())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("could not build the Bedrock request: {e}"))
}

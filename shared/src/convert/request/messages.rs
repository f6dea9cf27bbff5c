//! `messages` → Converse `system` and alternating user/assistant turns, with every tool call
//! answered and every image inline.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ImageBlock, ImageFormat, ImageSource, Message, SystemContentBlock, ToolResultBlock,
    ToolResultContentBlock, ToolUseBlock,
};
use aws_smithy_types::Blob;
use base64::Engine;
use serde_json::{Value, json};

use super::internal;
use crate::api::request::{ChatMessage, Content, ContentPart};
use crate::bedrock::document::to_document;
use crate::config::Config;
use crate::error::ApiError;

pub(super) struct Turns {
    pub system: Vec<SystemContentBlock>,
    pub messages: Vec<Message>,
    pub has_tool_blocks: bool,
    /// Where the first system message is, when there is one (the models that take none say so).
    pub system_at: Option<String>,
    /// Where the first image is, when there is one.
    pub image_at: Option<String>,
}

/// Tool calls of the last assistant message (or run of them) that no `tool` message has
/// answered yet.
struct OpenCalls {
    /// (id, where it was made) in call order.
    calls: Vec<(String, String)>,
    /// The previous message was an assistant message that made tool calls, so the next one may
    /// add to them (parallel calls sent one assistant message per call, as older Codex releases
    /// do): Bedrock gets one assistant turn with every call, then one turn with every result.
    calling: bool,
}

pub(super) fn turns(messages: &[ChatMessage], config: &Config) -> Result<Turns, ApiError> {
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
    let mut open = OpenCalls { calls: Vec::new(), calling: false };
    let mut has_tool_blocks = false;
    let mut system_at = None;
    let mut image_at = None;

    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let adds_calls = open.calling && is_more_calls(message);
        if !matches!(message, ChatMessage::Tool { .. }) && !adds_calls {
            open.require_answered(&at)?;
        }
        open.calling = matches!(message, ChatMessage::Assistant { tool_calls: Some(calls), .. } if !calls.is_empty());
        match message {
            ChatMessage::System { content } => {
                system_at.get_or_insert_with(|| format!("{at}.role"));
                system.push(SystemContentBlock::Text(plain_text(content, &at)?));
            }
            ChatMessage::User { content } => {
                let blocks = user_blocks(content, &at, &mut image_at)?;
                push_turn(&mut turns, ConversationRole::User, blocks);
            }
            // `thinking` chunks are a reasoning model's earlier reasoning: like
            // `reasoning_content`, it stays out of the conversation the model sees.
            ChatMessage::Assistant { content, tool_calls, prefix, thinking: _ } => {
                if prefix == &Some(true) && i + 1 != messages.len() {
                    return Err(ApiError::invalid(format!("{at}.prefix"), "only the last message may be a prefix"));
                }
                let mut blocks = Vec::new();
                if let Some(content) = content {
                    let text = plain_text_allow_empty(content, &at)?;
                    if !text.trim().is_empty() {
                        if adds_calls {
                            // Text between the calls of one turn has no place Bedrock would keep it.
                            return Err(ApiError::invalid(
                                format!("{at}.content"),
                                "an assistant message that adds tool calls to the previous one (parallel calls sent one message per call) must have no text; put the text in the first of them, or send the calls in one message",
                            ));
                        }
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
    Ok(Turns { system, messages, has_tool_blocks, system_at, image_at })
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
                format!("`{id}` does not match an unanswered tool call of the preceding assistant message(s)"),
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

/// An assistant message that makes tool calls: right after another one, its calls join the same
/// turn.
fn is_more_calls(message: &ChatMessage) -> bool {
    matches!(message, ChatMessage::Assistant { tool_calls: Some(calls), prefix, .. } if !calls.is_empty() && prefix != &Some(true))
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

fn user_blocks(content: &Content, at: &str, image_at: &mut Option<String>) -> Result<Vec<ContentBlock>, ApiError> {
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
                image_at.get_or_insert_with(|| where_.clone());
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

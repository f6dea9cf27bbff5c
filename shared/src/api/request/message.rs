//! Messages: the four roles, read through a plain struct so an error keeps its path, with an
//! assistant's Mistral `thinking` chunks set apart from its content.

use serde::Deserialize;
use serde_json::Value;

use super::content::{Part, RawContent};
use super::wording::{object, one_of};
use super::{Content, ToolCall};

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
impl<'de> Deserialize<'de> for ChatMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: RawMessage =
            object(deserializer, "a message: a JSON object such as {\"role\": \"user\", \"content\": \"...\"}")?;
        ChatMessage::try_from(raw).map_err(serde::de::Error::custom)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::{ChatRequest, ContentPart};

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

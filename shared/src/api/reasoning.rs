//! How an answer's reasoning is sent: in `reasoning_content` (the field OpenAI-compatible clients
//! read, the default), or as Mistral's API sends a Magistral answer's reasoning, a `thinking`
//! chunk leading the message's `content` list, for Mistral's own clients that read it there
//! (asked for with the request header [`REASONING_FORMAT_HEADER`]`: mistral`).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

/// The request header that chooses the format.
pub const REASONING_FORMAT_HEADER: &str = "x-reasoning-format";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReasoningFormat {
    /// `reasoning_content` beside a string `content`.
    #[default]
    Field,
    /// `content: [{"type": "thinking", "thinking": [{"type": "text", "text": ...}]}, {"type": "text", ...}]`.
    ThinkingChunks,
}

impl ReasoningFormat {
    /// The format a header value asks for: `mistral` (or `thinking`) for thinking chunks,
    /// anything else (`openai`, absent) for the field.
    pub fn from_header(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("mistral") || v.eq_ignore_ascii_case("thinking") => {
                ReasoningFormat::ThinkingChunks
            }
            _ => ReasoningFormat::Field,
        }
    }
}

/// A message's or delta's `content` and `reasoning_content` entries, in `format`.
pub fn serialize_content<M: SerializeMap>(
    map: &mut M,
    format: ReasoningFormat,
    content: Option<&String>,
    reasoning: Option<&String>,
    content_when_empty: bool,
) -> Result<(), M::Error> {
    match (format, reasoning) {
        (ReasoningFormat::ThinkingChunks, Some(reasoning)) => {
            let mut chunks = vec![json!({"type": "thinking", "thinking": [{"type": "text", "text": reasoning}]})];
            if let Some(text) = content.filter(|text| !text.is_empty()) {
                chunks.push(json!({"type": "text", "text": text}));
            }
            map.serialize_entry("content", &Value::Array(chunks))
        }
        _ => {
            if content.is_some() || content_when_empty {
                map.serialize_entry("content", &content)?;
            }
            if let Some(reasoning) = reasoning {
                map.serialize_entry("reasoning_content", reasoning)?;
            }
            Ok(())
        }
    }
}

/// Serializes a map of `entries` through `serializer` (the manual `Serialize` impls' frame).
pub fn map<S: Serializer>(
    serializer: S,
    entries: impl FnOnce(&mut S::SerializeMap) -> Result<(), S::Error>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    entries(&mut map)?;
    map.end()
}

/// A map entry for `value`, none for `None`.
pub fn entry<M: SerializeMap, T: Serialize>(map: &mut M, key: &str, value: Option<&T>) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::chunk::Delta;
    use crate::api::response::ResponseMessage;

    fn message(format: ReasoningFormat) -> Value {
        let message = ResponseMessage {
            role: "assistant",
            content: Some("Paris.".into()),
            reasoning_content: Some("The capital of France...".into()),
            tool_calls: None,
            reasoning_format: format,
        };
        serde_json::to_value(message).unwrap()
    }

    #[test]
    fn the_header_chooses_thinking_chunks_and_anything_else_the_field() {
        assert_eq!(ReasoningFormat::from_header(Some(" Mistral ")), ReasoningFormat::ThinkingChunks);
        assert_eq!(ReasoningFormat::from_header(Some("thinking")), ReasoningFormat::ThinkingChunks);
        for other in [None, Some("openai"), Some("")] {
            assert_eq!(ReasoningFormat::from_header(other), ReasoningFormat::Field);
        }
    }

    #[test]
    fn a_message_carries_reasoning_as_the_field_or_as_mistrals_chunks() {
        assert_eq!(
            message(ReasoningFormat::Field),
            json!({"role": "assistant", "content": "Paris.", "reasoning_content": "The capital of France..."})
        );
        assert_eq!(
            message(ReasoningFormat::ThinkingChunks),
            json!({"role": "assistant", "content": [
                {"type": "thinking", "thinking": [{"type": "text", "text": "The capital of France..."}]},
                {"type": "text", "text": "Paris."}
            ]})
        );
        let plain = ResponseMessage { role: "assistant", content: None, ..ResponseMessage::default() };
        assert_eq!(serde_json::to_value(plain).unwrap(), json!({"role": "assistant", "content": null}));
    }

    #[test]
    fn a_reasoning_delta_is_a_thinking_chunk_and_text_deltas_stay_strings() {
        let thought = Delta {
            reasoning_content: Some("Hmm".into()),
            reasoning_format: ReasoningFormat::ThinkingChunks,
            ..Delta::default()
        };
        assert_eq!(
            serde_json::to_value(thought).unwrap(),
            json!({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Hmm"}]}]})
        );
        let text = Delta {
            content: Some("Par".into()),
            reasoning_format: ReasoningFormat::ThinkingChunks,
            ..Delta::default()
        };
        assert_eq!(serde_json::to_value(text).unwrap(), json!({"content": "Par"}));
        let role = Delta { role: Some("assistant"), ..Delta::default() };
        assert_eq!(serde_json::to_value(role).unwrap(), json!({"role": "assistant"}));
    }
}

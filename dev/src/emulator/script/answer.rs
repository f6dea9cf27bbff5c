//! What the scripted model answers, and how that answer is written as a Converse response body
//! or as the ConverseStream event sequence (words and argument fragments, as models stream).

use serde_json::{Value, json};

/// One block of the assistant message.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// What a reasoning model thinks before it answers (Converse `reasoningContent`).
    Reasoning(String),
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// What the model answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub content: Vec<Block>,
    pub stop_reason: &'static str,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// With a guardrail configured: `NONE` or `INTERVENED` (InvokeModel reports it).
    pub guardrail_action: Option<&'static str>,
    /// With a guardrail trace asked for: the `trace` object (`{"guardrail": ...}`).
    pub trace: Option<Value>,
}

impl Answer {
    /// The Converse response body.
    pub fn converse_json(&self, latency_ms: u64) -> Value {
        let content: Vec<Value> = self
            .content
            .iter()
            .map(|block| match block {
                Block::Reasoning(text) => json!({ "reasoningContent": { "reasoningText": { "text": text } } }),
                Block::Text(text) => json!({ "text": text }),
                Block::ToolUse { id, name, input } => {
                    json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } })
                }
            })
            .collect();
        let mut body = json!({
            "output": { "message": { "role": "assistant", "content": content } },
            "stopReason": self.stop_reason,
            "usage": self.usage_json(),
            "metrics": { "latencyMs": latency_ms },
        });
        if let Some(trace) = &self.trace {
            body["trace"] = trace.clone();
        }
        body
    }

    /// The text blocks, concatenated: what a client shows as the answer.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|block| if let Block::Text(text) = block { Some(text.as_str()) } else { None })
            .collect()
    }

    /// The ConverseStream events up to and including `messageStop`, as (event type, payload).
    /// The `metadata` event comes from [`Answer::metadata_json`] once the latency is known.
    pub fn stream_events(&self) -> Vec<(&'static str, Value)> {
        let mut events = vec![("messageStart", json!({ "role": "assistant" }))];
        for (index, block) in self.content.iter().enumerate() {
            match block {
                Block::Reasoning(text) => {
                    for piece in word_pieces(text) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": index, "delta": { "reasoningContent": { "text": piece } } }),
                        ));
                    }
                }
                Block::Text(text) => {
                    // A guardrail sends its blocked message whole, not word by word.
                    let pieces = if self.guardrail_action == Some("INTERVENED") {
                        vec![text.as_str()]
                    } else {
                        word_pieces(text)
                    };
                    for piece in pieces {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": index, "delta": { "text": piece } }),
                        ));
                    }
                }
                Block::ToolUse { id, name, input } => {
                    events.push((
                        "contentBlockStart",
                        json!({
                            "contentBlockIndex": index,
                            "start": { "toolUse": { "toolUseId": id, "name": name } }
                        }),
                    ));
                    let arguments = input.to_string();
                    for fragment in json_fragments(&arguments) {
                        events.push((
                            "contentBlockDelta",
                            json!({
                                "contentBlockIndex": index,
                                "delta": { "toolUse": { "input": fragment } }
                            }),
                        ));
                    }
                }
            }
            events.push(("contentBlockStop", json!({ "contentBlockIndex": index })));
        }
        events.push(("messageStop", json!({ "stopReason": self.stop_reason })));
        events
    }

    /// The last ConverseStream event: usage and latency (and the trace, when there is one).
    pub fn metadata_json(&self, latency_ms: u64) -> Value {
        let mut metadata = json!({ "usage": self.usage_json(), "metrics": { "latencyMs": latency_ms } });
        if let Some(trace) = &self.trace {
            metadata["trace"] = trace.clone();
        }
        metadata
    }

    fn usage_json(&self) -> Value {
        json!({
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
            "serverToolUsage": {},
        })
    }
}

/// Splits text the way models stream it: one word per piece, each piece after the first keeping
/// its leading whitespace. Empty text is one empty piece (real models send that too).
pub fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_was_space = true;
    for (at, c) in text.char_indices() {
        if c.is_whitespace() && !previous_was_space && at > start {
            pieces.push(&text[start..at]);
            start = at;
        }
        previous_was_space = c.is_whitespace();
    }
    pieces.push(&text[start..]);
    pieces
}

/// Splits JSON text into fragments of 6 to 10 characters, so arguments arrive in pieces.
pub fn json_fragments(json: &str) -> Vec<&str> {
    let mut fragments = Vec::new();
    let mut rest = json;
    let mut size = 6;
    while !rest.is_empty() {
        let cut = rest.char_indices().nth(size).map_or(rest.len(), |(at, _)| at);
        fragments.push(&rest[..cut]);
        rest = &rest[cut..];
        size = if size == 10 { 6 } else { size + 1 };
    }
    if fragments.is_empty() {
        fragments.push("");
    }
    fragments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_text_keeps_leading_spaces() {
        assert_eq!(word_pieces("You said: hi  there"), ["You", " said:", " hi", "  there"]);
        assert_eq!(word_pieces(""), [""]);
        let json = r#"{"transaction_id":"T1001","x":1}"#;
        let fragments = json_fragments(json);
        assert!(fragments.len() > 3);
        assert!(fragments.iter().all(|f| (1..=10).contains(&f.chars().count())));
        assert_eq!(fragments.concat(), json);
    }
}

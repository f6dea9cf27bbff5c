//! The scripted model's answer in Mistral's native shapes: the InvokeModel body (chat
//! `choices[].message`, text `outputs[]`), and the InvokeModelWithResponseStream chunks, the last
//! one carrying the stop reason and `amazon-bedrock-invocationMetrics`.

use serde_json::{Value, json};

use crate::emulator::script::{Answer, Block, word_pieces};
use crate::emulator::streaming::{Frame, Step, Timing};

/// Which native body a call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Text,
}

/// Mistral's stop reasons for Converse's.
fn stop_reason(answer: &Answer) -> &'static str {
    match answer.stop_reason {
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        _ => "stop",
    }
}

/// Mistral's tool-call ids are 9 letters or digits: the end of the script's `tooluse_` id.
fn call_id(tool_use_id: &str) -> &str {
    &tool_use_id[tool_use_id.len().saturating_sub(9)..]
}

fn tool_calls(answer: &Answer) -> Vec<Value> {
    answer
        .content
        .iter()
        .filter_map(|block| match block {
            Block::ToolUse { id, name, input } => Some(json!({
                "id": call_id(id), "type": "function", "function": { "name": name, "arguments": input.to_string() }
            })),
            _ => None,
        })
        .collect()
}

/// The guardrail's verdict (and trace) at the top level of a body or last chunk.
fn add_guardrail(value: &mut Value, answer: &Answer) {
    if let Some(action) = answer.guardrail_action {
        value["amazon-bedrock-guardrailAction"] = json!(action);
    }
    if let Some(trace) = &answer.trace {
        value["amazon-bedrock-trace"] = trace.clone();
    }
}

/// The InvokeModel body.
pub fn body(kind: Kind, answer: &Answer, model_id: &str, id: &str, created: u64) -> Value {
    let mut body = match kind {
        Kind::Chat => {
            let mut message = json!({ "role": "assistant", "content": answer.text() });
            let calls = tool_calls(answer);
            if !calls.is_empty() {
                message["tool_calls"] = json!(calls);
            }
            json!({
                "id": id,
                "object": "chat.completion",
                "created": created,
                "model": model_id,
                "choices": [{ "index": 0, "message": message, "stop_reason": stop_reason(answer) }],
                "usage": {
                    "prompt_tokens": answer.input_tokens,
                    "completion_tokens": answer.output_tokens,
                    "total_tokens": answer.input_tokens + answer.output_tokens,
                },
            })
        }
        Kind::Text => json!({ "outputs": [{ "text": answer.text(), "stop_reason": stop_reason(answer) }] }),
    };
    add_guardrail(&mut body, answer);
    body
}

/// One streamed chunk: a piece of text (and tool calls), `stop_reason` set only on the last.
fn chunk(kind: Kind, text: &str, calls: Option<Vec<Value>>, stop: Option<&str>) -> Value {
    match kind {
        Kind::Chat => {
            let mut message = json!({ "role": "assistant", "content": text });
            if let Some(calls) = calls {
                message["tool_calls"] = json!(calls);
            }
            json!({ "choices": [{ "index": 0, "message": message, "stop_reason": stop }] })
        }
        Kind::Text => json!({ "outputs": [{ "text": text, "stop_reason": stop }] }),
    }
}

/// The InvokeModelWithResponseStream chunks: one per word of the text (the guardrail's blocked
/// message whole), the tool calls whole in one chunk, then the last chunk.
pub fn steps(kind: Kind, answer: Answer) -> Vec<Step> {
    let text = answer.text();
    let calls = tool_calls(&answer);
    let pieces = match () {
        _ if text.is_empty() && !calls.is_empty() => Vec::new(),
        _ if answer.guardrail_action == Some("INTERVENED") => vec![text.as_str()],
        _ => word_pieces(&text),
    };
    let mut steps: Vec<Step> =
        pieces.into_iter().map(|piece| Step::delta(Frame::Chunk(chunk(kind, piece, None, None)))).collect();
    if !calls.is_empty() {
        steps.push(Step::delta(Frame::Chunk(chunk(kind, "", Some(calls), None))));
    }
    let last = move |timing: &Timing| {
        let mut last = chunk(kind, "", None, Some(stop_reason(&answer)));
        last["amazon-bedrock-invocationMetrics"] = json!({
            "inputTokenCount": answer.input_tokens,
            "outputTokenCount": answer.output_tokens,
            "invocationLatency": timing.latency_ms(),
            "firstByteLatency": timing.first_byte_ms(),
        });
        add_guardrail(&mut last, &answer);
        Frame::Chunk(last)
    };
    steps.push(Step::closing(Frame::Late(Box::new(last))));
    steps
}

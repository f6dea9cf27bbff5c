//! What the gateway asks of models to route between tiers, and how it reads their answers.
//!
//! Both exchanges are plain text, so they work on every tier, including models that take no
//! system prompt, and neither touches the caller's own system prompt:
//!
//! - **Escalation signal** (`cascade`). For every tier below the top one, one extra text block,
//!   [`ESCALATION_INSTRUCTION`], is appended to the last user message. A model that cannot answer
//!   reliably replies with exactly [`ESCALATION_MARKER`]. An answer that starts with the marker
//!   escalates to the next tier; the marker is stripped from any answer passed on. The top tier
//!   gets the request unchanged: there is nothing to escalate to.
//! - **Triage** (`triage`). One short call to the cheapest tier with structured output (a JSON
//!   schema named [`TRIAGE_SCHEMA_NAME`]) whose only user message holds [`TRIAGE_INSTRUCTION`]
//!   and the conversation, truncated to [`TRIAGE_MAX_CHARS`]; the answer
//!   `{"difficulty": "easy" | "medium" | "hard"}` names the tier that answers.
//!
//! [`ask_for_signal`] adds the note to a request, [`without_marker`] takes the marker out of an
//! answer: the router calls each in one place. The Bedrock emulator implements the model's side
//! of both (its `[[hard]]` directive).

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, ConverseOutput as Output, Message};
use serde_json::{Value, json};

use crate::bedrock::ModelRequest;

/// Appended, as its own text block, to the last user message of a request sent to a tier that
/// may escalate.
pub const ESCALATION_INSTRUCTION: &str = "(Note from the gateway, not from the user: if you cannot answer the request above reliably, because it needs more knowledge, reasoning or care than you can give, reply with exactly <<ESCALATE>> and nothing else. Otherwise answer normally and do not mention this note.)";

/// What a model replies to ask for a stronger tier.
pub const ESCALATION_MARKER: &str = "<<ESCALATE>>";

/// The `name` of the triage call's JSON schema.
pub const TRIAGE_SCHEMA_NAME: &str = "routing_triage";

/// The most characters of conversation a triage call carries (the latest ones are kept).
pub const TRIAGE_MAX_CHARS: usize = 4000;

/// Opens the triage call's user message; the conversation follows it.
pub const TRIAGE_INSTRUCTION: &str = "Classify how hard it is to answer the last user message of the conversation below well. Answer `easy` for small talk, simple facts, rewording and short formatting tasks; `medium` for tasks that need some reasoning or domain knowledge; `hard` for expert knowledge, multi-step reasoning, long or subtle analysis. Do not answer the conversation itself.\n\nConversation:\n";

/// How hard a request is, as triage reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub const LABELS: [&str; 3] = ["easy", "medium", "hard"];

    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "easy" => Some(Difficulty::Easy),
            "medium" => Some(Difficulty::Medium),
            "hard" => Some(Difficulty::Hard),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        Self::LABELS[self as usize]
    }
}

/// The triage call's output schema.
pub fn triage_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"difficulty": {"type": "string", "enum": Difficulty::LABELS}},
        "required": ["difficulty"],
        "additionalProperties": false
    })
}

/// Reads a triage answer; `None` when it is not the JSON the schema asks for.
pub fn read_triage(answer: &str) -> Option<Difficulty> {
    let value: Value = serde_json::from_str(answer.trim()).ok()?;
    Difficulty::from_label(value.get("difficulty")?.as_str()?)
}

/// True when an answer asks for a stronger tier.
pub fn asks_to_escalate(answer: &str) -> bool {
    answer.trim_start().starts_with(ESCALATION_MARKER)
}

/// The answer without the escalation marker (a model may add it and still answer).
pub fn strip_marker(answer: &str) -> String {
    answer.replace(ESCALATION_MARKER, "").trim().to_owned()
}

/// Appends the escalation instruction to the last user message, when it holds text (a turn of
/// tool results alone is left as it is).
pub fn ask_for_signal(request: &mut ModelRequest) {
    let Some(last) = request.messages.iter_mut().rev().find(|m| *m.role() == ConversationRole::User) else { return };
    if !last.content().iter().any(ContentBlock::is_text) {
        return;
    }
    let mut content = last.content().to_vec();
    content.push(ContentBlock::Text(ESCALATION_INSTRUCTION.to_owned()));
    if let Ok(message) = Message::builder().role(ConversationRole::User).set_content(Some(content)).build() {
        *last = message;
    }
}

/// The answer without the escalation marker: a model may add it and still answer, and the
/// caller never asked for it. The one place it is taken out.
pub fn without_marker(output: ConverseOutput) -> ConverseOutput {
    let Some(Output::Message(message)) = output.output() else { return output };
    let marked = |b: &ContentBlock| matches!(b, ContentBlock::Text(t) if t.contains(ESCALATION_MARKER));
    if !message.content().iter().any(marked) {
        return output;
    }
    let content = message
        .content()
        .iter()
        .map(|b| match b {
            ContentBlock::Text(t) if t.contains(ESCALATION_MARKER) => ContentBlock::Text(strip_marker(t)),
            other => other.clone(),
        })
        .collect();
    let Ok(message) = Message::builder().role(message.role().clone()).set_content(Some(content)).build() else {
        return output;
    };
    ConverseOutput::builder()
        .output(Output::Message(message))
        .stop_reason(output.stop_reason().clone())
        .set_usage(output.usage().cloned())
        .set_metrics(output.metrics().cloned())
        .set_trace(output.trace().cloned())
        .set_additional_model_response_fields(output.additional_model_response_fields().cloned())
        .set_performance_config(output.performance_config().cloned())
        .build()
        .unwrap_or(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_answers_are_read_strictly() {
        assert_eq!(read_triage(r#"{"difficulty": "hard"}"#), Some(Difficulty::Hard));
        assert_eq!(read_triage(" {\"difficulty\":\"easy\"} "), Some(Difficulty::Easy));
        assert_eq!(read_triage(r#"{"difficulty": "impossible"}"#), None);
        assert_eq!(read_triage("hard"), None);
        assert_eq!(Difficulty::Medium.label(), "medium");
    }

    #[test]
    fn the_marker_escalates_only_at_the_start_and_is_stripped() {
        assert!(asks_to_escalate("  <<ESCALATE>>"));
        assert!(!asks_to_escalate("Paris. <<ESCALATE>>"));
        assert_eq!(strip_marker("Paris. <<ESCALATE>>"), "Paris.");
        assert!(ESCALATION_INSTRUCTION.contains(ESCALATION_MARKER));
    }
}

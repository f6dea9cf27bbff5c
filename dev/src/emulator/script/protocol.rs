//! The model's side of the gateway's routing protocol (`shared::model_choice::protocol`): the
//! escalation instruction it reads past, the marker it answers when `[[hard]]` is beyond its
//! tier, and its verdict on a triage call.

use serde_json::{Value, json};
use shared::model_choice::protocol::{ESCALATION_INSTRUCTION, ESCALATION_MARKER, TRIAGE_SCHEMA_NAME};

use super::directives::{Directive, Parsed};
use super::{last_user_message, texts};
use crate::emulator::models::ModelTraits;

/// True for a text block that is the gateway's note to the model, not the user's words: the
/// model leaves it out of what it reads (echo, directives), though it still counts as input.
pub fn is_gateway_note(text: &str) -> bool {
    text == ESCALATION_INSTRUCTION
}

/// On a triage call (structured output whose schema is named `TRIAGE_SCHEMA_NAME`), the
/// verdict: `{"difficulty":"hard"}` when the last user message holds `[[hard]]`, else easy.
pub fn triage_verdict(body: &Value, last: &Parsed) -> Option<String> {
    let format = &body["outputConfig"]["textFormat"];
    let is_triage = format["type"] == "json_schema" && format["structure"]["jsonSchema"]["name"] == TRIAGE_SCHEMA_NAME;
    is_triage.then(|| {
        let difficulty = if last.directives.contains(&Directive::Hard) { "hard" } else { "easy" };
        json!({ "difficulty": difficulty }).to_string()
    })
}

/// The escalation marker, when the model asks for a stronger tier: the last user message holds
/// both the escalation instruction and `[[hard]]`, and the model's tier is below Large.
pub fn escalation(body: &Value, last: &Parsed, model: &ModelTraits) -> Option<&'static str> {
    let instructed = last_user_message(body).is_some_and(|message| texts(message).any(is_gateway_note));
    (instructed && model.below_large && last.directives.contains(&Directive::Hard)).then_some(ESCALATION_MARKER)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shared::model_choice::protocol::{ESCALATION_INSTRUCTION, ESCALATION_MARKER, TRIAGE_SCHEMA_NAME};

    use crate::emulator::models::ModelTraits;
    use crate::emulator::script::{Block, answer};

    fn asked(text: &str, with_instruction: bool) -> Value {
        let mut content = vec![json!({ "text": text })];
        if with_instruction {
            content.push(json!({ "text": ESCALATION_INSTRUCTION }));
        }
        json!({ "messages": [{ "role": "user", "content": content }] })
    }

    fn text(body: &Value, model: &str) -> String {
        answer(body, &ModelTraits::of(model)).text()
    }

    const SMALL: &str = "mistral.ministral-3-3b-instruct";
    const LARGE: &str = "mistral.mistral-large-3-675b-instruct";

    #[test]
    fn a_small_model_escalates_hard_questions_it_was_told_it_may_escalate() {
        let hard = asked("Prove it [[hard]]", true);
        let answer = answer(&hard, &ModelTraits::of(SMALL));
        assert_eq!(answer.content, [Block::Text(ESCALATION_MARKER.into())]);
        assert_eq!(answer.stop_reason, "end_turn");
        // The note is not read, but it is paid for (like the directive, which is text too).
        let note_words = ESCALATION_INSTRUCTION.split_whitespace().count() as u64;
        assert_eq!(answer.input_tokens, 3 + note_words);
        assert_eq!(text(&hard, "mistral.brand-new-v1:0"), ESCALATION_MARKER, "unknown models are below Large");
    }

    #[test]
    fn without_the_note_the_tier_or_the_directive_the_model_answers() {
        assert_eq!(text(&asked("Prove it [[hard]]", true), LARGE), "You said: Prove it");
        assert_eq!(text(&asked("Prove it [[hard]]", false), SMALL), "You said: Prove it");
        assert_eq!(text(&asked("Easy one", true), SMALL), "You said: Easy one");
    }

    #[test]
    fn triage_calls_get_a_difficulty() {
        let triage = |prompt: &str| {
            let schema = json!({"type": "object", "properties": {"difficulty": {"type": "string"}}}).to_string();
            json!({
                "messages": [{ "role": "user", "content": [{ "text": prompt }] }],
                "outputConfig": { "textFormat": { "type": "json_schema",
                    "structure": { "jsonSchema": { "name": TRIAGE_SCHEMA_NAME, "schema": schema } } } }
            })
        };
        assert_eq!(text(&triage("Classify: prove Fermat [[hard]]"), SMALL), r#"{"difficulty":"hard"}"#);
        assert_eq!(text(&triage("Classify: hello"), SMALL), r#"{"difficulty":"easy"}"#);
        assert_eq!(text(&triage("Classify: hello [[broken-json]]"), SMALL), r#"{"difficulty":"easy"}"#);
    }
}

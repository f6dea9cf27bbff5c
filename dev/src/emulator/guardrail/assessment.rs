//! What a configured guardrail does to an answer: with `[[intervene]]`, the blocked message in
//! place of the output; with a trace asked for, the `GuardrailTraceAssessment` of the input and
//! the output, shaped like AWS's `ConverseTrace.guardrail`.

use serde_json::{Value, json};

use super::{BLOCKED_MESSAGE, Guardrail, Trace};
use crate::emulator::script::{Answer, Block};

impl Guardrail {
    /// Assesses `answer` to a prompt of `prompt` text: with `intervene`, the output is replaced
    /// by [`BLOCKED_MESSAGE`] (`guardrail_intervened`; usage still counts what the model wrote).
    pub fn apply(&self, answer: &mut Answer, prompt: &str, intervene: bool) {
        let output = answer.text();
        if intervene {
            answer.content = vec![Block::Text(BLOCKED_MESSAGE.to_owned())];
            answer.stop_reason = "guardrail_intervened";
        }
        answer.guardrail_action = Some(if intervene { "INTERVENED" } else { "NONE" });
        if self.trace != Trace::Disabled {
            answer.trace = Some(json!({ "guardrail": self.assessment(prompt, &output, intervene) }));
        }
    }

    /// A `GuardrailTraceAssessment`: the input passed; the output was blocked by the content
    /// filter for violence when the guardrail intervened.
    fn assessment(&self, prompt: &str, output: &str, intervened: bool) -> Value {
        let full = self.trace == Trace::EnabledFull;
        let input = assessment(prompt, false, full);
        let mut trace = json!({
            "inputAssessment": { self.id(): input },
            "outputAssessments": { self.id(): [assessment(output, intervened, full)] },
            "actionReason": if intervened { "Guardrail blocked." } else { "No action." },
        });
        if intervened {
            trace["modelOutput"] = json!([output]);
        }
        trace
    }
}

/// One `GuardrailAssessment` of `text`: the content policy's filters (only those that detected
/// something, unless `full`) and the invocation metrics.
fn assessment(text: &str, blocked: bool, full: bool) -> Value {
    let filters: Vec<Value> = ["VIOLENCE", "HATE", "INSULTS", "SEXUAL", "MISCONDUCT"]
        .iter()
        .enumerate()
        .filter_map(|(index, kind)| {
            let detected = blocked && index == 0;
            (detected || full).then(|| {
                json!({
                    "type": kind,
                    "confidence": if detected { "HIGH" } else { "NONE" },
                    "filterStrength": "HIGH",
                    "action": if detected { "BLOCKED" } else { "NONE" },
                    "detected": detected,
                })
            })
        })
        .collect();
    let characters = text.chars().count();
    let mut assessment = json!({
        "invocationMetrics": {
            "guardrailProcessingLatency": 1,
            "usage": {
                "topicPolicyUnits": 0,
                // One text unit per 1,000 characters, as AWS bills them.
                "contentPolicyUnits": characters.div_ceil(1000).max(1),
                "wordPolicyUnits": 0,
                "sensitiveInformationPolicyUnits": 0,
                "sensitiveInformationPolicyFreeUnits": 0,
                "contextualGroundingPolicyUnits": 0,
            },
            "guardrailCoverage": { "textCharacters": { "guarded": characters, "total": characters } },
        }
    });
    if !filters.is_empty() {
        assessment["contentPolicy"] = json!({ "filters": filters });
    }
    assessment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intervention_replaces_the_output_and_is_traced() {
        let guardrail = Guardrail { identifier: "gr1".into(), version: "1".into(), trace: Trace::Enabled };
        let mut answer = Answer {
            content: vec![Block::Text("You said: hi".into())],
            stop_reason: "end_turn",
            input_tokens: 1,
            output_tokens: 3,
            guardrail_action: None,
            trace: None,
        };
        guardrail.apply(&mut answer, "hi", true);
        assert_eq!(answer.content, [Block::Text(BLOCKED_MESSAGE.into())]);
        assert_eq!(
            (answer.stop_reason, answer.guardrail_action, answer.output_tokens),
            ("guardrail_intervened", Some("INTERVENED"), 3)
        );
        let trace = &answer.trace.unwrap()["guardrail"];
        assert_eq!(trace["modelOutput"], json!(["You said: hi"]));
        assert_eq!(trace["outputAssessments"]["gr1"][0]["contentPolicy"]["filters"][0]["action"], "BLOCKED");
        assert!(trace["inputAssessment"]["gr1"]["contentPolicy"].is_null(), "nothing detected in the input");
    }
}

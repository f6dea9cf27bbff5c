//! Mistral's native text-completion body (`{"prompt": "<s>[INST] ... [/INST]", ...}`): Bedrock's
//! checks, and the conversation the scripted model reads in the prompt's `[INST]` turns.

use serde_json::{Map, Value, json};
use shared::convert::request::JSON_OBJECT_INSTRUCTION;

use super::chat::GUARDRAIL_KEY;
use super::checks::{Problems, type_name};
use super::user_blocks;

/// The keys of AWS's "Mistral AI text completion" page, plus InvokeModel's in-body guardrail
/// settings.
const KEYS: [&str; 7] = ["prompt", "max_tokens", "stop", "temperature", "top_p", "top_k", GUARDRAIL_KEY];

/// Bedrock's limit on stop sequences for Mistral models.
const MAX_STOP: usize = 10;

/// Bedrock's checks of a text body, every problem found.
pub fn check(body: &Map<String, Value>, problems: &mut Problems) {
    problems.required(body, "prompt");
    problems.only_keys(body, &KEYS);
    match body.get("prompt") {
        None => {}
        Some(Value::String(prompt)) if prompt.is_empty() => problems.add("/prompt", "expected minLength: 1, actual: 0"),
        Some(Value::String(_)) => {}
        Some(other) => problems.add("/prompt", format!("expected type: String, found: {}", type_name(other))),
    }
    match body.get("stop") {
        None | Some(Value::Null) => {}
        Some(Value::Array(stops)) if stops.len() > MAX_STOP => {
            problems.add("/stop", format!("expected maximum item count: {MAX_STOP}, found: {}", stops.len()));
        }
        Some(Value::Array(stops)) => {
            for (index, stop) in stops.iter().enumerate().filter(|(_, stop)| !stop.is_string()) {
                problems.add(&format!("/stop/{index}"), format!("expected type: String, found: {}", type_name(stop)));
            }
        }
        Some(other) => problems.add("/stop", format!("expected type: JSONArray, found: {}", type_name(other))),
    }
    problems.integer(body.get("max_tokens").unwrap_or(&Value::Null), "/max_tokens", 1, None);
    problems.integer(body.get("top_k").unwrap_or(&Value::Null), "/top_k", 1, Some(200));
    problems.fraction(body.get("temperature").unwrap_or(&Value::Null), "/temperature", false);
    problems.fraction(body.get("top_p").unwrap_or(&Value::Null), "/top_p", true);
}

/// The turns of a Mistral instruction prompt: `[INST] user [/INST] assistant</s>` repeated,
/// `<s>`/`</s>` markers dropped. A prompt without `[INST]` is one user turn.
pub fn turns(prompt: &str) -> Vec<(&'static str, String)> {
    let clean = |text: &str| text.replace("<s>", " ").replace("</s>", " ").trim().to_owned();
    let mut turns = Vec::new();
    let mut pieces = prompt.split("[INST]");
    let before = pieces.next().unwrap_or_default();
    if !prompt.contains("[INST]") {
        return vec![("user", clean(before))];
    }
    for piece in pieces {
        let (user, assistant) = piece.split_once("[/INST]").unwrap_or((piece, ""));
        turns.push(("user", clean(user)));
        let assistant = clean(assistant);
        if !assistant.is_empty() {
            turns.push(("assistant", assistant));
        }
    }
    turns
}

/// The Converse-shaped request of a checked text body: its turns as messages. A first
/// instruction that holds the gateway's JSON instruction followed by a blank line is read as the
/// system text the gateway folds into it (Mistral's prompt format has no system role): its lines
/// become system blocks, so the script answers in JSON as it does on Converse.
pub fn to_converse(body: &Value) -> Value {
    let mut system = Vec::new();
    let mut turns = turns(body["prompt"].as_str().unwrap_or_default());
    if let Some((_, first)) = turns.first_mut()
        && let Some((folded, rest)) = first.split_once(&format!("{JSON_OBJECT_INSTRUCTION}\n\n"))
    {
        system = folded
            .lines()
            .chain([JSON_OBJECT_INSTRUCTION])
            .filter(|l| !l.trim().is_empty())
            .map(|l| json!({ "text": l }))
            .collect();
        *first = rest.to_owned();
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, text)| {
            let content = if role == "user" { user_blocks(&text) } else { vec![json!({ "text": text })] };
            json!({ "role": role, "content": content })
        })
        .collect();
    let mut converse = json!({ "messages": messages });
    if !system.is_empty() {
        converse["system"] = Value::Array(system);
    }
    if let Some(max_tokens) = body["max_tokens"].as_u64() {
        converse["inferenceConfig"] = json!({ "maxTokens": max_tokens });
    }
    converse
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_prompts_split_into_turns() {
        let prompt =
            "<s>[INST] What is your favourite condiment? [/INST] Lemon juice.</s> [INST] Do you have recipes? [/INST]";
        assert_eq!(
            turns(prompt),
            [
                ("user", "What is your favourite condiment?".to_owned()),
                ("assistant", "Lemon juice.".to_owned()),
                ("user", "Do you have recipes?".to_owned()),
            ]
        );
        assert_eq!(turns("Once upon a time"), [("user", "Once upon a time".to_owned())]);
        assert_eq!(turns("<s>[INST] Hi [/INST]"), [("user", "Hi".to_owned())]);
    }

    #[test]
    fn the_folded_json_instruction_is_read_as_system_text() {
        let prompt = format!("<s>[INST] Be brief.\n{JSON_OBJECT_INSTRUCTION}\n\nCapital of France? [/INST]");
        let converse = to_converse(&json!({ "prompt": prompt }));
        assert_eq!(converse["system"], json!([{ "text": "Be brief." }, { "text": JSON_OBJECT_INSTRUCTION }]));
        assert_eq!(converse["messages"][0]["content"], json!([{ "text": "Capital of France?" }]));
        let plain = to_converse(&json!({ "prompt": "<s>[INST] Be brief.\n\nHi [/INST]" }));
        assert!(plain.get("system").is_none(), "{plain}");
    }
}

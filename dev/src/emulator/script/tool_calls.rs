//! Which tools the scripted model calls, with which arguments, under which ids: `[[call:...]]`
//! directives, tool names that match the prompt, `toolChoice`, and schema-built arguments.

use serde_json::{Value, json};

use shared::convert::request::OUTPUT_TOOL_DESCRIPTION;

use super::directives::{Directive, Parsed};
use super::values::{generate, identifier_in};

/// A tool the request offers: its name and input JSON schema.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: String,
    pub schema: Value,
    /// The description tells the model to give its final answer by calling it (the gateway's
    /// output tool for `json_schema` on models without structured output): a model that would
    /// answer in text calls it instead, as a model that follows its instructions does.
    pub answers: bool,
}

/// The tools of `toolConfig.tools`.
pub fn tools(body: &Value) -> Vec<Tool> {
    body["toolConfig"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| {
            let spec = &tool["toolSpec"];
            let answers = spec["description"].as_str().is_some_and(|d| d.starts_with(OUTPUT_TOOL_DESCRIPTION));
            Some(Tool { name: spec["name"].as_str()?.to_owned(), schema: spec["inputSchema"]["json"].clone(), answers })
        })
        .collect()
}

/// The (name, arguments) of the directives `pick` selects, in order.
pub fn requested(
    parsed: &Parsed,
    pick: impl Fn(&Directive) -> Option<(&String, &Option<Value>)>,
) -> Vec<(String, Option<Value>)> {
    parsed.directives.iter().filter_map(|d| pick(d).map(|(name, args)| (name.clone(), args.clone()))).collect()
}

/// Rule 2: which tools the model calls on a turn without tool results.
pub fn choose_calls(body: &Value, tools: &[Tool], last: &Parsed) -> Vec<(String, Value)> {
    let directed = requested(last, |d| match d {
        Directive::Call { name, args } | Directive::Loop { name, args } => Some((name, args)),
        _ => None,
    });
    let choice = &body["toolConfig"]["toolChoice"];
    if let Some(forced) = choice["tool"]["name"].as_str() {
        let args = directed.into_iter().find(|(name, _)| name == forced).and_then(|(_, args)| args);
        return with_arguments(vec![(forced.to_owned(), args)], tools, &last.text);
    }
    if !directed.is_empty() {
        return with_arguments(directed, tools, &last.text);
    }
    let prompt = last.text.to_lowercase();
    let mut matched: Vec<(String, Option<Value>)> =
        tools.iter().filter(|tool| matches_prompt(&tool.name, &prompt)).map(|tool| (tool.name.clone(), None)).collect();
    if matched.is_empty() && choice.get("any").is_some() {
        let answer = tools.iter().find(|tool| tool.answers).or(tools.first());
        matched.extend(answer.map(|tool| (tool.name.clone(), None)));
    }
    with_arguments(matched, tools, &last.text)
}

/// Words of a tool name that say nothing about what it is for.
const GENERIC_WORDS: [&str; 9] = ["get", "retrieve", "fetch", "find", "lookup", "list", "search", "query", "the"];

fn matches_prompt(tool_name: &str, prompt_lowercase: &str) -> bool {
    tool_name
        .split(['_', '-'])
        .map(str::to_lowercase)
        .filter(|word| word.len() >= 3 && !GENERIC_WORDS.contains(&word.as_str()))
        .any(|word| prompt_lowercase.contains(&word))
}

/// Fills in arguments that the directives did not give, from each tool's schema.
pub fn with_arguments(calls: Vec<(String, Option<Value>)>, tools: &[Tool], prompt: &str) -> Vec<(String, Value)> {
    let id = identifier_in(prompt);
    calls
        .into_iter()
        .map(|(name, args)| {
            let input = args.unwrap_or_else(|| match tools.iter().find(|tool| tool.name == name) {
                Some(tool) => generate(&tool.schema, &tool.schema, None, id, 0),
                None => json!({}),
            });
            (name, input)
        })
        .collect()
}

/// `tooluse_` and 22 letters or digits, derived from the call's place in the conversation.
pub fn tool_use_id(conversation_len: usize, block_index: usize, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = 0xcbf2_9ce4_8422_2325_u64;
    for byte in format!("{conversation_len}/{block_index}/{name}").bytes() {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = String::from("tooluse_");
    for _ in 0..22 {
        // splitmix64: spreads the FNV hash over every character.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        id.push(char::from(ALPHABET[(z % ALPHABET.len() as u64) as usize]));
    }
    id
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::emulator::models::ModelTraits;
    use crate::emulator::script::{Block, answer};

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": [{ "text": text }] })
    }

    #[test]
    fn matching_tools_are_called_with_schema_arguments() {
        let schema = json!({
            "type": "object",
            "properties": { "transaction_id": { "type": "string" } },
            "required": ["transaction_id"]
        });
        let body = json!({
            "messages": [user("What's the status and date of my transaction T1001?")],
            "toolConfig": { "tools": [
                { "toolSpec": { "name": "retrieve_payment_status", "inputSchema": { "json": schema } } },
                { "toolSpec": { "name": "retrieve_payment_date", "inputSchema": { "json": schema } } },
                { "toolSpec": { "name": "get_weather", "inputSchema": { "json": {} } } }
            ]}
        });
        let answer = answer(&body, &ModelTraits::of("mistral.mistral-large-2407-v1:0"));
        assert_eq!(answer.stop_reason, "tool_use");
        let calls: Vec<_> = answer
            .content
            .iter()
            .map(|block| match block {
                Block::ToolUse { id, name, input } => (id.clone(), name.clone(), input.clone()),
                other => panic!("expected a tool call, got {other:?}"),
            })
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].1, "retrieve_payment_status");
        assert_eq!(calls[1].1, "retrieve_payment_date");
        assert_eq!(calls[0].2, json!({ "transaction_id": "T1001" }));
        assert_ne!(calls[0].0, calls[1].0);
        assert_eq!(calls[0].0.len(), "tooluse_".len() + 22);
    }
}

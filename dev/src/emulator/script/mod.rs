//! The scripted model: reads a (validated) Converse request and decides, deterministically, what
//! the "model" answers. The rules are documented in the module doc of [`crate::emulator`].

pub mod answer;
pub mod directives;
pub mod json_output;
pub mod protocol;
pub mod tool_calls;
pub mod tool_results;
pub mod values;

use serde_json::Value;

pub use answer::{Answer, Block, json_fragments, word_pieces};
pub use directives::{Controls, Directive, Parsed, controls, parse};
use tool_calls::{choose_calls, requested, tool_use_id, tools, with_arguments};
use tool_results::{result_content, tool_results, tool_results_text};

use crate::emulator::models::ModelTraits;

/// Runs the script on a validated request to `model`: a triage verdict or the escalation
/// marker when the routing protocol asks for one, else the model's answer; a reasoning model
/// thinks first.
pub fn answer(body: &Value, model: &ModelTraits) -> Answer {
    let last = last_user(body);
    let input_tokens = count_input_tokens(body).max(1);
    let mut answer = match protocol::triage_verdict(body, &last) {
        Some(verdict) => plain_text(verdict, input_tokens),
        None => match protocol::escalation(body, &last, model) {
            Some(marker) => plain_text(marker.to_owned(), input_tokens),
            None => model_answer(body, &last, model, input_tokens),
        },
    };
    if model.reasoning {
        let subject = if last.text.is_empty() { "the conversation" } else { last.text.as_str() };
        let thought = format!("Thinking about: {subject}");
        answer.output_tokens += word_count(&thought);
        answer.content.insert(0, Block::Reasoning(thought));
    }
    answer
}

/// Tool results, tool calls or text, by the rules of the module doc.
fn model_answer(body: &Value, last: &Parsed, model: &ModelTraits, input_tokens: u64) -> Answer {
    let messages = messages(body);
    let tools = tools(body);

    let results = tool_results(body);
    let calls = if !results.is_empty() {
        let first_prompt = parse(&text_of(messages.first().unwrap_or(&Value::Null)));
        let tool_turns =
            messages.iter().filter(|m| m["role"] == "user" && !blocks_of(m, "toolResult").is_empty()).count();
        let mut chain = Vec::new();
        if tool_turns == 1 {
            chain = requested(&first_prompt, |d| match d {
                Directive::Then { name, args } => Some((name, args)),
                _ => None,
            });
        }
        if chain.is_empty() {
            chain = requested(&first_prompt, |d| match d {
                Directive::Loop { name, args } => Some((name, args)),
                _ => None,
            });
        }
        if chain.is_empty() {
            match tools.iter().find(|tool| tool.answers) {
                Some(answer) => with_arguments(vec![(answer.name.clone(), None)], &tools, &first_prompt.text),
                None => return text_answer(body, tool_results_text(&results), input_tokens),
            }
        } else {
            with_arguments(chain, &tools, &first_prompt.text)
        }
    } else if !tools.is_empty() {
        let calls = choose_calls(body, &tools, last);
        if model.below_large && last.directives.contains(&Directive::BrokenJson) {
            // A weak model's tool call that breaks its schema: no arguments at all.
            calls.into_iter().map(|(name, _)| (name, serde_json::json!({}))).collect()
        } else {
            calls
        }
    } else {
        Vec::new()
    };

    if calls.is_empty() {
        let text = if let Some(request) = json_output::requested(body) {
            let valid = json_output::value_text(&request, || echo(body, last));
            let breaks = model.below_large && last.directives.contains(&Directive::BrokenJson);
            if breaks { json_output::broken(&valid) } else { valid }
        } else if let Some(words) = last.directives.iter().find_map(|d| match d {
            Directive::Words(n) => Some(*n),
            _ => None,
        }) {
            (1..=words).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ")
        } else {
            echo(body, last)
        };
        return text_answer(body, text, input_tokens);
    }

    let conversation_len = messages.len();
    let mut output_tokens = 0;
    let content = calls
        .into_iter()
        .enumerate()
        .map(|(index, (name, input))| {
            output_tokens += word_count(&input.to_string()) + 1;
            Block::ToolUse { id: tool_use_id(conversation_len, index, &name), name, input }
        })
        .collect();
    Answer { content, stop_reason: "tool_use", input_tokens, output_tokens, guardrail_action: None, trace: None }
}

/// Text that no directive shapes (a protocol answer), `end_turn`.
fn plain_text(text: String, input_tokens: u64) -> Answer {
    Answer {
        output_tokens: word_count(&text),
        content: vec![Block::Text(text)],
        stop_reason: "end_turn",
        input_tokens,
        guardrail_action: None,
        trace: None,
    }
}

/// A text answer, with the stop-reason directives and `maxTokens` applied.
fn text_answer(body: &Value, mut text: String, input_tokens: u64) -> Answer {
    let last = last_user(body);
    let mut stop_reason = "end_turn";
    for directive in &last.directives {
        match directive {
            Directive::MaxTokens => stop_reason = "max_tokens",
            Directive::Stop => stop_reason = "stop_sequence",
            Directive::Guardrail => stop_reason = "guardrail_intervened",
            Directive::Context => stop_reason = "model_context_window_exceeded",
            _ => {}
        }
    }
    if let Some(max) = body["inferenceConfig"]["maxTokens"].as_u64() {
        let words: Vec<&str> = text.split_whitespace().collect();
        if (words.len() as u64) > max {
            text = words[..max as usize].join(" ");
            stop_reason = "max_tokens";
        }
    }
    Answer {
        output_tokens: word_count(&text),
        content: vec![Block::Text(text)],
        stop_reason,
        input_tokens,
        guardrail_action: None,
        trace: None,
    }
}

/// `You said: ...`, with the system prompt and turn number when there are any (the JSON
/// instruction is a request for a format, not part of the prompt the echo shows).
fn echo(body: &Value, last: &Parsed) -> String {
    let system: Vec<&str> = body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|block| !json_output::is_json_instruction(&block["text"]))
        .filter_map(|block| block["text"].as_str())
        .collect();
    let mut text = String::new();
    if !system.is_empty() {
        text.push_str(&format!("[system: {}] ", system.join(" ")));
    }
    text.push_str("You said: ");
    text.push_str(&last.text);
    let user_turns = messages(body).iter().filter(|m| m["role"] == "user").count();
    if user_turns > 1 {
        text.push_str(&format!(" (turn {user_turns})"));
    }
    text.trim_end().to_owned()
}

fn messages(body: &Value) -> &[Value] {
    body["messages"].as_array().map_or(&[], Vec::as_slice)
}

/// The text the model reads of the last user message (what a guardrail assesses).
pub fn prompt(body: &Value) -> String {
    last_user(body).text
}

fn last_user_message(body: &Value) -> Option<&Value> {
    messages(body).iter().rev().find(|m| m["role"] == "user")
}

/// The last user message's text, parsed.
fn last_user(body: &Value) -> Parsed {
    last_user_message(body).map(|m| parse(&text_of(m))).unwrap_or_default()
}

/// The texts of the message's text blocks.
fn texts(message: &Value) -> impl Iterator<Item = &str> {
    message["content"].as_array().into_iter().flatten().filter_map(|block| block["text"].as_str())
}

/// What the model reads of a message: its text blocks, joined with spaces, the gateway's notes
/// left out.
fn text_of(message: &Value) -> String {
    texts(message).filter(|text| !protocol::is_gateway_note(text)).collect::<Vec<_>>().join(" ")
}

fn blocks_of<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"].as_array().into_iter().flatten().filter_map(|block| block.get(kind)).collect()
}

fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Words in the system prompt and every message: text (notes included), reasoning, tool inputs
/// and tool results.
fn count_input_tokens(body: &Value) -> u64 {
    let system: u64 = body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["text"].as_str())
        .map(word_count)
        .sum();
    let conversation: u64 = messages(body)
        .iter()
        .flat_map(|m| m["content"].as_array().into_iter().flatten())
        .map(|block| {
            if let Some(text) = block["text"].as_str() {
                word_count(text)
            } else if let Some(call) = block.get("toolUse") {
                word_count(&call["input"].to_string())
            } else if let Some(result) = block.get("toolResult") {
                word_count(&result_content(&result["content"]))
            } else if let Some(reasoning) = block["reasoningContent"]["reasoningText"]["text"].as_str() {
                word_count(reasoning)
            } else {
                0
            }
        })
        .sum();
    system + conversation
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MODEL: &str = "mistral.mistral-large-2407-v1:0";

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": [{ "text": text }] })
    }

    fn text(answer: &Answer) -> &str {
        match &answer.content[0] {
            Block::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn echoes_with_system_prompt_and_turn_number() {
        let body = json!({
            "system": [{ "text": "Be brief." }],
            "messages": [
                user("first"),
                { "role": "assistant", "content": [{ "text": "ok" }] },
                user("second [[stop]]"),
            ]
        });
        let answer = answer(&body, &ModelTraits::of(MODEL));
        assert_eq!(text(&answer), "[system: Be brief.] You said: second (turn 2)");
        assert_eq!(answer.stop_reason, "stop_sequence");
        assert_eq!(answer.output_tokens, 8);
        assert_eq!(answer.input_tokens, 2 + 1 + 1 + 2);
    }

    #[test]
    fn max_tokens_truncates_the_answer() {
        let body = json!({
            "messages": [user("[[words:50]]")],
            "inferenceConfig": { "maxTokens": 3 }
        });
        let answer = answer(&body, &ModelTraits::of(MODEL));
        assert_eq!(text(&answer), "word1 word2 word3");
        assert_eq!(answer.stop_reason, "max_tokens");
    }

    #[test]
    fn reasoning_models_think_first_and_pay_for_it() {
        let body = json!({ "messages": [user("Why is the sky blue? [[maxtokens]]")] });
        let answer = answer(&body, &ModelTraits::of("us.mistral.magistral-small-2509"));
        assert_eq!(
            answer.content,
            [
                Block::Reasoning("Thinking about: Why is the sky blue?".into()),
                Block::Text("You said: Why is the sky blue?".into()),
            ]
        );
        assert_eq!(answer.output_tokens, 7 + 7);
        assert_eq!(answer.stop_reason, "max_tokens");
        assert_eq!(answer.text(), "You said: Why is the sky blue?");
    }
}

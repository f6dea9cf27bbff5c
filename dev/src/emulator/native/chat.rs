//! Mistral's native chat body (`{"messages": [...], "tools": [...], ...}`): Bedrock's checks,
//! and the Converse-shaped request the scripted model reads in its place.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::checks::{Problems, type_name};
use super::user_blocks;

/// The keys of AWS's "Mistral AI chat completion" page, plus `response_format` (Mistral's own
/// chat API has it; the emulator assumes Bedrock passes it through) and the guardrail settings
/// InvokeModel takes in the body.
const KEYS: [&str; 8] =
    ["messages", "tools", "tool_choice", "max_tokens", "temperature", "top_p", "response_format", GUARDRAIL_KEY];

/// InvokeModel's in-body guardrail settings (`tagSuffix`, `streamProcessingMode`).
pub const GUARDRAIL_KEY: &str = "amazon-bedrock-guardrailConfig";

const ROLES: [&str; 4] = ["system", "user", "assistant", "tool"];

/// Bedrock's checks of a chat body, every problem found.
pub fn check(body: &Map<String, Value>, problems: &mut Problems) {
    problems.required(body, "messages");
    problems.only_keys(body, &KEYS);
    let mut call_ids = HashSet::new();
    match body.get("messages") {
        None => {}
        Some(Value::Array(messages)) if messages.is_empty() => {
            problems.add("/messages", "expected minimum item count: 1, found: 0");
        }
        Some(Value::Array(messages)) => {
            for (index, message) in messages.iter().enumerate() {
                check_message(message, &format!("/messages/{index}"), &mut call_ids, problems);
            }
        }
        Some(other) => problems.add("/messages", format!("expected type: JSONArray, found: {}", type_name(other))),
    }
    let names = check_tools(body.get("tools").unwrap_or(&Value::Null), problems);
    check_tool_choice(body.get("tool_choice").unwrap_or(&Value::Null), &names, problems);
    problems.integer(body.get("max_tokens").unwrap_or(&Value::Null), "/max_tokens", 1, None);
    problems.fraction(body.get("temperature").unwrap_or(&Value::Null), "/temperature", false);
    problems.fraction(body.get("top_p").unwrap_or(&Value::Null), "/top_p", true);
    check_response_format(body.get("response_format").unwrap_or(&Value::Null), problems);
}

fn check_message(message: &Value, path: &str, call_ids: &mut HashSet<String>, problems: &mut Problems) {
    let role = message["role"].as_str().unwrap_or_default();
    if !ROLES.contains(&role) {
        problems.add(&format!("{path}/role"), format!("{} is not a valid enum value", message["role"]));
        return;
    }
    let content = &message["content"];
    let calls = message["tool_calls"].as_array();
    let content_ok = match content {
        Value::String(_) => true,
        Value::Array(parts) => parts.iter().all(|part| part["type"] == "text" && part["text"].is_string()),
        Value::Null => role == "assistant" && calls.is_some_and(|calls| !calls.is_empty()),
        _ => false,
    };
    if !content_ok {
        problems.add(&format!("{path}/content"), "expected a string or a list of text parts");
    }
    if let Some(calls) = &message.get("tool_calls").filter(|calls| !calls.is_null()) {
        let valid = role == "assistant"
            && calls.as_array().is_some_and(|calls| {
                calls.iter().all(|call| {
                    call["id"].is_string()
                        && call["function"]["name"].is_string()
                        && call["function"]["arguments"].is_string()
                        && (call["type"].is_null() || call["type"] == "function")
                })
            });
        if !valid {
            problems
                .add(&format!("{path}/tool_calls"), "expected assistant tool calls {id, function: {name, arguments}}");
        }
        for call in calls.as_array().into_iter().flatten() {
            call_ids.extend(call["id"].as_str().map(str::to_owned));
        }
    }
    if role == "tool" {
        match message["tool_call_id"].as_str() {
            Some(id) if call_ids.contains(id) => {}
            Some(id) => problems.add(
                &format!("{path}/tool_call_id"),
                format!("{id} is not the id of a tool call of an earlier assistant message"),
            ),
            None => problems.add(path, "required key [tool_call_id] not found"),
        }
    }
}

/// Tools in the OpenAI function format; returns their names.
fn check_tools(tools: &Value, problems: &mut Problems) -> Vec<String> {
    let mut names = Vec::new();
    match tools {
        Value::Null => {}
        Value::Array(tools) => {
            for (index, tool) in tools.iter().enumerate() {
                let function = &tool["function"];
                let valid = tool["type"] == "function"
                    && function["name"].as_str().is_some_and(|name| !name.is_empty())
                    && (function["parameters"].is_null() || function["parameters"].is_object());
                if valid {
                    names.extend(function["name"].as_str().map(str::to_owned));
                } else {
                    problems.add(
                        &format!("/tools/{index}"),
                        "expected {type: function, function: {name, description?, parameters?}}",
                    );
                }
            }
        }
        other => problems.add("/tools", format!("expected type: JSONArray, found: {}", type_name(other))),
    }
    names
}

fn check_tool_choice(choice: &Value, names: &[String], problems: &mut Problems) {
    match choice {
        Value::Null => {}
        Value::String(mode) if ["auto", "any", "none"].contains(&mode.as_str()) => {}
        Value::Object(_) if choice["type"] == "function" => {
            let name = choice["function"]["name"].as_str().unwrap_or_default();
            if !names.iter().any(|known| known == name) {
                problems.add("/tool_choice", format!("the function {name} is not one of the tools"));
            }
        }
        other => {
            problems.add("/tool_choice", format!("{other} is not a valid enum value (auto, any, none) or function"))
        }
    }
}

fn check_response_format(format: &Value, problems: &mut Problems) {
    match format["type"].as_str() {
        _ if format.is_null() => {}
        Some("text" | "json_object") => {}
        Some("json_schema") if format["json_schema"]["schema"].is_object() => {}
        Some("json_schema") => problems.add("/response_format/json_schema", "required key [schema] not found"),
        _ => problems.add("/response_format/type", format!("{} is not a valid enum value", format["type"])),
    }
}

/// The Converse-shaped request of a checked chat body: system messages as `system`, tool calls
/// as `toolUse`, tool messages as `toolResult` blocks of a user message, tools as `toolConfig`
/// (left out under `tool_choice: "none"`), `response_format` as `outputConfig`.
pub fn to_converse(body: &Value) -> Value {
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        let text = text_of(&message["content"]);
        let (role, blocks) = match message["role"].as_str().unwrap_or_default() {
            "system" => {
                system.push(json!({ "text": text }));
                continue;
            }
            "assistant" => {
                let mut blocks: Vec<Value> = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({ "text": text }));
                }
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    let arguments = call["function"]["arguments"].as_str().unwrap_or("{}");
                    let input = serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}));
                    blocks.push(json!({ "toolUse": {
                        "toolUseId": call["id"], "name": call["function"]["name"], "input": input
                    } }));
                }
                ("assistant", blocks)
            }
            "tool" => {
                let result = json!({ "toolUseId": message["tool_call_id"], "content": [{ "text": text }] });
                ("user", vec![json!({ "toolResult": result })])
            }
            _ => ("user", user_blocks(&text)),
        };
        // Consecutive turns of one role are one Converse message (tool results, then the user).
        match messages.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(blocks);
                }
            }
            _ => messages.push(json!({ "role": role, "content": blocks })),
        }
    }
    let mut converse = json!({ "system": system, "messages": messages });
    let tools: Vec<Value> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tool| {
            let function = &tool["function"];
            let schema = if function["parameters"].is_object() { function["parameters"].clone() } else { json!({}) };
            let mut spec = json!({ "name": function["name"], "inputSchema": { "json": schema } });
            if function["description"].is_string() {
                spec["description"] = function["description"].clone();
            }
            json!({ "toolSpec": spec })
        })
        .collect();
    if !tools.is_empty() && body["tool_choice"] != "none" {
        let choice = match &body["tool_choice"] {
            Value::String(mode) if mode == "any" => json!({ "any": {} }),
            Value::Object(_) => json!({ "tool": { "name": body["tool_choice"]["function"]["name"] } }),
            _ => json!({ "auto": {} }),
        };
        converse["toolConfig"] = json!({ "tools": tools, "toolChoice": choice });
    }
    if let Some(max_tokens) = body["max_tokens"].as_u64() {
        converse["inferenceConfig"] = json!({ "maxTokens": max_tokens });
    }
    let format = &body["response_format"];
    // JSON mode is structured output with an object schema, as the gateway maps it for Converse.
    let object = json!({ "type": "object" });
    let schema = match format["type"].as_str() {
        Some("json_schema") => {
            Some((format["json_schema"]["name"].as_str().unwrap_or("response"), &format["json_schema"]["schema"]))
        }
        Some("json_object") => Some(("json_object", &object)),
        _ => None,
    };
    if let Some((name, schema)) = schema {
        converse["outputConfig"] = json!({ "textFormat": { "type": "json_schema",
            "structure": { "jsonSchema": { "name": name, "schema": schema.to_string() } } } });
    }
    converse
}

/// A message's content as text: the string, or its text parts joined by spaces.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|part| part["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

//! `input` (and `instructions`) → chat messages. Items map one to one where chat has the same
//! thing: `message` items by role (`developer` is `system`), `function_call` items join the
//! assistant message before them as its `tool_calls`, `function_call_output` items are `tool`
//! messages. `reasoning` items are dropped, as chat drops `reasoning_content`: the model never
//! sees its earlier reasoning. An `item_reference` needs stored items, and is refused.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::error::ApiError;

/// The chat messages of a request.
pub fn messages(input: &Value, instructions: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let mut messages: Vec<Value> =
        instructions.map(|text| json!({"role": "system", "content": text})).into_iter().collect();
    let items = match input {
        Value::String(text) => return Ok([messages, vec![json!({"role": "user", "content": text})]].concat()),
        Value::Array(items) if items.is_empty() => {
            return Err(ApiError::invalid("input", "is empty: send the conversation, at least one user message"));
        }
        Value::Array(items) => items,
        _ => return Err(ApiError::invalid("input", "must be a string or a list of input items")),
    };
    let mut calls = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("input[{i}]");
        if !item.is_object() {
            return Err(ApiError::invalid(
                path,
                "must be an input item object such as {\"role\": \"user\", \"content\": \"...\"}",
            ));
        }
        let kind = match item.get("type").and_then(Value::as_str) {
            Some(kind) => kind,
            None if item.get("role").is_some() => "message",
            None => {
                return Err(ApiError::invalid(
                    format!("{path}.type"),
                    "missing: an input item needs its `type` (or a message its `role`)",
                ));
            }
        };
        match kind {
            "message" => messages.push(message(item, &path)?),
            "function_call" => {
                let call_id = text_field(item, &path, "call_id")?;
                let name = text_field(item, &path, "name")?;
                let arguments = item.get("arguments").and_then(Value::as_str).unwrap_or("{}");
                calls.insert(call_id.to_owned());
                let call =
                    json!({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}});
                match messages.last_mut().and_then(|last| (last["role"] == "assistant").then_some(last)) {
                    Some(Value::Object(last)) => {
                        let calls = last.entry("tool_calls").or_insert_with(|| json!([]));
                        if let Value::Array(calls) = calls {
                            calls.push(call);
                        }
                    }
                    _ => messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
                }
            }
            "function_call_output" => {
                let call_id = text_field(item, &path, "call_id")?;
                if !calls.contains(call_id) {
                    return Err(ApiError::invalid(
                        format!("{path}.call_id"),
                        format!(
                            "no function_call item with call_id {call_id:?} comes before this output; send the function_call item too (the gateway keeps no state)"
                        ),
                    ));
                }
                let output = tool_output(item.get("output"), &path)?;
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
            }
            "reasoning" => {}
            "item_reference" => {
                return Err(ApiError::unsupported(
                    path,
                    "an item_reference needs stored items, and this gateway is stateless: send the item itself",
                ));
            }
            other => {
                return Err(ApiError::unsupported(
                    format!("{path}.type"),
                    format!(
                        "{other:?} items are not mapped; the gateway takes message, function_call, function_call_output and reasoning items"
                    ),
                ));
            }
        }
    }
    Ok(messages)
}

fn text_field<'a>(item: &'a Value, path: &str, field: &str) -> Result<&'a str, ApiError> {
    item.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid(format!("{path}.{field}"), "missing or not a string"))
}

/// A `message` item as a chat message.
fn message(item: &Value, path: &str) -> Result<Value, ApiError> {
    let role = match item.get("role").and_then(Value::as_str) {
        Some("developer" | "system") => "system",
        Some(role @ ("user" | "assistant")) => role,
        _ => {
            return Err(ApiError::invalid(
                format!("{path}.role"),
                "must be \"user\", \"assistant\", \"system\" or \"developer\"",
            ));
        }
    };
    let content = match item.get("content") {
        Some(Value::String(text)) => json!(text),
        Some(Value::Array(parts)) if role == "user" => Value::Array(user_parts(parts, path)?),
        Some(Value::Array(parts)) => json!(joined_text(parts, &format!("{path}.content"))?),
        _ => return Err(ApiError::invalid(format!("{path}.content"), "must be a string or a list of content parts")),
    };
    Ok(json!({"role": role, "content": content}))
}

/// A user message's parts: text and images.
fn user_parts(parts: &[Value], path: &str) -> Result<Vec<Value>, ApiError> {
    let mut chat = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{path}.content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => {
                chat.push(json!({"type": "text", "text": part.get("text").and_then(Value::as_str).unwrap_or("")}))
            }
            Some("input_image") => {
                let Some(url) = part.get("image_url").and_then(Value::as_str) else {
                    return Err(ApiError::unsupported(
                        format!("{at}.image_url"),
                        "an input_image needs `image_url` (a data: URL or an https URL); uploaded files (`file_id`) live on OpenAI's platform",
                    ));
                };
                let mut image = json!({"url": url});
                if let Some(detail) = part.get("detail").filter(|d| !d.is_null()) {
                    image["detail"] = detail.clone();
                }
                chat.push(json!({"type": "image_url", "image_url": image}));
            }
            other => return Err(unsupported_part(&at, other)),
        }
    }
    Ok(chat)
}

/// The text of an assistant's or system message's parts, joined.
fn joined_text(parts: &[Value], path: &str) -> Result<String, ApiError> {
    let mut text = String::new();
    for (j, part) in parts.iter().enumerate() {
        match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => text.push_str(part["text"].as_str().unwrap_or("")),
            Some("refusal") => text.push_str(part["refusal"].as_str().unwrap_or("")),
            other => return Err(unsupported_part(&format!("{path}[{j}]"), other)),
        }
    }
    Ok(text)
}

/// A `function_call_output`'s `output`: a string, or text parts joined.
fn tool_output(output: Option<&Value>, path: &str) -> Result<String, ApiError> {
    match output {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => joined_text(parts, &format!("{path}.output")),
        _ => Err(ApiError::invalid(format!("{path}.output"), "must be a string or a list of input_text parts")),
    }
}

fn unsupported_part(at: &str, kind: Option<&str>) -> ApiError {
    ApiError::unsupported(
        format!("{at}.type"),
        format!(
            "{} content parts are not mapped; send input_text (and, in user messages, input_image with an image_url)",
            kind.map_or_else(|| "untyped".to_owned(), |k| format!("{k:?}"))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_round_trip_becomes_an_assistant_call_and_a_tool_message() {
        let input = json!([
            {"role": "developer", "content": "Use tools."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "c2", "name": "get_time", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "noon"}]},
        ]);
        let messages = messages(&input, Some("Be brief.")).unwrap();
        let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["system", "system", "user", "assistant", "tool", "tool"]);
        assert_eq!(messages[3]["tool_calls"].as_array().unwrap().len(), 2);
        assert_eq!(messages[3]["tool_calls"][1]["id"], "c2");
        assert_eq!(messages[5], json!({"role": "tool", "tool_call_id": "c2", "content": "noon"}));
    }

    #[test]
    fn an_output_without_its_call_names_the_call_id() {
        let input = json!([{"role": "user", "content": "hi"}, {"type": "function_call_output", "call_id": "c9", "output": "x"}]);
        let error = messages(&input, None).unwrap_err();
        assert_eq!(error.param(), Some("input[1].call_id"));
    }

    #[test]
    fn images_become_image_url_parts_and_references_are_refused() {
        let input = json!([{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}]}]);
        let messages = messages(&input, None).unwrap();
        assert_eq!(messages[0]["content"][0]["image_url"]["url"], "data:image/png;base64,AAAA");
        let error = super::messages(&json!([{"type": "item_reference", "id": "msg_1"}]), None).unwrap_err();
        assert_eq!(error.param(), Some("input[0]"));
    }
}

//! How the scripted model reads the tool results of the last user message: each result with the
//! name of the tool that asked for it, rendered as `Tool results: name=<tool> -> <content>; ...`.

use serde_json::Value;

use super::{blocks_of, messages};

/// A tool result of the last user message, with the name of the tool that asked for it.
pub struct ToolResult {
    name: String,
    content: String,
    error: bool,
}

/// The tool results of the last user message, in order.
pub fn tool_results(body: &Value) -> Vec<ToolResult> {
    let messages = messages(body);
    let Some(index) = messages.iter().rposition(|m| m["role"] == "user") else {
        return Vec::new();
    };
    let calls: Vec<&Value> =
        index.checked_sub(1).map(|previous| blocks_of(&messages[previous], "toolUse")).unwrap_or_default();
    blocks_of(&messages[index], "toolResult")
        .into_iter()
        .map(|result| {
            let name = calls
                .iter()
                .find(|call| call["toolUseId"] == result["toolUseId"])
                .and_then(|call| call["name"].as_str())
                .unwrap_or("unknown")
                .to_owned();
            ToolResult { name, content: result_content(&result["content"]), error: result["status"] == "error" }
        })
        .collect()
}

/// A result's content blocks as text: text as is, `json` as compact JSON, media as a placeholder.
pub fn result_content(content: &Value) -> String {
    content
        .as_array()
        .into_iter()
        .flatten()
        .map(|block| {
            if let Some(text) = block["text"].as_str() {
                text.to_owned()
            } else if let Some(json) = block.get("json") {
                json.to_string()
            } else if block.get("image").is_some() {
                "[image]".to_owned()
            } else if block.get("document").is_some() {
                "[document]".to_owned()
            } else {
                block.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Tool results: name=<tool> -> <content>; name=<tool> -> error: <content>`.
pub fn tool_results_text(results: &[ToolResult]) -> String {
    let rendered: Vec<String> = results
        .iter()
        .map(|result| {
            let marker = if result.error { "error: " } else { "" };
            format!("name={} -> {marker}{}", result.name, result.content)
        })
        .collect();
    format!("Tool results: {}", rendered.join("; "))
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
    fn tool_results_are_reported_back() {
        let body = json!({
            "messages": [
                user("status of T1001?"),
                { "role": "assistant", "content": [
                    { "toolUse": { "toolUseId": "a", "name": "status", "input": {} } },
                    { "toolUse": { "toolUseId": "b", "name": "date", "input": {} } }
                ]},
                { "role": "user", "content": [
                    { "toolResult": { "toolUseId": "a", "content": [{ "json": { "s": "paid" } }] } },
                    { "toolResult": { "toolUseId": "b", "status": "error", "content": [{ "text": "boom" }] } }
                ]}
            ],
            "toolConfig": { "tools": [] }
        });
        let answer = answer(&body, &ModelTraits::of("mistral.mistral-large-2407-v1:0"));
        assert_eq!(
            answer.content,
            [Block::Text(r#"Tool results: name=status -> {"s":"paid"}; name=date -> error: boom"#.into())]
        );
    }
}

//! Mistral's native chat body: the conversation as chat messages (system, user, assistant with
//! `tool_calls`, tool results as `tool` messages), the tools as OpenAI-style function specs.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, OutputFormatStructure, Tool, ToolChoice, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolUseBlock,
};
use serde_json::{Map, Value, json};

use super::{Tokens, metrics, stop_reason};
use crate::bedrock::document::{to_document, to_json};
use crate::bedrock::{ModelRequest, converse_output};
use crate::error::ApiError;

pub fn body(request: &ModelRequest) -> Result<Value, ApiError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let system: Vec<&str> = request.system.iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect();
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system.join("\n")}));
    }
    for message in &request.messages {
        let mut text = Vec::new();
        let mut calls = Vec::new();
        for block in message.content() {
            match block {
                ContentBlock::Text(t) => text.push(t.as_str()),
                ContentBlock::ToolResult(result) => messages.push(tool_message(result)),
                ContentBlock::ToolUse(call) => calls.push(tool_call(call)),
                // Reasoning is not sent back; images are refused before a native call.
                _ => {}
            }
        }
        match message.role() {
            ConversationRole::Assistant => {
                let mut turn = json!({"role": "assistant", "content": text.join("\n")});
                if !calls.is_empty() {
                    turn["tool_calls"] = Value::Array(calls);
                }
                messages.push(turn);
            }
            _ if !text.is_empty() => messages.push(json!({"role": "user", "content": text.join("\n")})),
            _ => {}
        }
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if let Some(config) = &request.tool_config {
        let tools: Vec<Value> = config
            .tools()
            .iter()
            .filter_map(|tool| match tool {
                Tool::ToolSpec(spec) => Some(json!({"type": "function", "function": {
                    "name": spec.name(),
                    "description": spec.description().unwrap_or_default(),
                    "parameters": match spec.input_schema() {
                        Some(ToolInputSchema::Json(schema)) => to_json(schema),
                        _ => json!({"type": "object", "properties": {}}),
                    },
                }})),
                _ => None,
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        let choice = match config.tool_choice() {
            _ if request.tool_choice_none => json!("none"),
            Some(ToolChoice::Any(_)) => json!("any"),
            Some(ToolChoice::Tool(tool)) => json!({"type": "function", "function": {"name": tool.name()}}),
            _ => json!("auto"),
        };
        body.insert("tool_choice".into(), choice);
    }
    super::sampling(request, &mut body);
    let structure = request.output_config.as_ref().and_then(|o| o.text_format()).and_then(|f| f.structure());
    if let Some(OutputFormatStructure::JsonSchema(schema)) = structure {
        let parsed: Value = serde_json::from_str(schema.schema())
            .map_err(|e| ApiError::Internal(format!("the JSON schema does not parse ({e})")))?;
        let name = schema.name().unwrap_or("response");
        body.insert(
            "response_format".into(),
            json!({"type": "json_schema", "json_schema": {"name": name, "schema": parsed}}),
        );
    }
    Ok(Value::Object(body))
}

fn tool_message(result: &ToolResultBlock) -> Value {
    let content: Vec<String> = result
        .content()
        .iter()
        .filter_map(|c| match c {
            ToolResultContentBlock::Text(t) => Some(t.clone()),
            ToolResultContentBlock::Json(doc) => Some(to_json(doc).to_string()),
            _ => None,
        })
        .collect();
    json!({"role": "tool", "tool_call_id": result.tool_use_id(), "content": content.join(" ")})
}

fn tool_call(call: &ToolUseBlock) -> Value {
    json!({"id": call.tool_use_id(), "type": "function",
           "function": {"name": call.name(), "arguments": to_json(call.input()).to_string()}})
}

/// `{"choices": [{"message": {...}, "stop_reason": ...}], "usage": ...}` as a Converse output.
pub fn answer(body: &Value, tokens: Option<Tokens>) -> Result<ConverseOutput, ApiError> {
    let choice = &body["choices"][0];
    let message = &choice["message"];
    if !message.is_object() {
        return Err(ApiError::Upstream("Bedrock's native answer has no choices[0].message. Retry the request.".into()));
    }
    let content = blocks(message)?;
    let reason = choice["stop_reason"].as_str().or_else(|| choice["finish_reason"].as_str());
    let usage = &body["usage"];
    let tokens = tokens.or_else(|| metrics(body)).unwrap_or(Tokens {
        input: usage["prompt_tokens"].as_i64().unwrap_or(0) as i32,
        output: usage["completion_tokens"].as_i64().unwrap_or(0) as i32,
    });
    Ok(converse_output(content, stop_reason(reason, body), tokens.input, tokens.output))
}

/// The content blocks of a native `message`: its text, then its tool calls.
pub fn blocks(message: &Value) -> Result<Vec<ContentBlock>, ApiError> {
    let mut content = Vec::new();
    if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
        content.push(ContentBlock::Text(text.to_owned()));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        content.push(ContentBlock::ToolUse(native_call(call)?));
    }
    if content.is_empty() {
        content.push(ContentBlock::Text(String::new()));
    }
    Ok(content)
}

/// One native tool call (`arguments` a JSON text or an object) as a `toolUse` block.
pub fn native_call(call: &Value) -> Result<ToolUseBlock, ApiError> {
    let arguments = match &call["function"]["arguments"] {
        Value::String(text) if text.trim().is_empty() => json!({}),
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| json!({"_raw": text})),
        Value::Null => json!({}),
        other => other.clone(),
    };
    ToolUseBlock::builder()
        .tool_use_id(call["id"].as_str().unwrap_or_default())
        .name(call["function"]["name"].as_str().unwrap_or_default())
        .input(to_document(&arguments))
        .build()
        .map_err(|e| ApiError::Upstream(format!("Bedrock's native tool call is incomplete ({e}). Retry the request.")))
}

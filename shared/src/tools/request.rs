//! A `/tools/v1` request: a chat-completions request whose `tools` select registry tools.
//!
//! `tools` may list tool names (`["retrieve_payment_status"]`), full function objects whose
//! names are in the registry (their descriptions and schemas are replaced by the registry's:
//! the server runs the tool, so its definition is the one that holds), or be left out for every
//! enabled tool. The rest is the ordinary chat request, validated by [`crate::chat::parse`].

use serde_json::Value;

use super::Toolbox;
use super::registry::Entry;
use crate::api::request::ChatMessage;
use crate::bedrock::ConverseRequest;
use crate::chat;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;
use crate::model_choice;

/// A validated tool-loop request.
#[derive(Debug)]
pub struct ToolsCall<'c, 't> {
    pub model: &'c AllowedModel,
    /// The first Converse call; the loop appends the turns that follow.
    pub converse: ConverseRequest,
    /// The registry tools this request allows the model to call.
    pub tools: Vec<&'t Entry>,
}

pub fn parse<'c, 't>(config: &'c Config, toolbox: &'t Toolbox, body: &[u8]) -> Result<ToolsCall<'c, 't>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body is empty; send a JSON chat-completions request"));
    }
    let mut json: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let object = json.as_object_mut().ok_or_else(|| ApiError::bad_request("request body must be a JSON object"))?;

    let tools = select(toolbox, object.remove("tools"))?;
    if !tools.is_empty() {
        object.insert("tools".into(), Value::Array(tools.iter().map(|e| e.definition()).collect()));
    }
    if object.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::invalid(
            "stream",
            "the tool loop answers with one JSON body once every tool has run; send stream: false",
        ));
    }
    let names_model = object.get("model").and_then(Value::as_str).is_some_and(|m| !m.trim().is_empty());
    if !names_model && !tools.is_empty() && !config.default_model().capabilities.tools {
        // The deployment's default model cannot use tools; pick the best allowed model that can.
        object.insert("model".into(), Value::String(model_choice::AUTO.into()));
    }

    let body =
        serde_json::to_vec(&json).map_err(|e| ApiError::Internal(format!("cannot re-encode the request ({e})")))?;
    let call = chat::parse(config, &body)?;
    if let Some(ChatMessage::Assistant { .. }) = call.request.messages.last() {
        return Err(ApiError::invalid(
            "messages",
            "the last message must be a user or tool message: the tool loop adds the assistant's turns itself",
        ));
    }
    Ok(ToolsCall { model: call.model, converse: call.prepared.converse, tools })
}

/// The registry entries `tools` names (every entry when absent), in request order.
fn select(toolbox: &Toolbox, tools: Option<Value>) -> Result<Vec<&Entry>, ApiError> {
    let items = match tools {
        None | Some(Value::Null) => return Ok(toolbox.registry.entries().iter().collect()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid(
                "tools",
                "must be a list of tool names or function objects, or left out for every tool",
            ));
        }
    };
    let available = || toolbox.registry.names().collect::<Vec<_>>().join(", ");
    let mut chosen: Vec<&Entry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = match item {
            Value::String(name) => name.as_str(),
            Value::Object(tool) => {
                if tool.get("type").and_then(Value::as_str).is_some_and(|t| t != "function") {
                    return Err(ApiError::invalid(format!("tools[{i}].type"), "only `function` tools are supported"));
                }
                tool.get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::invalid(format!("tools[{i}]"), "a function object needs function.name"))?
            }
            _ => return Err(ApiError::invalid(format!("tools[{i}]"), "must be a tool name or a function object")),
        };
        let entry = toolbox.registry.get(name).ok_or_else(|| {
            let shown: String = name.chars().take(64).collect();
            ApiError::invalid(
                format!("tools[{i}]"),
                format!("`{shown}` is not a tool of this deployment; the available tools are: {}", available()),
            )
        })?;
        if chosen.iter().any(|e| e.name() == name) {
            return Err(ApiError::invalid(format!("tools[{i}]"), format!("`{name}` is listed twice")));
        }
        chosen.push(entry);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        Config::from_lookup(|_| None).unwrap()
    }

    fn names(call: &ToolsCall<'_, '_>) -> Vec<String> {
        call.tools.iter().map(|e| e.name().to_owned()).collect()
    }

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn tools_default_to_every_registry_tool_and_may_be_named() {
        let (config, toolbox) = (config(), Toolbox::builtin());
        let user = json!([{"role": "user", "content": "status of T1001?"}]);
        let all = parse(&config, &toolbox, &body(json!({"model": "mistral-large", "messages": user}))).unwrap();
        assert_eq!(names(&all), ["retrieve_payment_status", "retrieve_payment_date"]);
        assert_eq!(all.converse.tool_config.as_ref().unwrap().tools().len(), 2);

        let named = parse(
            &config,
            &toolbox,
            &body(json!({"model": "mistral-large", "messages": user, "tools": ["retrieve_payment_date"]})),
        )
        .unwrap();
        assert_eq!(names(&named), ["retrieve_payment_date"]);

        let object = json!({"type": "function", "function": {"name": "retrieve_payment_status", "parameters": {"type": "object"}}});
        let objects =
            parse(&config, &toolbox, &body(json!({"model": "mistral-large", "messages": user, "tools": [object]})))
                .unwrap();
        assert_eq!(names(&objects), ["retrieve_payment_status"]);
    }

    #[test]
    fn unknown_tools_streaming_and_trailing_assistant_turns_are_refused() {
        let (config, toolbox) = (config(), Toolbox::builtin());
        let user = json!([{"role": "user", "content": "hi"}]);
        let refuse = |v: Value| parse(&config, &toolbox, &body(v)).unwrap_err();
        let err = refuse(json!({"model": "mistral-large", "messages": user, "tools": ["rm_rf"]}));
        assert_eq!(err.param(), Some("tools[0]"));
        assert!(err.to_string().contains("retrieve_payment_status"), "{err}");
        let err = refuse(json!({"model": "mistral-large", "messages": user, "stream": true}));
        assert_eq!(err.param(), Some("stream"));
        let err = refuse(json!({"model": "mistral-large", "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure"}]}));
        assert_eq!(err.param(), Some("messages"));
    }

    #[test]
    fn without_a_model_a_tool_capable_one_is_chosen() {
        // Mistral 7B, the default here, has no tool use on Bedrock.
        let config = Config::from_lookup(|k| {
            (k == "BEDROCK_MODEL_IDS")
                .then(|| "mistral.mistral-7b-instruct-v0:2,mistral.mistral-large-2407-v1:0".into())
        })
        .unwrap();
        let toolbox = Toolbox::builtin();
        let user = json!([{"role": "user", "content": "hi"}]);
        let call = parse(&config, &toolbox, &body(json!({"messages": user}))).unwrap();
        assert_eq!(call.model.id, "mistral.mistral-large-2407-v1:0");
        // Without tools, the default model is kept.
        let plain = parse(&config, &toolbox, &body(json!({"messages": user, "tools": []}))).unwrap();
        assert_eq!(plain.model.id, "mistral.mistral-7b-instruct-v0:2");
        assert!(plain.converse.tool_config.is_none());
    }
}

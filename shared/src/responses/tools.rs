//! `tools` and `tool_choice`. Function tools (flat: `{"type": "function", "name", ...}`) are
//! chat function tools; a `namespace` group (Codex) is flattened into its function tools, and
//! the calls of those name their namespace again. Every other tool type is one OpenAI hosts
//! (`web_search`, `file_search`, `code_interpreter`, `image_generation`, `mcp`, ...) or a client
//! tool whose calls are not function calls (`local_shell`, `custom`, `apply_patch`, ...): the
//! gateway cannot run the first nor return the second, so they are dropped, and named in the
//! `x-dropped-tools` response header. Refusing them instead would break Codex, which always
//! sends `web_search`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::ApiError;

/// The tools of a request, as chat tools.
#[derive(Debug, Default)]
pub struct Offered {
    pub functions: Vec<Value>,
    pub dropped: Vec<String>,
    pub namespaces: BTreeMap<String, String>,
}

pub fn translate(tools: Option<&Value>) -> Result<Offered, ApiError> {
    let mut offered = Offered::default();
    let Some(tools) = tools else { return Ok(offered) };
    let Value::Array(tools) = tools else {
        return Err(ApiError::invalid("tools", "must be a list of tools"));
    };
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        match kind(tool, &path)? {
            "function" => offered.functions.push(function(tool, &path)?),
            "namespace" => {
                let namespace = tool.get("name").and_then(Value::as_str).unwrap_or_default();
                let inner = tool.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                for (j, member) in inner.iter().enumerate() {
                    let at = format!("{path}.tools[{j}]");
                    match kind(member, &at)? {
                        "function" => {
                            let chat = function(member, &at)?;
                            let name = chat["function"]["name"].as_str().unwrap_or_default().to_owned();
                            offered.namespaces.insert(name, namespace.to_owned());
                            offered.functions.push(chat);
                        }
                        other => offered.dropped.push(other.to_owned()),
                    }
                }
            }
            other => offered.dropped.push(other.to_owned()),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for tool in &offered.functions {
        let name = tool["function"]["name"].as_str().unwrap_or_default();
        if !seen.insert(name) {
            return Err(ApiError::invalid(
                "tools",
                format!(
                    "two function tools are named {name:?} (namespace groups are flattened); give them distinct names"
                ),
            ));
        }
    }
    Ok(offered)
}

fn kind<'a>(tool: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    tool.get("type").and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(format!("{path}.type"), "missing: a tool needs its `type` (\"function\" for a function tool)")
    })
}

/// A flat function tool as a chat tool.
fn function(tool: &Value, path: &str) -> Result<Value, ApiError> {
    let name = tool.get("name").and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(
            format!("{path}.name"),
            "missing: a function tool is flat here, {\"type\": \"function\", \"name\": \"...\", \"parameters\": {...}}",
        )
    })?;
    let mut function = json!({"name": name});
    for field in ["description", "parameters", "strict"] {
        if let Some(value) = tool.get(field).filter(|v| !v.is_null()) {
            function[field] = value.clone();
        }
    }
    Ok(json!({"type": "function", "function": function}))
}

/// `tool_choice` as chat's: the modes as they are, a named function nested as chat nests it.
pub fn choice(choice: &Value, offered: &Offered) -> Result<Value, ApiError> {
    match choice {
        Value::String(mode) if ["auto", "none", "required"].contains(&mode.as_str()) => Ok(choice.clone()),
        Value::Object(object) => match object.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = object.get("name").and_then(Value::as_str).ok_or_else(|| {
                    ApiError::invalid("tool_choice.name", "missing: {\"type\": \"function\", \"name\": \"...\"}")
                })?;
                Ok(json!({"type": "function", "function": {"name": name}}))
            }
            Some(kind) if offered.dropped.iter().any(|d| d == kind) => Err(ApiError::unsupported(
                "tool_choice",
                format!(
                    "{kind:?} is a tool this gateway drops (see x-dropped-tools); choose auto, none, required or a function tool"
                ),
            )),
            _ => Err(ApiError::unsupported(
                "tool_choice",
                "takes \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": \"...\"}",
            )),
        },
        _ => Err(ApiError::invalid(
            "tool_choice",
            "must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": \"...\"}",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codex_tools() -> Value {
        json!([
            {"type": "function", "name": "exec_command", "description": "Run", "strict": false,
             "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}},
            {"type": "namespace", "name": "multi_agent_v1", "description": "Agents", "tools": [
                {"type": "function", "name": "spawn_agent", "parameters": {"type": "object", "properties": {}}}]},
            {"type": "web_search", "external_web_access": false},
        ])
    }

    #[test]
    fn namespaces_are_flattened_and_hosted_tools_dropped() {
        let offered = translate(Some(&codex_tools())).unwrap();
        let names: Vec<&str> = offered.functions.iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["exec_command", "spawn_agent"]);
        assert_eq!(offered.functions[0]["function"]["parameters"]["required"], json!(["cmd"]));
        assert_eq!(offered.dropped, ["web_search"]);
        assert_eq!(offered.namespaces["spawn_agent"], "multi_agent_v1");
    }

    #[test]
    fn a_named_function_choice_is_nested_and_a_dropped_tool_choice_refused() {
        let offered = translate(Some(&codex_tools())).unwrap();
        let named = choice(&json!({"type": "function", "name": "exec_command"}), &offered).unwrap();
        assert_eq!(named, json!({"type": "function", "function": {"name": "exec_command"}}));
        let error = choice(&json!({"type": "web_search"}), &offered).unwrap_err();
        assert_eq!(error.param(), Some("tool_choice"));
        assert!(error.to_string().contains("x-dropped-tools"), "{error}");
    }

    #[test]
    fn a_nested_chat_style_function_tool_is_named_as_wrong() {
        let error = translate(Some(&json!([{"type": "function", "function": {"name": "f"}}]))).unwrap_err();
        assert_eq!(error.param(), Some("tools[0].name"));
    }
}

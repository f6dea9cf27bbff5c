//! `tools` and `tool_choice` → `toolConfig`.

use std::collections::HashSet;

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, SpecificToolChoice, Tool, ToolChoice as BedrockToolChoice, ToolConfiguration,
    ToolInputSchema, ToolSpecification,
};
use serde_json::{Value, json};

use super::internal;
use crate::api::request::{ToolChoice, ToolSpec};
use crate::catalog::NativeBody;
use crate::config::AllowedModel;
use crate::convert::document::to_document;
use crate::error::ApiError;

/// Bedrock's tool-name rule: `[a-zA-Z0-9_-]{1,64}`.
pub const MAX_TOOL_NAME: usize = 64;

pub(super) enum ToolPlan {
    Send(ToolConfiguration),
    /// `tool_choice: "none"` with the tools still defined (the native chat body only).
    SendNone(ToolConfiguration),
    Omit,
}

pub(super) fn tool_config(
    tools: Option<&[ToolSpec]>,
    choice: Option<&ToolChoice>,
    model: &AllowedModel,
) -> Result<ToolPlan, ApiError> {
    let tools = tools.unwrap_or_default();
    let mode = match choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" | "none" | "any" | "required" => Some(mode.as_str()),
            other => {
                return Err(ApiError::invalid(
                    "tool_choice",
                    format!(
                        "`{other}` is not one of auto, none, any, required, or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}"
                    ),
                ));
            }
        },
        Some(ToolChoice::Named { .. }) => None,
    };
    if tools.is_empty() {
        return match (choice, mode) {
            (None, _) | (_, Some("auto" | "none")) => Ok(ToolPlan::Omit),
            _ => Err(ApiError::invalid("tool_choice", "forces a tool call, but no `tools` were given")),
        };
    }
    let native_chat = model.native == Some(NativeBody::Chat);
    if mode == Some("none") && !native_chat {
        return Ok(ToolPlan::Omit);
    }
    if !model.capabilities.tools {
        return Err(ApiError::unsupported(
            "tools",
            format!(
                "{} does not support tool use on Bedrock; choose a model that does (see GET /v1/models, `function_calling`)",
                model.id
            ),
        ));
    }

    let mut names = HashSet::new();
    let mut specs = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let tool = match tool {
            ToolSpec::Function(def) => def,
            ToolSpec::Name(name) => {
                return Err(ApiError::invalid(
                    format!("tools[{i}]"),
                    format!(
                        "`{}` is a tool name; names select server-side tools, which only the tools base URL (/tools/v1) runs. Here send a function object {{\"type\": \"function\", \"function\": {{\"name\", \"parameters\"}}}}",
                        name.chars().take(64).collect::<String>()
                    ),
                ));
            }
        };
        if tool.kind != "function" {
            return Err(ApiError::invalid(
                format!("tools[{i}].type"),
                format!("`{}` is not supported; only `function` tools are", tool.kind),
            ));
        }
        let f = &tool.function;
        if !valid_tool_name(&f.name) {
            return Err(ApiError::invalid(
                format!("tools[{i}].function.name"),
                format!("`{}` must be 1 to {MAX_TOOL_NAME} letters, digits, `_` or `-`", f.name),
            ));
        }
        if !names.insert(f.name.as_str()) {
            return Err(ApiError::invalid(
                format!("tools[{i}].function.name"),
                format!("`{}` is defined twice", f.name),
            ));
        }
        let schema = match &f.parameters {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(schema @ Value::Object(_)) => schema.clone(),
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("tools[{i}].function.parameters"),
                    "must be a JSON schema object",
                ));
            }
        };
        let spec = ToolSpecification::builder()
            .name(&f.name)
            .set_description(f.description.clone().filter(|d| !d.trim().is_empty()))
            .input_schema(ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map_err(internal)?;
        specs.push(Tool::ToolSpec(spec));
    }

    let bedrock_choice = match (choice, mode) {
        (Some(ToolChoice::Named { function }), _) => {
            if !names.contains(function.name.as_str()) {
                return Err(ApiError::invalid(
                    "tool_choice.function.name",
                    format!("`{}` is not among `tools`", function.name),
                ));
            }
            BedrockToolChoice::Tool(SpecificToolChoice::builder().name(&function.name).build().map_err(internal)?)
        }
        (_, Some("any" | "required")) => BedrockToolChoice::Any(AnyToolChoice::builder().build()),
        _ => BedrockToolChoice::Auto(AutoToolChoice::builder().build()),
    };
    let config =
        ToolConfiguration::builder().set_tools(Some(specs)).tool_choice(bedrock_choice).build().map_err(internal)?;
    Ok(if mode == Some("none") { ToolPlan::SendNone(config) } else { ToolPlan::Send(config) })
}

pub fn valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

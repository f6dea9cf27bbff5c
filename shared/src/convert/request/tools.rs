//! `tools` and `tool_choice` → `toolConfig`, in two steps: the tool specs and the caller's choice
//! are checked once, whatever model answers ([`tool_set`]); what a model's operation can say of
//! them is decided per model ([`ToolMode::for_model`]) and built into its `toolConfig`.

use std::collections::HashSet;

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, SpecificToolChoice, Tool, ToolChoice as BedrockToolChoice, ToolConfiguration,
    ToolInputSchema, ToolSpecification,
};
use serde_json::{Value, json};

use super::internal;
use crate::api::request::{ToolChoice, ToolSpec};
use crate::bedrock::document::to_document;
use crate::catalog::NativeBody;
use crate::config::AllowedModel;
use crate::error::ApiError;

/// Bedrock's tool-name rule: `[a-zA-Z0-9_-]{1,64}`.
pub const MAX_TOOL_NAME: usize = 64;

/// The caller's tools, checked and converted, and what it asked the model to do with them.
#[derive(Debug, Clone)]
pub struct ToolSet {
    pub specs: Vec<Tool>,
    pub choice: Choice,
}

/// `tool_choice`, as far as any model can be told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Auto,
    /// `any` or `required`: some tool must be called.
    Any,
    /// This tool must be called.
    Named(String),
    /// No tool may be called, though tools are defined.
    None,
}

/// What one model's request says about the tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ToolMode {
    Send,
    /// `tool_choice: "none"` with the tools still defined (the native chat body only).
    SendNone,
    Omit,
}

impl ToolMode {
    /// What `model` can be sent of `tools`; refuses a model without tool use, and a conversation
    /// holding tool calls that the model's operation cannot be given the tools for.
    pub(super) fn for_model(
        tools: Option<&ToolSet>,
        has_tool_blocks: bool,
        model: &AllowedModel,
    ) -> Result<ToolMode, ApiError> {
        let native_chat = model.native == Some(NativeBody::Chat);
        let mode = match tools {
            None => ToolMode::Omit,
            Some(set) if set.choice == Choice::None && native_chat => ToolMode::SendNone,
            Some(set) if set.choice == Choice::None => ToolMode::Omit,
            Some(_) => ToolMode::Send,
        };
        if mode != ToolMode::Omit && !model.capabilities.tools {
            return Err(ApiError::unsupported(
                "tools",
                format!(
                    "{} does not support tool use on Bedrock; choose a model that does (see GET /v1/models, `function_calling`)",
                    model.id
                ),
            ));
        }
        if mode == ToolMode::Omit && has_tool_blocks {
            return Err(ApiError::invalid(
                "tools",
                "the conversation holds tool calls, so Bedrock needs the tool definitions: send `tools` with every request of a tool conversation (and not tool_choice \"none\", which Converse cannot express; Mistral's native API can: BEDROCK_INVOKE_MODELS)",
            ));
        }
        Ok(mode)
    }
}

impl ToolSet {
    /// The names of the tools, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.iter().filter_map(|tool| tool.as_tool_spec().ok()).map(|spec| spec.name())
    }
}

/// The tools of a request answered through the output tool: the caller's tools, if it may call
/// them, and the output tool, with some tool call required (the model answers by calling the
/// output tool, or calls the caller's tools first). A named tool choice stays: the turn it
/// applies to is a tool call anyway.
pub(super) fn with_output_tool(callers: Option<&ToolSet>, output: Tool) -> ToolSet {
    let (mut specs, choice) = match callers {
        Some(set) if set.choice != Choice::None => {
            let choice = if let Choice::Named(_) = set.choice { set.choice.clone() } else { Choice::Any };
            (set.specs.clone(), choice)
        }
        _ => (Vec::new(), Choice::Any),
    };
    specs.push(output);
    ToolSet { specs, choice }
}

/// The `toolConfig` of a request whose mode is not [`ToolMode::Omit`].
pub(super) fn tool_configuration(set: &ToolSet) -> Result<ToolConfiguration, ApiError> {
    let choice = match &set.choice {
        Choice::Named(name) => {
            BedrockToolChoice::Tool(SpecificToolChoice::builder().name(name).build().map_err(internal)?)
        }
        Choice::Any => BedrockToolChoice::Any(AnyToolChoice::builder().build()),
        Choice::Auto | Choice::None => BedrockToolChoice::Auto(AutoToolChoice::builder().build()),
    };
    ToolConfiguration::builder().set_tools(Some(set.specs.clone())).tool_choice(choice).build().map_err(internal)
}

/// Checks `tools` and `tool_choice`; `None` when the request defines no tools.
pub(super) fn tool_set(tools: Option<&[ToolSpec]>, choice: Option<&ToolChoice>) -> Result<Option<ToolSet>, ApiError> {
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
            (None, _) | (_, Some("auto" | "none")) => Ok(None),
            _ => Err(ApiError::invalid("tool_choice", "forces a tool call, but no `tools` were given")),
        };
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

    let choice = match (choice, mode) {
        (Some(ToolChoice::Named { function }), _) => {
            if !names.contains(function.name.as_str()) {
                return Err(ApiError::invalid(
                    "tool_choice.function.name",
                    format!("`{}` is not among `tools`", function.name),
                ));
            }
            Choice::Named(function.name.clone())
        }
        (_, Some("any" | "required")) => Choice::Any,
        (_, Some("none")) => Choice::None,
        _ => Choice::Auto,
    };
    Ok(Some(ToolSet { specs, choice }))
}

pub fn valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

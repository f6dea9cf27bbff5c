//! `response_format` → Converse structured output (`outputConfig.textFormat`), or, for models
//! without it, the JSON instruction (`json_object`) or the output tool (`json_schema`), decided
//! per model.

use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType, Tool, ToolInputSchema,
    ToolSpecification,
};
use serde_json::{Value, json};

use super::internal;
use super::tools::valid_tool_name;
use crate::api::request::{JsonSchemaFormat, ResponseFormat};
use crate::bedrock::document::to_document;
use crate::config::AllowedModel;
use crate::error::ApiError;

/// How one model is asked for the requested format.
#[derive(Debug, Clone)]
pub(super) enum Output {
    /// Plain text: nothing to ask.
    Plain,
    /// Native structured output.
    Native(OutputConfig),
    /// No native JSON mode: the JSON instruction joins the system prompt (documented in README
    /// as best effort, rather than pretending to enforce it).
    Instruction,
    /// No native JSON-schema output, but tool use: one forced tool whose input schema is the
    /// caller's schema; its call is the answer (`bedrock::output_tool` turns it back into text,
    /// and under `cascade` the text is checked against the schema like a native answer).
    Tool(OutputTool),
}

/// The tool a `json_schema` answer is asked for through.
#[derive(Debug, Clone)]
pub(super) struct OutputTool {
    pub name: String,
    pub spec: Tool,
}

/// The output tool's name when the schema's own name cannot be used (not a valid tool name, or
/// one of the caller's tools is called so).
pub const OUTPUT_TOOL_NAME: &str = "json_answer";

/// How the output tool's description starts (the emulator recognises the tool by it).
pub const OUTPUT_TOOL_DESCRIPTION: &str = "Give your final answer by calling this tool";

/// Refuses what no model could honour: a `json_schema` format without a schema object.
pub(super) fn check(format: Option<&ResponseFormat>) -> Result<(), ApiError> {
    if let Some(ResponseFormat::JsonSchema { json_schema }) = format
        && !json_schema.schema.as_ref().is_some_and(Value::is_object)
    {
        return Err(ApiError::invalid("response_format.json_schema.schema", "a JSON schema object is required"));
    }
    Ok(())
}

/// How `model` is asked for `format`, or why it cannot be; `taken` says whether a tool name is
/// already one of the caller's.
pub(super) fn output_for(
    format: Option<&ResponseFormat>,
    model: &AllowedModel,
    taken: impl Fn(&str) -> bool,
) -> Result<Output, ApiError> {
    let output = match format {
        None | Some(ResponseFormat::Text) => Output::Plain,
        Some(ResponseFormat::JsonObject) if model.capabilities.json_schema => {
            Output::Native(json_schema_output("json_object", None, &json!({"type": "object"}))?)
        }
        Some(ResponseFormat::JsonObject) if model.capabilities.system_prompt => Output::Instruction,
        Some(ResponseFormat::JsonObject) => {
            return Err(ApiError::unsupported(
                "response_format",
                format!(
                    "{} supports neither structured output nor a system prompt on Bedrock, so JSON mode cannot be honoured; choose another model",
                    model.id
                ),
            ));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let Some(schema) = json_schema.schema.as_ref().filter(|s| s.is_object()) else {
                return Err(ApiError::invalid(
                    "response_format.json_schema.schema",
                    "a JSON schema object is required",
                ));
            };
            if !model.capabilities.json_schema && model.capabilities.tools {
                Output::Tool(output_tool(json_schema, schema, taken)?)
            } else if !model.capabilities.json_schema {
                return Err(ApiError::unsupported(
                    "response_format",
                    format!(
                        "{} has neither native JSON-schema output nor tool use on Bedrock, so a JSON schema cannot be asked of it; use a model that has either (see GET /v1/models, `json_schema` and `function_calling`), or response_format json_object",
                        model.id
                    ),
                ));
            } else {
                let name = json_schema.name.as_deref().unwrap_or("response");
                Output::Native(json_schema_output(name, json_schema.description.clone(), schema)?)
            }
        }
    };
    Ok(output)
}

/// The forced tool of a `json_schema` answer: named after the schema when that is a free tool
/// name, described so that the model knows its call is the answer.
fn output_tool(
    format: &JsonSchemaFormat,
    schema: &Value,
    taken: impl Fn(&str) -> bool,
) -> Result<OutputTool, ApiError> {
    let name = format
        .name
        .as_deref()
        .filter(|name| valid_tool_name(name) && !taken(name))
        .unwrap_or(OUTPUT_TOOL_NAME)
        .to_owned();
    let description = match format.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(what) => format!("{OUTPUT_TOOL_DESCRIPTION}: its input is the answer ({what})."),
        None => format!("{OUTPUT_TOOL_DESCRIPTION}: its input is the answer."),
    };
    let spec = ToolSpecification::builder()
        .name(&name)
        .description(description)
        .input_schema(ToolInputSchema::Json(to_document(schema)))
        .build()
        .map_err(internal)?;
    Ok(OutputTool { name, spec: Tool::ToolSpec(spec) })
}

pub(super) fn json_schema_output(
    name: &str,
    description: Option<String>,
    schema: &Value,
) -> Result<OutputConfig, ApiError> {
    let definition = JsonSchemaDefinition::builder()
        .schema(schema.to_string())
        .name(name)
        .set_description(description)
        .build()
        .map_err(internal)?;
    let format = OutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(definition))
        .build()
        .map_err(internal)?;
    Ok(OutputConfig::builder().text_format(format).build())
}

//! `response_format` → Converse structured output (`outputConfig.textFormat`), or the JSON
//! instruction for models without it, decided per model.

use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType,
};
use serde_json::{Value, json};

use super::internal;
use crate::api::request::ResponseFormat;
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
}

/// Refuses what no model could honour: a `json_schema` format without a schema object.
pub(super) fn check(format: Option<&ResponseFormat>) -> Result<(), ApiError> {
    if let Some(ResponseFormat::JsonSchema { json_schema }) = format
        && !json_schema.schema.as_ref().is_some_and(Value::is_object)
    {
        return Err(ApiError::invalid("response_format.json_schema.schema", "a JSON schema object is required"));
    }
    Ok(())
}

/// How `model` is asked for `format`, or why it cannot be.
pub(super) fn output_for(format: Option<&ResponseFormat>, model: &AllowedModel) -> Result<Output, ApiError> {
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
            if !model.capabilities.json_schema {
                return Err(ApiError::unsupported(
                    "response_format",
                    format!(
                        "{} has no native JSON-schema output on Bedrock; use a model that has (see GET /v1/models, `json_schema`), or response_format json_object",
                        model.id
                    ),
                ));
            }
            let name = json_schema.name.as_deref().unwrap_or("response");
            Output::Native(json_schema_output(name, json_schema.description.clone(), schema)?)
        }
    };
    Ok(output)
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

//! `response_format` → Converse structured output (`outputConfig.textFormat`), or the JSON
//! instruction for models without it.

use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType, SystemContentBlock,
};
use serde_json::{Value, json};

use super::{JSON_OBJECT_INSTRUCTION, internal};
use crate::api::request::ResponseFormat;
use crate::config::AllowedModel;
use crate::error::ApiError;

/// The output configuration for `format`; may add the JSON instruction to `system`.
pub(super) fn output_config(
    format: Option<&ResponseFormat>,
    model: &AllowedModel,
    system: &mut Vec<SystemContentBlock>,
) -> Result<Option<OutputConfig>, ApiError> {
    let config = match format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) if model.capabilities.json_schema => {
            Some(json_schema_output("json_object", None, &json!({"type": "object"}))?)
        }
        Some(ResponseFormat::JsonObject) if model.capabilities.system_prompt => {
            // No native JSON mode on this model: ask for it in the system prompt (documented as
            // best effort in README), rather than pretending to enforce it.
            system.push(SystemContentBlock::Text(JSON_OBJECT_INSTRUCTION.into()));
            None
        }
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
            Some(json_schema_output(name, json_schema.description.clone(), schema)?)
        }
    };
    Ok(config)
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

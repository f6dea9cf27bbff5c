//! The request's settings, as Bedrock checks them: inference parameters in range, tool
//! definitions and tool choice, the JSON schema of structured output, and structured output
//! only for a model that has it.

use std::collections::HashSet;

use serde_json::Value;

use super::{constraint, invalid};
use crate::emulator::faults::BedrockError;
use crate::emulator::models::ModelTraits;

/// What Bedrock answers (`400 ValidationException`) when `outputConfig` goes to a model without
/// native structured output. The wording is assumed: no recording or public report of the real
/// message was found; it follows the service's "what is wrong. What to do and try again." style.
pub const NO_STRUCTURED_OUTPUT: &str = "This model doesn't support the outputConfig field. Remove it and try again.";

pub(super) fn inference_config(config: &Value) -> Result<(), BedrockError> {
    for field in ["temperature", "topP"] {
        let value = &config[field];
        if value.is_null() {
            continue;
        }
        let path = format!("inferenceConfig.{field}");
        match value.as_f64() {
            None => return constraint(value, &path, "be a number"),
            Some(number) if number < 0.0 => {
                return constraint(value, &path, "have value greater than or equal to 0");
            }
            Some(number) if number > 1.0 => {
                return constraint(value, &path, "have value less than or equal to 1");
            }
            Some(_) => {}
        }
    }
    let max_tokens = &config["maxTokens"];
    if !max_tokens.is_null() && max_tokens.as_i64().is_none_or(|n| n < 1) {
        return constraint(max_tokens, "inferenceConfig.maxTokens", "have value greater than or equal to 1");
    }
    Ok(())
}

pub(super) fn tool_config(body: &Value) -> Result<(), BedrockError> {
    let config = &body["toolConfig"];
    if config.is_null() {
        return Ok(());
    }
    let tools = config["tools"].as_array().map_or(&[][..], Vec::as_slice);
    let choice = &config["toolChoice"];
    if tools.is_empty() {
        if !choice.is_null() {
            return invalid("toolConfig.toolChoice can only be set when toolConfig.tools lists at least one tool.");
        }
        return constraint(&config["tools"], "toolConfig.tools", "have length greater than or equal to 1");
    }
    let mut names = HashSet::new();
    for (index, tool) in tools.iter().enumerate() {
        let spec = &tool["toolSpec"];
        let name = spec["name"].as_str().unwrap_or_default();
        let valid_name =
            (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_name {
            return constraint(
                &spec["name"],
                &format!("toolConfig.tools.{index}.member.toolSpec.name"),
                "satisfy regular expression pattern: [a-zA-Z0-9_-]+",
            );
        }
        if !spec["inputSchema"]["json"].is_object() {
            return invalid(format!(
                "The inputSchema of tool {name} must hold a JSON schema object in its json field."
            ));
        }
        if !names.insert(name) {
            return invalid(format!(
                "The toolConfig field contains duplicate tool names: {name}. Give each tool a unique name."
            ));
        }
    }
    if let Some(forced) = choice.get("tool") {
        let name = forced["name"].as_str().unwrap_or_default();
        if !names.contains(name) {
            return invalid(format!(
                "The tool {name} named in toolConfig.toolChoice is not defined in toolConfig.tools."
            ));
        }
    }
    Ok(())
}

pub(super) fn output_config(config: &Value) -> Result<(), BedrockError> {
    let format = &config["textFormat"];
    if format["type"] != "json_schema" {
        return Ok(());
    }
    let schema = &format["structure"]["jsonSchema"]["schema"];
    let parsed = schema.as_str().and_then(|text| serde_json::from_str::<Value>(text).ok());
    if parsed.as_ref().is_some_and(Value::is_object) {
        Ok(())
    } else {
        invalid("outputConfig.textFormat.structure.jsonSchema.schema must be a string holding a JSON schema object.")
    }
}

/// Any `outputConfig`, to a model whose catalog entry has no `json_schema` (or that the catalog
/// does not know), is refused.
pub(super) fn structured_output(config: &Value, model: &ModelTraits) -> Result<(), BedrockError> {
    if config.is_null() || model.structured_output { Ok(()) } else { invalid(NO_STRUCTURED_OUTPUT) }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::emulator::faults::ErrorKind;
    use crate::emulator::models::ModelTraits;
    use crate::emulator::validate::{NO_STRUCTURED_OUTPUT, for_model, request};

    fn message_of(body: Value) -> String {
        request(&body).unwrap_err().message
    }

    #[test]
    fn inference_settings_are_range_checked() {
        let user = json!([{ "role": "user", "content": [{ "text": "hi" }] }]);
        for config in [
            json!({ "temperature": 1.5 }),
            json!({ "temperature": -0.1 }),
            json!({ "topP": 2 }),
            json!({ "maxTokens": 0 }),
        ] {
            assert!(
                message_of(json!({ "messages": user, "inferenceConfig": config }))
                    .starts_with("1 validation error detected"),
                "{config}"
            );
        }
        assert!(
            request(&json!({ "messages": user, "inferenceConfig": { "temperature": 0.0, "topP": 1, "maxTokens": 1 } }))
                .is_ok()
        );
    }

    #[test]
    fn tool_choice_needs_tools_and_schemas_need_strings() {
        let user = json!([{ "role": "user", "content": [{ "text": "hi" }] }]);
        assert!(
            message_of(json!({ "messages": user, "toolConfig": { "toolChoice": { "any": {} } } }))
                .contains("toolChoice")
        );
        let format = |schema: Value| json!({ "textFormat": { "type": "json_schema", "structure": { "jsonSchema": { "name": "x", "schema": schema } } } });
        assert!(request(&json!({ "messages": user, "outputConfig": format(json!({ "type": "object" })) })).is_err());
        assert!(request(&json!({ "messages": user, "outputConfig": format(json!("{\"type\":\"object\"}")) })).is_ok());
    }

    #[test]
    fn structured_output_goes_only_to_models_that_have_it() {
        let user = json!([{ "role": "user", "content": [{ "text": "hi" }] }]);
        let schema = json!({ "type": "json_schema", "structure": { "jsonSchema": { "name": "x", "schema": "{}" } } });
        let asked = json!({ "messages": user, "outputConfig": { "textFormat": schema } });
        for model in [
            "mistral.mistral-large-2407-v1:0",
            "us.mistral.pixtral-large-2502-v1:0",
            "mistral.mistral-small-2402-v1:0",
            "mistral.brand-new-model-v1:0",
        ] {
            let refused = for_model(&asked, &ModelTraits::of(model)).unwrap_err();
            assert_eq!(
                (refused.kind, refused.message.as_str()),
                (ErrorKind::Validation, NO_STRUCTURED_OUTPUT),
                "{model}"
            );
        }
        for model in ["mistral.ministral-3-3b-instruct", "mistral.mistral-large-3-675b-instruct"] {
            assert!(for_model(&asked, &ModelTraits::of(model)).is_ok(), "{model}");
        }
        let plain = json!({ "messages": user });
        assert!(for_model(&plain, &ModelTraits::of("mistral.mistral-large-2407-v1:0")).is_ok());
    }
}

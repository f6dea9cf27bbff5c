//! The checks Bedrock makes before a model sees a request: the model identifier, then the
//! conversation's shape and the inference and tool settings, with the service's messages.

use std::collections::HashSet;

use serde_json::Value;

use super::faults::BedrockError;

/// What the real service answers for an identifier it does not know (see the fixture
/// `test_bedrock_error.yaml`).
pub const INVALID_MODEL_ID: &str = "The provided model identifier is invalid.";

const START_WITH_USER: &str =
    "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
const ALTERNATE_ROLES: &str = "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";

/// Accepts Mistral model and inference-profile IDs (`mistral.mistral-large-2402-v1:0`,
/// `us.mistral.pixtral-large-2502-v1:0`) and ARNs ending in one; returns the bare ID.
pub fn model_id(raw: &str) -> Result<&str, BedrockError> {
    let id = if raw.starts_with("arn:") { raw.rsplit_once('/').map_or("", |(_, id)| id) } else { raw };
    if is_mistral_id(id) { Ok(id) } else { Err(BedrockError::validation(INVALID_MODEL_ID)) }
}

/// `^(?:(us|eu|apac|global)\.)?mistral\.[a-z0-9.\-]+(:\d+)?$`
fn is_mistral_id(id: &str) -> bool {
    let id = ["us.", "eu.", "apac.", "global."].iter().find_map(|prefix| id.strip_prefix(prefix)).unwrap_or(id);
    let Some(rest) = id.strip_prefix("mistral.") else {
        return false;
    };
    let name = match rest.split_once(':') {
        Some((name, version)) => {
            if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            name
        }
        None => rest,
    };
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Validates a Converse / ConverseStream request body.
pub fn request(body: &Value) -> Result<(), BedrockError> {
    if !body.is_object() {
        return Err(BedrockError::validation("The request body must be a JSON object."));
    }
    messages(body)?;
    inference_config(&body["inferenceConfig"])?;
    tool_config(body)?;
    output_config(&body["outputConfig"])
}

fn invalid(message: impl Into<String>) -> Result<(), BedrockError> {
    Err(BedrockError::validation(message))
}

/// The smithy constraint message Bedrock uses for out-of-range members.
fn constraint(value: &Value, path: &str, rule: &str) -> Result<(), BedrockError> {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
    ))
}

fn blocks<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"].as_array().into_iter().flatten().filter_map(|block| block.get(kind)).collect()
}

fn tool_use_ids(message: &Value, kind: &str) -> Vec<String> {
    blocks(message, kind).into_iter().map(|block| block["toolUseId"].as_str().unwrap_or_default().to_owned()).collect()
}

fn messages(body: &Value) -> Result<(), BedrockError> {
    let messages = match &body["messages"] {
        Value::Null => {
            return constraint(&Value::Null, "messages", "not be null");
        }
        Value::Array(messages) => messages,
        _ => return invalid("The messages field must be a list of Message objects."),
    };
    if messages.is_empty() {
        return invalid(START_WITH_USER);
    }
    let mut uses_tools = false;
    for (index, message) in messages.iter().enumerate() {
        let role = &message["role"];
        if role != "user" && role != "assistant" {
            return constraint(
                role,
                &format!("messages.{index}.member.role"),
                "satisfy enum value set: [user, assistant]",
            );
        }
        if message["content"].as_array().is_none_or(Vec::is_empty) {
            return invalid(format!(
                "The content field in the Message object at messages.{index} is empty. Add a ContentBlock object to the content field and try again."
            ));
        }
        if index == 0 && role != "user" {
            return invalid(START_WITH_USER);
        }
        if index > 0 && messages[index - 1]["role"] == *role {
            return invalid(ALTERNATE_ROLES);
        }

        let results = tool_use_ids(message, "toolResult");
        let calls = tool_use_ids(message, "toolUse");
        uses_tools |= !results.is_empty() || !calls.is_empty();
        if role == "assistant" && !results.is_empty() {
            return invalid(format!(
                "messages.{index}.content holds a toolResult block, but only user messages can carry tool results."
            ));
        }
        if role == "user" && !calls.is_empty() {
            return invalid(format!(
                "messages.{index}.content holds a toolUse block, but only assistant messages can carry tool calls."
            ));
        }
        if role == "user" {
            let asked =
                index.checked_sub(1).map(|previous| tool_use_ids(&messages[previous], "toolUse")).unwrap_or_default();
            if let Some(unknown) = results.iter().find(|id| !asked.contains(*id)) {
                return invalid(format!(
                    "The toolUseId {unknown} of the toolResult at messages.{index}.content does not match any toolUse block of the previous assistant turn. Send one toolResult per toolUse of the previous turn."
                ));
            }
            let missing: Vec<&str> = asked.iter().filter(|id| !results.contains(*id)).map(String::as_str).collect();
            if !missing.is_empty() {
                return invalid(format!(
                    "Expected toolResult blocks at messages.{index}.content for the following Ids: {}",
                    missing.join(", ")
                ));
            }
        }
    }
    if uses_tools && body["toolConfig"].is_null() {
        return invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.");
    }
    Ok(())
}

fn inference_config(config: &Value) -> Result<(), BedrockError> {
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

fn tool_config(body: &Value) -> Result<(), BedrockError> {
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

fn output_config(config: &Value) -> Result<(), BedrockError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_of(body: Value) -> String {
        request(&body).unwrap_err().message
    }

    #[test]
    fn accepts_mistral_ids_profiles_and_arns() {
        for id in [
            "mistral.mistral-large-2402-v1:0",
            "us.mistral.pixtral-large-2502-v1:0",
            "mistral.mistral-large-3-675b-instruct",
            "global.mistral.x",
        ] {
            assert_eq!(model_id(id), Ok(id), "{id}");
        }
        assert_eq!(
            model_id("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.mistral.pixtral-large-2502-v1:0"),
            Ok("eu.mistral.pixtral-large-2502-v1:0")
        );
    }

    #[test]
    fn rejects_other_ids() {
        for id in [
            "us.does-not-exist-model-v1:0",
            "anthropic.claude-v2",
            "mistral.",
            "mistral.Large",
            "mistral.large:",
            "xx.mistral.large",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
        ] {
            assert_eq!(model_id(id).unwrap_err().message, INVALID_MODEL_ID, "{id}");
        }
    }

    #[test]
    fn conversations_must_start_with_user_and_alternate() {
        let assistant = json!({ "role": "assistant", "content": [{ "text": "hi" }] });
        let user = json!({ "role": "user", "content": [{ "text": "hi" }] });
        assert_eq!(message_of(json!({ "messages": [assistant] })), START_WITH_USER);
        assert_eq!(message_of(json!({ "messages": [] })), START_WITH_USER);
        assert_eq!(message_of(json!({ "messages": [user, user] })), ALTERNATE_ROLES);
        assert!(message_of(json!({ "messages": [{ "role": "user", "content": [] }] })).contains("messages.0 is empty"));
    }

    #[test]
    fn tool_results_must_answer_the_previous_calls() {
        let call = json!({ "role": "assistant", "content": [
            { "toolUse": { "toolUseId": "tooluse_a", "name": "x", "input": {} } }
        ]});
        let tools = json!({ "tools": [{ "toolSpec": { "name": "x", "inputSchema": { "json": {} } } }] });
        let first = json!({ "role": "user", "content": [{ "text": "go" }] });
        let wrong = json!({ "role": "user", "content": [
            { "toolResult": { "toolUseId": "tooluse_b", "content": [{ "text": "1" }] } }
        ]});
        let text = json!({ "role": "user", "content": [{ "text": "next" }] });
        let right = json!({ "role": "user", "content": [
            { "toolResult": { "toolUseId": "tooluse_a", "content": [{ "text": "1" }] } }
        ]});
        assert!(message_of(json!({ "messages": [first, call, wrong], "toolConfig": tools })).contains("tooluse_b"));
        assert_eq!(
            message_of(json!({ "messages": [first, call, text], "toolConfig": tools })),
            "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_a"
        );
        assert!(message_of(json!({ "messages": [first, call, right] })).contains("toolConfig"));
        assert!(request(&json!({ "messages": [first, call, right], "toolConfig": tools })).is_ok());
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
}

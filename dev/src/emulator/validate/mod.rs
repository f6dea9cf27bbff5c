//! The checks Bedrock makes before a model sees a request: the model identifier, then the
//! conversation's shape and the inference and tool settings, with the service's messages.

mod conversation;
mod settings;

use serde_json::Value;

use super::faults::BedrockError;

/// What the real service answers for an identifier it does not know (see the fixture
/// `test_bedrock_error.yaml`).
pub const INVALID_MODEL_ID: &str = "The provided model identifier is invalid.";

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
    conversation::messages(body)?;
    settings::inference_config(&body["inferenceConfig"])?;
    settings::tool_config(body)?;
    settings::output_config(&body["outputConfig"])
}

pub(crate) fn invalid(message: impl Into<String>) -> Result<(), BedrockError> {
    Err(BedrockError::validation(message))
}

/// The smithy constraint message Bedrock uses for out-of-range members.
pub(crate) fn constraint(value: &Value, path: &str, rule: &str) -> Result<(), BedrockError> {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

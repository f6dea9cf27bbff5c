//! The checks Bedrock makes before a model sees a Converse request: the conversation's shape,
//! then the inference and tool settings, then what the named model does not take, with the
//! service's messages (the model identifier is checked in [`super::models`]).

mod conversation;
mod settings;

use serde_json::Value;

use super::faults::BedrockError;
use super::models::ModelTraits;

pub use super::models::{INVALID_MODEL_ID, model_id};
pub use settings::NO_STRUCTURED_OUTPUT;

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

/// Validates what a Converse / ConverseStream request asks of the model it names (resolved:
/// profiles and application inference profiles stand for their foundation model), once
/// [`request`] has passed: `outputConfig` only for a model with native structured output.
pub fn for_model(body: &Value, model: &ModelTraits) -> Result<(), BedrockError> {
    settings::structured_output(&body["outputConfig"], model)
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

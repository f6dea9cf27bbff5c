//! Chat-completions request → Converse input.
//!
//! Everything Bedrock would reject, and everything the chosen model cannot do, is refused here
//! with a 400 that names the field, before any Bedrock call: the caller learns what to change,
//! and a bad request costs no tokens. Nothing a caller sends is silently dropped. One file per
//! part of the request: [`params`], [`tools`], [`messages`], [`output_format`].

mod messages;
mod output_format;
mod params;
mod tools;

use crate::api::request::ChatRequest;
use crate::bedrock::ModelRequest;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

pub use messages::parse_arguments;
pub use tools::{MAX_TOOL_NAME, valid_tool_name};

/// Instruction used for `json_object` on models without native structured output (the emulator
/// recognises it as a JSON request).
pub const JSON_OBJECT_INSTRUCTION: &str = "Reply with a single valid JSON object and nothing else.";

/// A request ready for Bedrock, plus what the route needs to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: ModelRequest,
    pub stream: bool,
}

/// Validates `req` for `model` and builds the Converse input.
pub fn prepare(req: &ChatRequest, model: &AllowedModel, config: &Config) -> Result<Prepared, ApiError> {
    params::refuse_unsupported_fields(req)?;
    params::refuse_reasoning_budget(req, model)?;
    let inference = params::inference_config(req, model, config)?;
    let tools = tools::tool_config(req.tools.as_deref(), req.tool_choice.as_ref(), model)?;
    let messages::Conversation { mut system, messages, has_tool_blocks } =
        messages::conversation(&req.messages, model, config)?;

    let (tool_config, tool_choice_none) = match tools {
        tools::ToolPlan::Send(config) => (Some(config), false),
        tools::ToolPlan::SendNone(config) => (Some(config), true),
        tools::ToolPlan::Omit if has_tool_blocks => {
            return Err(ApiError::invalid(
                "tools",
                "the conversation holds tool calls, so Bedrock needs the tool definitions: send `tools` with every request of a tool conversation (and not tool_choice \"none\", which Converse cannot express; Mistral's native API can: BEDROCK_INVOKE_MODELS)",
            ));
        }
        tools::ToolPlan::Omit => (None, false),
    };

    let output_config = output_format::output_config(req.response_format.as_ref(), model, &mut system)?;

    Ok(Prepared {
        request: ModelRequest {
            model_id: model.id.clone(),
            messages,
            system,
            inference,
            tool_config,
            output_config,
            native: model.native,
            tool_choice_none,
        },
        stream: req.stream.unwrap_or(false),
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("could not build the Bedrock request: {e}"))
}

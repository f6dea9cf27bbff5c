//! The chat use case shared by every route: pick the model, convert, call, answer.

use crate::api::request::ChatRequest;
use crate::api::response::ChatCompletion;
use crate::bedrock::Bedrock;
use crate::config::{AllowedModel, Config};
use crate::convert::response::{Envelope, completion_from_converse};
use crate::convert::{Prepared, prepare};
use crate::error::ApiError;
use crate::model_choice;

/// A validated request, ready to send: which model, and the Bedrock input.
#[derive(Debug, Clone)]
pub struct ChatCall<'c> {
    pub model: &'c AllowedModel,
    pub prepared: Prepared,
    /// Caller's request, kept for the tool loop (which tools it allows).
    pub request: ChatRequest,
}

/// Chooses the model and validates the request for it; no Bedrock call happens here.
pub fn prepare_call(config: &Config, request: ChatRequest) -> Result<ChatCall<'_>, ApiError> {
    let model = model_choice::resolve(config, &request)?;
    let prepared = prepare(&request, model, config)?;
    Ok(ChatCall { model, prepared, request })
}

/// One model call, answered as a `chat.completion`.
pub async fn complete(bedrock: &dyn Bedrock, call: ChatCall<'_>) -> Result<ChatCompletion, ApiError> {
    let output = bedrock.complete(call.prepared.request).await?;
    Ok(completion_from_converse(&output, Envelope::new(&call.model.id), call.model.price.as_ref()))
}

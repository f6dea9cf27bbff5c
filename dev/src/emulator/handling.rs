//! The steps every operation's handler shares, so Converse and InvokeModel cannot drift apart:
//! the call as the router hands it over (its model resolved on demand), the body read as JSON,
//! and, once the handler's own checks have passed, the fault and timing directives, the scripted
//! answer and the configured guardrail's assessment of it.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::Value;

use super::faults::{self, BedrockError, ErrorKind};
use super::guardrail::Guardrail;
use super::models::{self, ModelTraits};
use super::script::{self, Answer, Controls};
use super::server::{Operation, Shared};

/// One call to an operation, as the router received it.
pub(crate) struct Call<'a> {
    pub(crate) shared: &'a Shared,
    /// The path's model id, percent-decoded, not yet resolved.
    pub(crate) model_id: &'a str,
    pub(crate) operation: Operation,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) raw: &'a [u8],
    pub(crate) started: Instant,
}

impl Call<'_> {
    /// The model the path names: a registered application inference profile stands for its
    /// model; anything else must be a Mistral id, profile or ARN.
    pub(crate) fn model(&self) -> Result<ModelTraits, BedrockError> {
        models::resolve(self.model_id, &self.shared.profiles)
    }

    /// The scripted model's answer to a request that passed its checks (`body` in Converse's
    /// shape): `[[slow:MS]]`, then the fault that applies, then the answer, which `guardrail`
    /// assesses when one is configured. The controls are returned for the stream directives.
    pub(crate) async fn answer(
        &self,
        body: &Value,
        model: &ModelTraits,
        guardrail: Option<&Guardrail>,
    ) -> Result<(Answer, Controls), BedrockError> {
        let controls = script::controls(body, model);
        if let Some(ms) = controls.slow_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let fault = match controls.fault.as_deref() {
            Some("throttle_once") if self.shared.throttle_once.first_time(self.raw) => Some(ErrorKind::Throttling),
            Some(fault) => faults::fault_kind(fault),
            None => None,
        };
        if let Some(kind) = fault {
            return Err(BedrockError::of(kind));
        }
        let mut answer = script::answer(body, model);
        if let Some(guardrail) = guardrail {
            guardrail.apply(&mut answer, &script::prompt(body), controls.intervene);
        }
        Ok((answer, controls))
    }
}

/// The request body as JSON, or the ValidationException Bedrock answers to anything else.
pub(crate) fn json_body(parsed: serde_json::Result<Value>) -> Result<Value, BedrockError> {
    parsed.map_err(|error| {
        BedrockError::validation(format!(
            "Malformed input request: the body is not valid JSON ({error}). Reformat your input and try again."
        ))
    })
}

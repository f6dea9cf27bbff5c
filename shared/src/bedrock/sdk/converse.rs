//! The Converse and ConverseStream operations, with the deployment's guardrail.

use std::time::Instant;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    GuardrailConfiguration, GuardrailStreamConfiguration, GuardrailStreamProcessingMode, GuardrailTrace,
};

use super::{SdkBedrock, log_answer};
use crate::bedrock::{EventStream, ModelRequest};
use crate::config::Guardrail;
use crate::error::ApiError;

/// The request's fields on a Converse or ConverseStream builder (the two builders are different
/// types with the same setters).
macro_rules! with_request {
    ($builder:expr, $r:expr) => {
        $builder
            .model_id($r.model_id)
            .set_messages(Some($r.messages))
            .set_system((!$r.system.is_empty()).then_some($r.system))
            .inference_config($r.inference)
            .set_tool_config($r.tool_config)
            .set_output_config($r.output_config)
    };
}

impl SdkBedrock {
    pub(super) async fn converse(&self, r: ModelRequest) -> Result<ConverseOutput, ApiError> {
        let started = Instant::now();
        let model_id = r.model_id.clone();
        let guardrail = self.guardrail.as_ref().map(converse_guardrail);
        let result = with_request!(self.client.converse(), r).set_guardrail_config(guardrail).send().await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(output) => {
                log_answer(&model_id, "converse", elapsed_ms, &output);
                Ok(output)
            }
            Err(err) => {
                let mapped = self.map_error(err, &model_id);
                tracing::warn!(model = %model_id, operation = "converse", elapsed_ms, code = mapped.code(), "bedrock call failed");
                Err(mapped)
            }
        }
    }

    pub(super) async fn converse_stream(&self, r: ModelRequest) -> Result<EventStream, ApiError> {
        let started = Instant::now();
        let model_id = r.model_id.clone();
        let guardrail = self.guardrail.as_ref().map(stream_guardrail);
        let output = with_request!(self.client.converse_stream(), r)
            .set_guardrail_config(guardrail)
            .send()
            .await
            .map_err(|err| {
                let mapped = self.map_error(err, &model_id);
                tracing::warn!(model = %model_id, operation = "converse-stream", code = mapped.code(), "bedrock call failed");
                mapped
            })?;
        tracing::info!(
            model = %model_id,
            operation = "converse-stream",
            elapsed_ms = started.elapsed().as_millis() as u64,
            "bedrock stream accepted"
        );
        // The receiver, this client's settings and the model id travel with the stream state:
        // nothing is cloned per event.
        let state = Some((output.stream, self.clone(), model_id));
        let events = futures_util::stream::unfold(state, |state| async move {
            let (mut receiver, this, model_id) = state?;
            match receiver.recv().await {
                Ok(Some(event)) => Some((Ok(event), Some((receiver, this, model_id)))),
                Ok(None) => None,
                Err(err) => Some((Err(this.map_stream_error(err, &model_id, stream_error_code)), None)),
            }
        });
        Ok(Box::pin(events) as EventStream)
    }
}

fn stream_error_code(e: &ConverseStreamOutputError) -> Option<&'static str> {
    match e {
        ConverseStreamOutputError::ThrottlingException(_) => Some("ThrottlingException"),
        ConverseStreamOutputError::ModelStreamErrorException(_) => Some("ModelStreamErrorException"),
        ConverseStreamOutputError::InternalServerException(_) => Some("InternalServerException"),
        ConverseStreamOutputError::ServiceUnavailableException(_) => Some("ServiceUnavailableException"),
        ConverseStreamOutputError::ValidationException(_) => Some("ValidationException"),
        _ => None,
    }
}

fn converse_guardrail(g: &Guardrail) -> GuardrailConfiguration {
    GuardrailConfiguration::builder()
        .guardrail_identifier(&g.id)
        .guardrail_version(&g.version)
        .trace(GuardrailTrace::from(g.trace))
        .build()
}

fn stream_guardrail(g: &Guardrail) -> GuardrailStreamConfiguration {
    GuardrailStreamConfiguration::builder()
        .guardrail_identifier(&g.id)
        .guardrail_version(&g.version)
        .trace(GuardrailTrace::from(g.trace))
        .stream_processing_mode(GuardrailStreamProcessingMode::from(g.stream_mode))
        .build()
}

//! InvokeModel and InvokeModelWithResponseStream with Mistral's native bodies: the request is
//! mapped by `bedrock::native`, the guardrail goes in the `X-Amzn-Bedrock-Guardrail*` headers,
//! and the answer comes back Converse-shaped. The token counts of a whole answer arrive only as
//! response headers, which an interceptor reads.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::error::ResponseStreamError;
use aws_sdk_bedrockruntime::types::{ResponseStream, Trace};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::Blob;
use aws_smithy_types::config_bag::ConfigBag;
use futures_util::StreamExt;

use super::{SdkBedrock, log_answer};
use crate::bedrock::native::{self, ChunkTranslator, Tokens};
use crate::bedrock::{EventStream, ModelRequest};
use crate::catalog::NativeBody;
use crate::error::ApiError;

/// The model, the native body and the guardrail headers on an InvokeModel or
/// InvokeModelWithResponseStream builder (two types with the same setters).
macro_rules! with_native_body {
    ($builder:expr, $r:expr, $body:expr, $guardrail:expr) => {{
        let (id, version, trace) = $guardrail;
        $builder
            .model_id(&$r.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new($body))
            .set_guardrail_identifier(id)
            .set_guardrail_version(version)
            .set_trace(trace)
    }};
}

impl SdkBedrock {
    pub(super) async fn invoke(&self, r: ModelRequest, kind: NativeBody) -> Result<ConverseOutput, ApiError> {
        let started = Instant::now();
        let body = native::body(&r, kind)?;
        let headers = TokenHeaders::default();
        let result = with_native_body!(self.client.invoke_model(), r, body, self.guardrail_headers())
            .customize()
            .interceptor(headers.clone())
            .send()
            .await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let output = result.map_err(|err| {
            let mapped = self.map_error(err, &r.model_id);
            tracing::warn!(model = %r.model_id, operation = "invoke", elapsed_ms, code = mapped.code(), "bedrock call failed");
            mapped
        })?;
        let answer = native::answer(kind, output.body().as_ref(), headers.tokens())?;
        log_answer(&r.model_id, "invoke", elapsed_ms, &answer);
        Ok(answer)
    }

    pub(super) async fn invoke_stream(&self, r: ModelRequest, kind: NativeBody) -> Result<EventStream, ApiError> {
        let started = Instant::now();
        let body = native::body(&r, kind)?;
        let output = with_native_body!(self.client.invoke_model_with_response_stream(), r, body, self.guardrail_headers())
            .send()
            .await
            .map_err(|err| {
                let mapped = self.map_error(err, &r.model_id);
                tracing::warn!(model = %r.model_id, operation = "invoke-with-response-stream", code = mapped.code(), "bedrock call failed");
                mapped
            })?;
        tracing::info!(
            model = %r.model_id,
            operation = "invoke-with-response-stream",
            elapsed_ms = started.elapsed().as_millis() as u64,
            "bedrock stream accepted"
        );
        let state = Some((output.body, ChunkTranslator::new(kind), self.clone(), r.model_id));
        let batches = futures_util::stream::unfold(state, |state| async move {
            let (mut receiver, mut translator, this, model_id) = state?;
            match receiver.recv().await {
                Ok(Some(ResponseStream::Chunk(part))) => {
                    let bytes = part.bytes().map(Blob::as_ref).unwrap_or_default();
                    match translator.translate(bytes) {
                        Ok(events) => Some((
                            events.into_iter().map(Ok).collect::<Vec<_>>(),
                            Some((receiver, translator, this, model_id)),
                        )),
                        Err(error) => Some((vec![Err(error)], None)),
                    }
                }
                Ok(Some(_)) => Some((Vec::new(), Some((receiver, translator, this, model_id)))),
                Ok(None) => None,
                Err(err) => Some((vec![Err(this.map_stream_error(err, &model_id, stream_error_code))], None)),
            }
        });
        Ok(Box::pin(batches.flat_map(futures_util::stream::iter)) as EventStream)
    }

    /// The guardrail as InvokeModel takes it: identifier, version and trace headers.
    fn guardrail_headers(&self) -> (Option<String>, Option<String>, Option<Trace>) {
        match &self.guardrail {
            None => (None, None, None),
            Some(g) => {
                let trace = if g.trace == "disabled" { Trace::Disabled } else { Trace::Enabled };
                (Some(g.id.clone()), Some(g.version.clone()), Some(trace))
            }
        }
    }
}

fn stream_error_code(e: &ResponseStreamError) -> Option<&'static str> {
    match e {
        ResponseStreamError::ThrottlingException(_) => Some("ThrottlingException"),
        ResponseStreamError::ModelStreamErrorException(_) => Some("ModelStreamErrorException"),
        ResponseStreamError::InternalServerException(_) => Some("InternalServerException"),
        ResponseStreamError::ServiceUnavailableException(_) => Some("ServiceUnavailableException"),
        ResponseStreamError::ValidationException(_) => Some("ValidationException"),
        ResponseStreamError::ModelTimeoutException(_) => Some("ModelTimeoutException"),
        _ => None,
    }
}

/// Reads `x-amzn-bedrock-input-token-count` and `x-amzn-bedrock-output-token-count` off the
/// response of the one call it is attached to.
#[derive(Debug, Clone, Default)]
struct TokenHeaders(Arc<Mutex<Option<Tokens>>>);

impl TokenHeaders {
    fn tokens(&self) -> Option<Tokens> {
        *self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Intercept for TokenHeaders {
    fn name(&self) -> &'static str {
        "TokenHeaders"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.response().headers();
        let count = |name: &str| headers.get(name).and_then(|v| v.trim().parse::<i32>().ok());
        if let (Some(input), Some(output)) =
            (count("x-amzn-bedrock-input-token-count"), count("x-amzn-bedrock-output-token-count"))
        {
            *self.0.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(Tokens { input, output });
        }
        Ok(())
    }
}

//! The batch-events function's entry point: Bedrock's "Batch Inference Job State Change" events
//! from EventBridge, each handed to the batch finalizer (`crate::batch::events`). A failure is
//! the invocation's error, so Lambda retries the event; an event of another deployment's job
//! succeeds as a no-op.

use lambda_http::LambdaEvent;
use lambda_http::lambda_runtime::Diagnostic;
use serde_json::{Value, json};

use crate::batch::events::on_event;
use crate::state::AppState;

/// A batch this event could not bring up to date.
#[derive(Debug, thiserror::Error)]
#[error("the batch state change could not be handled: {0}")]
pub struct BatchEventFailed(String);

impl From<BatchEventFailed> for Diagnostic {
    fn from(error: BatchEventFailed) -> Diagnostic {
        Diagnostic { error_type: "BatchEventFailed".into(), error_message: error.to_string() }
    }
}

/// Serves the function's invocations until the process ends.
pub async fn serve(state: AppState) -> Result<(), lambda_http::Error> {
    let batches = state.batch.clone().ok_or(
        "BATCH_BUCKET is not set: the batch-events function finalizes the batches of that bucket (README › Batch)",
    )?;
    let config = state.config.clone();
    crate::runtime::serve_events(move |event: LambdaEvent<Value>| {
        let (batches, config) = (batches.clone(), config.clone());
        async move {
            // Boxed: the finalizer's future (S3, Bedrock, the keys table) is deep, and the
            // runtime's future holds this one.
            match Box::pin(on_event(&batches, &config, &event.payload)).await {
                Ok(Some(batch)) => Ok(json!({"batch": batch.id, "status": batch.status})),
                Ok(None) => Ok(json!({"batch": null})),
                Err(error) => Err(BatchEventFailed(error.to_string())),
            }
        }
    })
    .await
}

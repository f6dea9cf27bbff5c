//! The queue triggers: an SQS batch (each record's failure listed in `batchItemFailures`, so SQS
//! retries that record only, and a record that never succeeds reaches the dead-letter queue
//! after `maxReceiveCount` receives) and an EventBridge event (a failure is an invocation error,
//! so Lambda's asynchronous retries and on-failure destination take over).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;

use super::InvocationError;
use super::callback::{self, Failure};
use crate::state::ToolsState;

/// The answer to an EventBridge event that was handled.
#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    pub status: &'static str,
    pub event_id: String,
}

/// Handles every record of a batch concurrently.
pub async fn sqs_batch(state: &ToolsState, batch: SqsEvent) -> SqsBatchResponse {
    let outcomes = join_all(batch.records.into_iter().map(|record| async move {
        let id = record.message_id.unwrap_or_default();
        let outcome = match record.body.as_deref() {
            Some(body) => callback::from_sqs_body(state, &id, body).await,
            None => Err(Failure::Malformed("the record has no body".into())),
        };
        let receives = record.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_else(|| "?".into());
        (id, receives, outcome)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (id, receives, outcome) in outcomes {
        let Err(failure) = outcome else {
            tracing::info!(message_id = %id, "sqs record handled");
            continue;
        };
        match failure {
            Failure::Malformed(_) => tracing::error!(message_id = %id, receives = %receives, error = %failure,
                "sqs record cannot be handled; it reaches the dead-letter queue after maxReceiveCount receives"),
            Failure::Configuration(_) => tracing::error!(message_id = %id, receives = %receives, error = %failure,
                "sqs record failed on this deployment's settings; SQS will retry it"),
            Failure::Transient(_) => {
                tracing::warn!(message_id = %id, receives = %receives, error = %failure, "sqs record failed; SQS will retry it")
            }
        }
        let mut item = BatchItemFailure::default();
        item.item_identifier = id;
        response.batch_item_failures.push(item);
    }
    response
}

/// Handles an EventBridge event.
pub async fn eventbridge(state: &ToolsState, event: EventBridgeEvent<Value>) -> Result<Delivered, InvocationError> {
    let event_id = event.id.unwrap_or_default();
    match callback::from_detail(state, &event_id, event.detail).await {
        Ok(()) => {
            tracing::info!(event_id = %event_id, "eventbridge event handled");
            Ok(Delivered { status: "delivered", event_id })
        }
        Err(failure) => {
            tracing::error!(event_id = %event_id, error = %failure, "eventbridge event failed");
            Err(InvocationError::EventFailed { event_id, failure })
        }
    }
}

//! The tools function's Lambda entry point: API Gateway requests (REST and HTTP APIs), SQS
//! batches and EventBridge events, decoded into their `aws_lambda_events` types and handed to
//! two handlers: [`Handler::http`] (the same router `lambda_http::run` would serve) and the queue
//! handlers of [`queue`], which run the tool loop and POST the answer to a callback
//! ([`callback`]).
//!
//! The tool domain (`crate::tools`) knows nothing of triggers; this module is the glue above it.

pub mod batch_events;
pub mod callback;
pub mod queue;

use std::convert::Infallible;
use std::task::{Context as TaskContext, Waker};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use axum::Router;
use lambda_http::lambda_runtime::Diagnostic;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, LambdaEvent, Service};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::state::ToolsState;

/// What the tools function can be invoked with, told apart by the event types' own required
/// fields (`Records`; `detail-type`, `source` and `detail`; then lambda_http's request shapes).
#[derive(Debug)]
pub enum Trigger {
    Sqs(SqsEvent),
    EventBridge(Box<EventBridgeEvent<Value>>),
    Http(Box<LambdaRequest>),
}

impl Trigger {
    /// Decodes an invocation payload. Not a serde `untagged` enum: lambda_http's request type
    /// only deserializes from JSON itself, not from serde's buffered content.
    pub fn decode(payload: Value) -> Result<Self, InvocationError> {
        if let Ok(batch) = SqsEvent::deserialize(&payload) {
            return Ok(Trigger::Sqs(batch));
        }
        if let Ok(event) = EventBridgeEvent::<Value>::deserialize(&payload) {
            return Ok(Trigger::EventBridge(Box::new(event)));
        }
        serde_json::from_value(payload)
            .map(|request| Trigger::Http(Box::new(request)))
            .map_err(|e| InvocationError::Unrecognised(e.to_string()))
    }
}

/// What the function answers for each trigger.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Sqs(SqsBatchResponse),
    EventBridge(queue::Delivered),
    /// lambda_http's response type is private to it; its JSON is what the runtime sends.
    Http(Value),
}

/// A failed invocation, as the Lambda service records it: an EventBridge event that failed
/// (Lambda retries it, then sends it to the on-failure destination), or an event of no known
/// shape.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("EventBridge event {event_id} failed: {failure}")]
    EventFailed { event_id: String, failure: callback::Failure },
    #[error("the event is neither an API Gateway request, an SQS batch nor an EventBridge event ({0})")]
    Unrecognised(String),
    #[error("the HTTP response could not be encoded ({0})")]
    Encoding(String),
}

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Diagnostic {
        let error_type = match &error {
            InvocationError::EventFailed { failure, .. } => failure.kind(),
            InvocationError::Unrecognised(_) => "UnrecognisedEvent",
            InvocationError::Encoding(_) => "EncodingError",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// Serves the tools function's invocations with [`Handler`] until the process ends: one at a
/// time, or as many at once as `AWS_LAMBDA_MAX_CONCURRENCY` says (see `crate::runtime`).
pub async fn serve(state: ToolsState) -> Result<(), lambda_http::Error> {
    let handler = std::sync::Arc::new(Handler::new(state));
    crate::runtime::serve_events(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move { handler.handle(event).await }
    })
    .await
}

/// The function's handler, built once per cold start.
pub struct Handler {
    state: ToolsState,
    router: Router,
}

impl Handler {
    pub fn new(state: ToolsState) -> Self {
        let router = crate::routes::tools_router(state.clone());
        Handler { state, router }
    }

    /// Handles one invocation: the returned value is the Lambda response.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Answer, InvocationError> {
        let LambdaEvent { payload, context } = event;
        match Trigger::decode(payload)? {
            Trigger::Sqs(batch) => Ok(Answer::Sqs(queue::sqs_batch(&self.state, batch).await)),
            Trigger::EventBridge(event) => queue::eventbridge(&self.state, *event).await.map(Answer::EventBridge),
            Trigger::Http(request) => self.http(*request, context).await.map(Answer::Http),
        }
    }

    /// An API Gateway request, through lambda_http's own adapter: the same request and response
    /// mapping as `lambda_http::run`.
    ///
    /// The adapter is dropped before the answer is awaited: it is not `Send` (it names axum's
    /// response type, which is not `Sync`), and holding it would make this future unfit for the
    /// concurrent runner. The future it returns is `Send`.
    pub async fn http(&self, request: LambdaRequest, context: lambda_http::Context) -> Result<Value, InvocationError> {
        let answer = {
            let mut adapter: Adapter<'_, axum::response::Response, Router> = Adapter::from(self.router.clone());
            // axum's Router is always ready: its poll_ready answers Ready(Ok) without a waker.
            let ready = adapter.poll_ready(&mut TaskContext::from_waker(Waker::noop()));
            debug_assert!(ready.is_ready(), "axum's Router is always ready");
            adapter.call(LambdaEvent::new(request, context))
        };
        let answered: Result<_, Infallible> = answer.await;
        let Ok(response) = answered;
        serde_json::to_value(response).map_err(|e| InvocationError::Encoding(e.to_string()))
    }
}

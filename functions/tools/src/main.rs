//! The `tools` Lambda function: the server-side tool loop, behind API Gateway (REST or HTTP
//! API) and as a consumer of SQS batches and EventBridge events that carry a tool request and a
//! callback URL.
//!
//! One handler serves every trigger: it looks at the event's shape and dispatches (see
//! `shared::tools::events`). Configuration, the tool registry and the Bedrock client are
//! built once per cold start; a bad setting fails the cold start with a message naming the
//! variable.

use std::sync::Arc;

use lambda_http::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::tools::events::Handler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init();
    let handler = Arc::new(Handler::new(shared::AppState::from_env_with_tools().await?));
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move { handler.handle(event).await }
    }))
    .await
}

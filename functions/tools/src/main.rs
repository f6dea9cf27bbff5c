//! The `tools` Lambda function: the server-side tool loop, behind API Gateway (REST or HTTP
//! API) and as a consumer of SQS batches and EventBridge events that carry a tool request and a
//! callback URL.
//!
//! Each invocation is decoded into its event type and handed to the HTTP or the queue handler
//! (see `shared::triggers`). Configuration, the tool registry and the Bedrock client are built
//! once per cold start; a bad setting fails the cold start with a message naming the variable.
//! `shared::runtime` picks the tokio runtime and the runner (sequential, or concurrent under
//! `AWS_LAMBDA_MAX_CONCURRENCY`).

fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::block_on(async {
        shared::logging::init();
        shared::triggers::serve(shared::ToolsState::from_env().await?).await
    })
}

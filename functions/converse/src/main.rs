//! The `converse` Lambda function: synchronous chat (Bedrock Converse) behind API Gateway
//! (REST or HTTP API) or a Function URL.
//!
//! Configuration and the Bedrock client are built once per cold start; a bad setting fails the
//! cold start with a message naming the variable. `shared::runtime` picks the tokio runtime and
//! the runner: one invocation at a time on one thread, or several at once under
//! `AWS_LAMBDA_MAX_CONCURRENCY`.

fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::block_on(async {
        shared::logging::init();
        let state = shared::AppState::from_env().await?;
        shared::runtime::serve(shared::routes::converse_router(state)).await
    })
}

//! The `converse` Lambda function: synchronous chat (Bedrock Converse) behind API Gateway
//! (REST or HTTP API) or a Function URL.
//!
//! Configuration and the Bedrock client are built once per cold start; a bad setting fails the
//! cold start with a message naming the variable.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init();
    let state = shared::AppState::from_env().await?;
    lambda_http::run(shared::routes::converse_router(state)).await
}

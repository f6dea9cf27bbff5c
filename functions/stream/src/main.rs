//! The `stream` Lambda function: chat completions as server-sent events (Bedrock ConverseStream)
//! through Lambda response streaming, behind API Gateway (REST API, `ResponseTransferMode:
//! RESPONSE_STREAM`) or a Function URL (`InvokeMode: RESPONSE_STREAM`).
//!
//! `run_with_streaming_response` writes each body frame of the router's response to the
//! Runtime API as it is produced, so every SSE event reaches the caller when it is made.
//! Configuration and the Bedrock client are built once per cold start.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::logging::init();
    let state = shared::AppState::from_env().await?;
    lambda_http::run_with_streaming_response(shared::routes::stream_router(state)).await
}

//! The `stream` Lambda function: chat completions as server-sent events (Bedrock ConverseStream)
//! through Lambda response streaming, behind API Gateway (REST API, `ResponseTransferMode:
//! RESPONSE_STREAM`) or a Function URL (`InvokeMode: RESPONSE_STREAM`).
//!
//! The streaming runner writes each body frame of the router's response to the Runtime API as it
//! is produced, so every SSE event reaches the caller when it is made. Configuration and the
//! Bedrock client are built once per cold start. An LLM stream mostly waits on the model: under
//! `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances) one process carries that many streams
//! at once (`shared::runtime`).

fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::block_on(async {
        shared::logging::init();
        let state = shared::AppState::from_env().await?;
        shared::runtime::serve_streaming(shared::routes::stream_router(state)).await
    })
}

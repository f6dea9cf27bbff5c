//! `cargo run -p dev`: all functions on http://127.0.0.1:3000 (port from `PORT`), backed by the
//! built-in Bedrock emulator (on 127.0.0.1:4010 when free, `EMULATOR_PORT`), or by real Bedrock
//! with `BEDROCK_BACKEND=aws`; plus a receiver for the tools function's event callbacks.

use std::net::SocketAddr;
use std::process::ExitCode;

use dev::server::{self, Backend};

#[tokio::main]
async fn main() -> ExitCode {
    shared::logging::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dev: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let port: u16 = match std::env::var("PORT") {
        Ok(raw) => raw.trim().parse().map_err(|_| format!("PORT: `{raw}` is not a port number"))?,
        Err(_) => 3000,
    };
    let emulator_port: u16 = match std::env::var("EMULATOR_PORT") {
        Ok(raw) => raw.trim().parse().map_err(|_| format!("EMULATOR_PORT: `{raw}` is not a port number"))?,
        Err(_) => 4010,
    };
    let s3_port: u16 = match std::env::var("S3_PORT") {
        Ok(raw) => raw.trim().parse().map_err(|_| format!("S3_PORT: `{raw}` is not a port number"))?,
        Err(_) => 4566,
    };
    let backend = Backend::from_env()?;
    let config = shared::Config::from_env().map_err(|e| e.to_string())?;
    let tools = shared::tools::Toolbox::from_env().map_err(|e| e.to_string())?;
    let model = config.default_model().id.clone();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let dev = server::start(addr, backend, config, tools, emulator_port, s3_port)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let url = dev.url();
    let bedrock = match dev.emulator() {
        Some(emulator) => format!("Bedrock emulator at {}", emulator.url()),
        None => "real Bedrock (BEDROCK_BACKEND=aws)".to_owned(),
    };
    tracing::info!(url = %url, backend = ?backend, "dev server listening");
    println!("dev server listening on {url} ({bedrock}); default model {model}");
    println!("  base URLs: {url}/v1 (sync), {url}/stream/v1 (streaming), {url}/tools/v1 (server-side tools)");
    println!("  event callbacks of `cargo lambda watch --env-file dev/lambda.env` arrive at {url}/dev/callback");
    if let Some(s3) = dev.s3() {
        println!(
            "  batch: {url}/v1/files and {url}/v1/batches (Mistral: {url}/v1/batch/jobs), bucket on the local S3 server at {}",
            s3.url()
        );
    }
    println!(
        "  try: curl -s {url}/v1/chat/completions -H 'content-type: application/json' -d '{{\"model\": \"mistral-large\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello!\"}}]}}'"
    );
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}

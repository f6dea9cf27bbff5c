//! Cold start of each function binary, measured locally against a stub Lambda Runtime API:
//! process start → first `GET /runtime/invocation/next` (init: config, SDK client, runtime),
//! then the first invocation's round trip (an API Gateway event, answered through the Bedrock
//! emulator), and the process's peak RSS after it. Prints the median of several starts.
//!
//! Measures the release binaries in `target/release`: `cargo build --release -p converse -p stream
//! -p tools && cargo bench -p tests --bench cold_start`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tests::measure::{median, peak_rss_kib, release_binary};
use tests::runtime_api::RuntimeApi;
use tests::workload::rest_event;

const STARTS: usize = 9;

struct Start {
    init: Duration,
    first_invocation: Duration,
    peak_rss_kib: u64,
}

async fn start_once(binary: &Path, event: &str, emulator_url: &str) -> Start {
    let mut runtime_api = RuntimeApi::start().await;
    runtime_api.push("cold-start-1", event);
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(runtime_api.lambda_env("bench"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator_url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("BEDROCK_MODEL_IDS", "mistral.mistral-large-2407-v1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let ready = runtime_api.poll(1).await;
    let answer = runtime_api.response("cold-start-1").await.read_to_end().await;
    let done = answer.ended_at.expect("a complete answer");
    let text = answer.text();
    let is_answer = ["You said", "Tool results", "data: [DONE]"].iter().any(|sign| text.contains(sign));
    assert!(is_answer, "{}: unexpected answer {text}", binary.display());
    // The runtime polls for the next event after answering: then the process is idle.
    runtime_api.poll(2).await;
    let peak = peak_rss_kib(Some(child.id())).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    Start { init: ready - started, first_invocation: done - ready, peak_rss_kib: peak }
}

#[tokio::main]
async fn main() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let chat = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "Hello from a cold start"}]});
    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    let tools = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]});
    let functions = [
        ("converse", rest_event("/v1/chat/completions", &chat)),
        ("stream", rest_event("/stream/v1/chat/completions", &streamed)),
        ("tools", rest_event("/tools/v1/chat/completions", &tools)),
    ];
    println!(
        "cold start, median of {STARTS} process starts per function (release x86_64 binaries, stub Runtime API, emulator on loopback)"
    );
    for (name, event) in functions {
        let binary = release_binary(name);
        let mut starts = Vec::new();
        for _ in 0..STARTS {
            starts.push(start_once(&binary, &event, &emulator.url()).await);
        }
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or_default();
        println!(
            "  {name:9} init {:6.1} ms   first invocation {:6.1} ms   peak RSS {:5.1} MiB   binary {:4.1} MiB",
            median(starts.iter().map(|s| s.init).collect()).as_secs_f64() * 1e3,
            median(starts.iter().map(|s| s.first_invocation).collect()).as_secs_f64() * 1e3,
            median(starts.iter().map(|s| s.peak_rss_kib).collect()) as f64 / 1024.0,
            size as f64 / 1048576.0,
        );
    }
}

//! Cold start of each function binary, measured locally against a stub Lambda Runtime API:
//! process start → first `GET /runtime/invocation/next` (init: config, SDK client, runtime),
//! then the first invocation's round trip (an API Gateway event, answered through the Bedrock
//! emulator), and the process's peak RSS after it. Prints the median of several starts.
//!
//! Measures the release binaries in `target/release`: `cargo build --release -p converse -p stream
//! -p tools && cargo bench -p tests --bench cold_start`.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

const STARTS: usize = 9;

#[derive(Clone)]
struct Stub {
    /// The next event to hand out; `None` once given, so later polls wait until the process dies.
    event: Arc<Mutex<Option<String>>>,
    polled: mpsc::UnboundedSender<Instant>,
    answered: mpsc::UnboundedSender<(Instant, Bytes)>,
    never: Arc<Notify>,
}

async fn next(State(stub): State<Stub>) -> Response {
    let _ = stub.polled.send(Instant::now());
    let event = stub.event.lock().unwrap().take();
    match event {
        Some(event) => (
            [
                ("lambda-runtime-aws-request-id", "cold-start-1"),
                ("lambda-runtime-deadline-ms", "99999999999999"),
                ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                ("lambda-runtime-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
                ("content-type", "application/json"),
            ],
            event,
        )
            .into_response(),
        None => {
            stub.never.notified().await;
            ().into_response()
        }
    }
}

async fn answer(State(stub): State<Stub>, body: Bytes) -> &'static str {
    let _ = stub.answered.send((Instant::now(), body));
    ""
}

fn chat_event(path: &str, body: serde_json::Value) -> String {
    json!({
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {"Content-Type": ["application/json"]},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "resourcePath": path, "httpMethod": "POST",
            "path": format!("/prod{path}"), "stage": "prod", "requestId": "r1", "identity": {"sourceIp": "203.0.113.10"}},
        "body": body.to_string(), "isBase64Encoded": false
    })
    .to_string()
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

struct Start {
    init: Duration,
    first_invocation: Duration,
    peak_rss_kib: u64,
}

async fn start_once(binary: &str, event: &str, emulator_url: &str) -> Start {
    let (polled_tx, mut polled) = mpsc::unbounded_channel();
    let (answered_tx, mut answered) = mpsc::unbounded_channel();
    let stub = Stub {
        event: Arc::new(Mutex::new(Some(event.to_owned()))),
        polled: polled_tx,
        answered: answered_tx,
        never: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(answer))
        .route("/2018-06-01/runtime/init/error", post(answer))
        .with_state(stub);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
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
        .unwrap_or_else(|e| {
            panic!("{binary}: {e} (build it first: cargo build --release -p converse -p stream -p tools)")
        });
    let ready = polled.recv().await.unwrap();
    let (done, body) =
        tokio::time::timeout(Duration::from_secs(30), answered.recv()).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&body);
    let is_answer = ["You said", "Tool results", "data: [DONE]"].iter().any(|sign| text.contains(sign));
    assert!(is_answer, "{binary}: unexpected answer {text}");
    // The runtime polls for the next event after answering: then the process is idle.
    let _ = tokio::time::timeout(Duration::from_secs(5), polled.recv()).await;
    let peak = peak_rss_kib(child.id()).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    server.abort();
    Start { init: ready - started, first_invocation: done - ready, peak_rss_kib: peak }
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release");
    let chat = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "Hello from a cold start"}]});
    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    let tools = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]});
    let functions = [
        ("converse", chat_event("/v1/chat/completions", chat)),
        ("stream", chat_event("/stream/v1/chat/completions", streamed)),
        ("tools", chat_event("/tools/v1/chat/completions", tools)),
    ];
    println!(
        "cold start, median of {STARTS} process starts per function (release x86_64 binaries, stub Runtime API, emulator on loopback)"
    );
    for (name, event) in functions {
        let binary = format!("{target}/{name}");
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

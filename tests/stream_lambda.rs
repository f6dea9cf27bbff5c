//! The stream function as Lambda runs it: `lambda_http::run_with_streaming_response` over the
//! stream router (what `functions/stream/src/main.rs` runs), polling a stub Lambda Runtime API
//! on loopback for the sample events of `events/stream`, and streaming its answers back to it.
//!
//! The stub sees what the Lambda service would: the `streaming` response mode, the metadata
//! prelude (status, headers), eight NUL bytes, then the SSE frames. Bedrock is the emulator,
//! playing queued replies: it holds the rest of its answer until the stub has received the first
//! frames, so a handler or runtime that buffers the body would never deliver them and the test
//! would fail.

#[path = "stream_support.rs"]
mod support;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use dev::emulator::{Emulator, Reply};
use futures_util::StreamExt;
use http::HeaderMap;
use serde_json::Value;
use shared::AppState;
use shared::bedrock::SdkBedrock;
use support::{assert_complete_stream, config, content, parse_sse, text_frames};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/stream");
const PRELUDE_END: &[u8] = &[0; 8];
/// Generous bound for one step; the assertions are about order, not speed.
const STEP: Duration = Duration::from_secs(20);

/// What the stub Runtime API saw.
#[derive(Debug)]
enum Seen {
    Response { request_id: String, headers: HeaderMap },
    Chunk(Bytes),
    End,
    Error { request_id: String, body: String },
}

#[derive(Clone)]
struct Stub {
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    seen: mpsc::UnboundedSender<Seen>,
}

fn sample(name: &str) -> Value {
    let path = format!("{EVENTS}/{name}");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

async fn next_invocation(State(stub): State<Stub>) -> Response {
    let next = stub.events.lock().unwrap().pop_front();
    let Some((request_id, event)) = next else {
        // No more work: the runtime waits, as it would in a frozen execution environment.
        return std::future::pending().await;
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 60_000;
    Response::builder()
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:stream")
        .header("lambda-runtime-trace-id", "Root=1-6745a3f2-0a1b2c3d4e5f60718293a4b5;Parent=53995c3f42cd8ad8;Sampled=0")
        .body(Body::from(event.to_string()))
        .unwrap()
}

async fn invocation_response(
    State(stub): State<Stub>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> http::StatusCode {
    stub.seen.send(Seen::Response { request_id, headers }).unwrap();
    let mut body = body.into_data_stream();
    while let Some(chunk) = body.next().await {
        stub.seen.send(Seen::Chunk(chunk.expect("the runtime streams the body without error"))).unwrap();
    }
    stub.seen.send(Seen::End).unwrap();
    http::StatusCode::ACCEPTED
}

async fn invocation_error(State(stub): State<Stub>, Path(request_id): Path<String>, body: String) -> http::StatusCode {
    stub.seen.send(Seen::Error { request_id, body }).unwrap();
    http::StatusCode::ACCEPTED
}

async fn init_error(body: String) -> http::StatusCode {
    panic!("the function failed its cold start: {body}");
}

/// Reads what the stub received for one invocation.
struct Invocation<'a> {
    seen: &'a mut mpsc::UnboundedReceiver<Seen>,
    bytes: Vec<u8>,
    ended: bool,
}

impl<'a> Invocation<'a> {
    async fn start(seen: &'a mut mpsc::UnboundedReceiver<Seen>, expected_id: &str) -> (Invocation<'a>, HeaderMap) {
        match tokio::time::timeout(STEP, seen.recv()).await.expect("the runtime answers the invocation").unwrap() {
            Seen::Response { request_id, headers } => {
                assert_eq!(request_id, expected_id);
                (Invocation { seen, bytes: Vec::new(), ended: false }, headers)
            }
            other => panic!("expected a response for {expected_id}, got {other:?}"),
        }
    }

    /// Waits until the body received so far satisfies `done`; panics if it ends first.
    async fn until(&mut self, what: &str, done: impl Fn(&[u8]) -> bool) {
        while !done(&self.bytes) {
            assert!(!self.ended, "the body ended before {what}: {:?}", String::from_utf8_lossy(&self.bytes));
            self.receive(what).await;
        }
    }

    async fn read_to_end(&mut self) {
        while !self.ended {
            self.receive("the end of the body").await;
        }
    }

    async fn receive(&mut self, what: &str) {
        match tokio::time::timeout(STEP, self.seen.recv()).await {
            Err(_) => panic!("{what} never reached the Runtime API; got {:?}", String::from_utf8_lossy(&self.bytes)),
            Ok(Some(Seen::Chunk(chunk))) => self.bytes.extend_from_slice(&chunk),
            Ok(Some(Seen::End)) => self.ended = true,
            Ok(Some(Seen::Error { request_id, body })) => {
                panic!("the function reported an error for {request_id}: {body}")
            }
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }

    /// The metadata prelude and the body after it.
    fn split(&self) -> (Value, &[u8]) {
        let at = self.bytes.windows(8).position(|w| w == PRELUDE_END).expect("prelude delimiter");
        (serde_json::from_slice(&self.bytes[..at]).expect("prelude JSON"), &self.bytes[at + 8..])
    }
}

impl Drop for Invocation<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(self.ended, "every invocation is read to its end");
        }
    }
}

fn body_after_prelude(bytes: &[u8]) -> Option<&[u8]> {
    bytes.windows(8).position(|w| w == PRELUDE_END).map(|at| &bytes[at + 8..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_runtime_streams_each_event_as_it_is_made() {
    let bedrock = Emulator::start().await.unwrap();
    // Invocation 1 (REST API): the answer's first word goes out, the rest waits for the test.
    let gate = bedrock.enqueue(Reply::frames(text_frames(&["Streaming", "through", "Lambda"])).hold_at(2));
    // Invocation 2 (Function URL): Bedrock throttles before the stream starts.
    bedrock.enqueue(Reply::error(429, "ThrottlingException", "Too many requests"));

    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let stub = Stub {
        events: Arc::new(Mutex::new(VecDeque::from([
            ("invocation-1".to_owned(), sample("rest-stream.json")),
            ("invocation-2".to_owned(), sample("function-url-stream.json")),
        ]))),
        seen: seen_tx,
    };
    let runtime_api = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(invocation_response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(stub);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let runtime_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, runtime_api).await.unwrap() });

    // The environment Lambda gives a function. This test binary holds this one test only, so
    // nothing else reads the environment while it is written.
    for (key, value) in [
        ("AWS_LAMBDA_RUNTIME_API", runtime_addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", "stream".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2024/11/26/[$LATEST]0123456789abcdef".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/stream".to_owned()),
        ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true".to_owned()),
    ] {
        // SAFETY: no other thread of this process reads or writes the environment now.
        unsafe { std::env::set_var(key, value) };
    }
    let config = config(&[]);
    let state = AppState::new(config.clone(), SdkBedrock::for_endpoint(&bedrock.url(), &config).into_shared());
    let function = tokio::spawn(lambda_http::run_with_streaming_response(shared::routes::stream_router(state)));

    // Invocation 1: streamed, frame by frame.
    {
        let (mut invocation, headers) = Invocation::start(&mut seen, "invocation-1").await;
        assert_eq!(headers["lambda-runtime-function-response-mode"], "streaming");
        assert_eq!(headers["transfer-encoding"], "chunked");
        assert_eq!(headers["content-type"], "application/vnd.awslambda.http-integration-response");

        invocation
            .until("the first word", |bytes| {
                body_after_prelude(bytes).is_some_and(|body| String::from_utf8_lossy(body).contains("Streaming"))
            })
            .await;
        assert_eq!(gate.sent(), 2, "Bedrock has not produced the rest yet");
        let (prelude, body) = invocation.split();
        assert_eq!(prelude["statusCode"], 200);
        assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
        assert_eq!(prelude["headers"]["cache-control"], "no-cache");
        let early = parse_sse(body);
        assert_eq!(early.len(), 2, "the role chunk and the first word: {early:#?}");
        assert_eq!(early[1].delta().unwrap()["content"], "Streaming");

        gate.release();
        invocation.read_to_end().await;
        let (_, body) = invocation.split();
        let events = parse_sse(body);
        let chunks = assert_complete_stream(&events);
        assert_eq!(content(&chunks), "Streaming through Lambda");
        assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 3);
    }

    // Invocation 2: an error before the first event keeps its status, in the prelude.
    {
        let (mut invocation, _) = Invocation::start(&mut seen, "invocation-2").await;
        invocation.read_to_end().await;
        let (prelude, body) = invocation.split();
        assert_eq!(prelude["statusCode"], 429);
        assert_eq!(prelude["headers"]["retry-after"], "2");
        assert_eq!(prelude["headers"]["content-type"], "application/json");
        let error: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(error["error"]["code"], "throttled");
        assert!(!body.starts_with(b"data:"), "an error before the stream starts is plain JSON");
    }

    assert!(seen.try_recv().is_err(), "nothing else reached the Runtime API");
    function.abort();
}

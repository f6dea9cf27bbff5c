//! One stub of the Lambda Runtime API on loopback, for every test and bench that runs a function
//! as Lambda does: a queue of events that `GET /next` hands out (a poll on an empty queue waits,
//! as in a frozen execution environment), and a record of everything the runtime sends back, each
//! with the moment it arrived: polls, the response head (buffered or `streaming` mode), every
//! body chunk as it comes (a streamed answer starts with the metadata prelude), errors and init
//! errors.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use crate::serve;

/// Ends the metadata prelude of a streamed response; the HTTP body follows.
pub const PRELUDE_END: &[u8] = &[0; 8];
/// Generous bound for one step; tests assert order, not speed.
const STEP: Duration = Duration::from_secs(20);
const BASE: &str = "/2018-06-01/runtime";

/// What the runtime did.
#[derive(Debug)]
pub enum Seen {
    /// `GET /next`: the runtime is ready for work.
    Polled,
    /// The head of `POST /invocation/{id}/response`.
    Response { request_id: String, headers: HeaderMap },
    /// A piece of a response body, as it arrived.
    Chunk { request_id: String, bytes: Bytes },
    /// The end of a response body.
    End { request_id: String },
    /// `POST /invocation/{id}/error`.
    Error { request_id: String, body: String },
    /// `POST /init/error`: the cold start failed.
    InitError { body: String },
}

/// A stub Runtime API; dropping it does not stop the server (the test's runtime does).
pub struct RuntimeApi {
    addr: SocketAddr,
    stub: Stub,
    seen: mpsc::UnboundedReceiver<(Instant, Seen)>,
    /// When each poll arrived, in order.
    polls: Vec<Instant>,
    /// Responses begun and not ended yet, by request id.
    open: HashMap<String, Answer>,
}

#[derive(Clone)]
struct Stub {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    queued: Arc<Notify>,
    seen: mpsc::UnboundedSender<(Instant, Seen)>,
}

impl Stub {
    fn record(&self, seen: Seen) {
        let _ = self.seen.send((Instant::now(), seen));
    }
}

impl RuntimeApi {
    /// Serves the stub on 127.0.0.1:0.
    pub async fn start() -> RuntimeApi {
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let stub = Stub { events: Arc::default(), queued: Arc::default(), seen: seen_tx };
        let router = Router::new()
            .route(&format!("{BASE}/invocation/next"), get(next))
            .route(&format!("{BASE}/invocation/{{id}}/response"), post(response))
            .route(&format!("{BASE}/invocation/{{id}}/error"), post(error))
            .route(&format!("{BASE}/init/error"), post(init_error))
            .with_state(stub.clone());
        let addr = serve(router).await.addr;
        RuntimeApi { addr, stub, seen, polls: Vec::new(), open: HashMap::new() }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The environment Lambda gives a function's process, pointing at this stub.
    pub fn lambda_env(&self, function: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2024/11/26/[$LATEST]0123456789abcdef".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
        ]
    }

    /// Queues an invocation; a waiting poll takes it at once.
    pub fn push(&self, request_id: &str, event: impl Into<String>) {
        self.stub.events.lock().unwrap().push_back((request_id.to_owned(), event.into()));
        self.stub.queued.notify_one();
    }

    /// When each poll seen so far arrived.
    pub fn polls(&self) -> &[Instant] {
        &self.polls
    }

    /// Waits until the runtime has polled `count` times in all; returns when the last of them
    /// arrived. Panics on anything else (an init error says why the cold start failed).
    pub async fn poll(&mut self, count: usize) -> Instant {
        while self.polls.len() < count {
            match self.record().await {
                (at, Seen::Polled) => self.polls.push(at),
                (_, other) => panic!("expected a poll, got {other:?}"),
            }
        }
        self.polls[count - 1]
    }

    /// The next thing the runtime did other than polling, and when; polls are noted on the way.
    pub async fn event(&mut self) -> (Instant, Seen) {
        loop {
            match self.record().await {
                (at, Seen::Polled) => self.polls.push(at),
                other => return other,
            }
        }
    }

    /// Whatever the runtime did that has not been read yet, polls aside.
    pub fn try_event(&mut self) -> Option<Seen> {
        while let Ok((at, seen)) = self.seen.try_recv() {
            match seen {
                Seen::Polled => self.polls.push(at),
                other => return Some(other),
            }
        }
        None
    }

    async fn record(&mut self) -> (Instant, Seen) {
        match tokio::time::timeout(STEP, self.seen.recv()).await {
            Ok(Some(seen)) => seen,
            Ok(None) => unreachable!("the stub keeps a sender"),
            Err(_) => panic!("the runtime did nothing for {STEP:?}"),
        }
    }

    /// Waits for the head of the response to `request_id` and returns a reader of its body, for
    /// a function that answers one invocation at a time.
    pub async fn response(&mut self, request_id: &str) -> Invocation<'_> {
        match self.event().await {
            (at, Seen::Response { request_id: id, headers }) => {
                assert_eq!(id, request_id, "responses come in the order of their invocations");
                Invocation { api: self, request_id: id, answer: Answer::new(at, headers), finished: false }
            }
            (_, other) => panic!("expected a response to {request_id}, got {other:?}"),
        }
    }

    /// The next complete answer, whichever invocation it belongs to (a function may run several
    /// at once and interleave them); a reported error panics.
    pub async fn next_answer(&mut self) -> (String, Answer) {
        loop {
            if let Some(ended) = self.step().await {
                return ended;
            }
        }
    }

    /// The complete answers to `count` invocations, by request id.
    pub async fn answers(&mut self, count: usize) -> HashMap<String, Answer> {
        let mut done = HashMap::with_capacity(count);
        while done.len() < count {
            let (request_id, answer) = self.next_answer().await;
            done.insert(request_id, answer);
        }
        done
    }

    /// Reads what the runtime sends until the answers in progress satisfy `done`, by request id;
    /// panics if one of them ends first.
    pub async fn until_in_progress(&mut self, what: &str, done: impl Fn(&HashMap<String, Answer>) -> bool) {
        while !done(&self.open) {
            if let Some((request_id, answer)) = self.step().await {
                panic!("{request_id} ended before {what}: {}", answer.text());
            }
        }
    }

    /// Takes one thing the runtime did into the answers in progress; returns an answer that ended.
    async fn step(&mut self) -> Option<(String, Answer)> {
        match self.event().await {
            (at, Seen::Response { request_id, headers }) => {
                let fresh = self.open.insert(request_id.clone(), Answer::new(at, headers)).is_none();
                assert!(fresh, "two responses to {request_id}");
                None
            }
            (at, Seen::Chunk { request_id, bytes }) => {
                self.open_answer(&request_id).add(at, &bytes);
                None
            }
            (at, Seen::End { request_id }) => {
                let mut answer = self.open.remove(&request_id).expect("a started response");
                answer.ended_at = Some(at);
                Some((request_id, answer))
            }
            (_, other) => panic!("the function failed: {other:?}"),
        }
    }

    fn open_answer(&mut self, request_id: &str) -> &mut Answer {
        self.open.get_mut(request_id).unwrap_or_else(|| panic!("a body for {request_id} before its head"))
    }
}

/// One response as the stub received it.
#[derive(Debug)]
pub struct Answer {
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    /// When the response's head, its first body byte and its end arrived.
    pub head_at: Instant,
    pub first_byte_at: Option<Instant>,
    pub ended_at: Option<Instant>,
    /// A streamed answer: when the first byte of the HTTP body after the prelude arrived.
    pub body_at: Option<Instant>,
}

impl Answer {
    fn new(head_at: Instant, headers: HeaderMap) -> Answer {
        Answer { headers, bytes: Vec::new(), head_at, first_byte_at: None, ended_at: None, body_at: None }
    }

    fn add(&mut self, at: Instant, bytes: &[u8]) {
        self.first_byte_at.get_or_insert(at);
        self.bytes.extend_from_slice(bytes);
        if self.body_at.is_none() && self.body_after_prelude().is_some_and(|body| !body.is_empty()) {
            self.body_at = Some(at);
        }
    }

    /// Was it sent in Lambda's `streaming` response mode?
    pub fn streamed(&self) -> bool {
        self.headers.get("lambda-runtime-function-response-mode").is_some_and(|mode| mode == "streaming")
    }

    /// A streamed answer's metadata prelude (status, headers) and the HTTP body after it.
    pub fn split(&self) -> (Value, &[u8]) {
        let at = self.bytes.windows(8).position(|w| w == PRELUDE_END).expect("prelude delimiter");
        (serde_json::from_slice(&self.bytes[..at]).expect("prelude JSON"), &self.bytes[at + 8..])
    }

    /// The HTTP body of a streamed answer, once its prelude is complete.
    pub fn body_after_prelude(&self) -> Option<&[u8]> {
        self.bytes.windows(8).position(|w| w == PRELUDE_END).map(|at| &self.bytes[at + 8..])
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Reads the response to one invocation as it arrives; must be read to its end.
pub struct Invocation<'a> {
    api: &'a mut RuntimeApi,
    request_id: String,
    answer: Answer,
    finished: bool,
}

impl Invocation<'_> {
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// Waits until the body received so far satisfies `done`; panics if it ends first.
    pub async fn until(&mut self, what: &str, done: impl Fn(&Answer) -> bool) {
        while !done(&self.answer) {
            assert!(self.answer.ended_at.is_none(), "the body ended before {what}: {:?}", self.answer.text());
            self.receive(what).await;
        }
    }

    /// Reads the body to its end; returns the whole answer.
    pub async fn read_to_end(mut self) -> Answer {
        while self.answer.ended_at.is_none() {
            self.receive("the end of the body").await;
        }
        self.finished = true;
        std::mem::replace(&mut self.answer, Answer::new(Instant::now(), HeaderMap::new()))
    }

    async fn receive(&mut self, what: &str) {
        let (at, seen) = tokio::time::timeout(STEP, self.api.event())
            .await
            .unwrap_or_else(|_| panic!("{what} never reached the Runtime API; got {:?}", self.answer.text()));
        match seen {
            Seen::Chunk { request_id, bytes } if request_id == self.request_id => self.answer.add(at, &bytes),
            Seen::End { request_id } if request_id == self.request_id => self.answer.ended_at = Some(at),
            Seen::Error { request_id, body } => panic!("the function reported an error for {request_id}: {body}"),
            other => panic!("unexpected {other:?} while reading the answer to {}", self.request_id),
        }
    }
}

impl Drop for Invocation<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(self.finished, "every invocation is read to its end");
        }
    }
}

async fn next(State(stub): State<Stub>) -> Response {
    stub.record(Seen::Polled);
    let (request_id, event) = loop {
        let queued = stub.queued.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        if let Some(next) = stub.events.lock().unwrap().pop_front() {
            break next;
        }
        queued.await;
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 900_000;
    Response::builder()
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        .header("lambda-runtime-trace-id", "Root=1-6745a3f2-0a1b2c3d4e5f60718293a4b5;Parent=53995c3f42cd8ad8;Sampled=0")
        .body(Body::from(event))
        .unwrap()
}

async fn response(
    State(stub): State<Stub>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    stub.record(Seen::Response { request_id: request_id.clone(), headers });
    let mut body = body.into_data_stream();
    while let Some(chunk) = body.next().await {
        let bytes = chunk.expect("the runtime sends the body without error");
        stub.record(Seen::Chunk { request_id: request_id.clone(), bytes });
    }
    stub.record(Seen::End { request_id });
    StatusCode::ACCEPTED
}

async fn error(State(stub): State<Stub>, Path(request_id): Path<String>, body: String) -> StatusCode {
    stub.record(Seen::Error { request_id, body });
    StatusCode::ACCEPTED
}

async fn init_error(State(stub): State<Stub>, body: String) -> StatusCode {
    stub.record(Seen::InitError { body });
    StatusCode::ACCEPTED
}

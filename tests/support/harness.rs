//! The dev server (every function's routes) over its own Bedrock emulator, on loopback, driven
//! over real HTTP: real SDK, real sockets, real wire formats.

use std::net::SocketAddr;
use std::sync::Arc;

use dev::emulator::Emulator;
use dev::server::{self, DevServer};
use serde_json::Value;
use shared::bedrock::SdkBedrock;
use shared::config::Env;
use shared::keys::KeysTable;
use shared::tools::{Tool, Toolbox};
use shared::{AppState, Config, ToolsState};

/// The settings of a test: `vars`, plus one attempt per Bedrock call so a fault surfaces as is.
pub fn env(vars: &[(&str, &str)]) -> Env {
    Env::from_pairs([("BEDROCK_MAX_ATTEMPTS", "1")].into_iter().chain(vars.iter().copied()))
}

/// A function's state over the Bedrock at `bedrock_url`, in the test configuration ([`env`]).
pub fn app_state(bedrock_url: &str) -> AppState {
    let config = Config::load(&env(&[])).expect("test configuration");
    let bedrock = SdkBedrock::for_endpoint(bedrock_url, &config).into_shared();
    AppState::new(config, bedrock)
}

/// How long the emulator's batch jobs stay in each status in tests.
pub const BATCH_STEP_MS: u64 = 20;

/// The settings that turn batch on in a test.
pub const BATCH_VARS: [(&str, &str); 4] = [
    ("BATCH_BUCKET", "test-batch"),
    // One record per job: the emulator is told the same; a test may raise it.
    ("BATCH_MIN_RECORDS", "1"),
    ("BATCH_ROLE_ARN", "arn:aws:iam::123456789012:role/test-batch"),
    ("BATCH_JOB_PREFIX", "test"),
];

/// A dev server on 127.0.0.1:0 with its own emulator.
pub struct Harness {
    pub server: DevServer,
    pub state: ToolsState,
    pub http: reqwest::Client,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Harness {
    /// Default configuration: every catalog model allowed, the built-in tools.
    pub async fn start() -> Self {
        Self::with_config(&[]).await
    }

    pub async fn with_config(vars: &[(&str, &str)]) -> Self {
        Self::with_tools(vars, Vec::new()).await
    }

    /// Batch on ([`BATCH_VARS`]), with `vars`.
    pub async fn with_batch(vars: &[(&str, &str)]) -> Self {
        let all: Vec<(&str, &str)> = BATCH_VARS.iter().copied().chain(vars.iter().copied()).collect();
        Self::with_config(&all).await
    }

    /// Also registers `extra` tools defined in code.
    pub async fn with_tools(vars: &[(&str, &str)], extra: Vec<Arc<dyn Tool>>) -> Self {
        Self::build(vars, extra, None).await
    }

    /// Keys on (`KEYS_TABLE` must be among `vars`), over `table`.
    pub async fn with_keys(vars: &[(&str, &str)], table: KeysTable) -> Self {
        Self::build(vars, Vec::new(), Some(table)).await
    }

    async fn build(vars: &[(&str, &str)], extra: Vec<Arc<dyn Tool>>, table: Option<KeysTable>) -> Self {
        let env = env(vars);
        let config = Config::load(&env).expect("test configuration");
        let mut toolbox = Toolbox::load(&env).expect("test tool configuration");
        for tool in extra {
            toolbox = toolbox.with_tool(tool).expect("test tool");
        }
        let emulator = Emulator::start().await.expect("emulator");
        let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &config).into_shared();
        // With BATCH_BUCKET among `vars`: a local S3 server and the emulator's batch jobs, a few
        // milliseconds per status, their state changes delivered to the finalizer.
        let local_batch = match config.batch.clone() {
            Some(settings) => {
                emulator.set_batch_step(std::time::Duration::from_millis(BATCH_STEP_MS));
                Some(dev::batch::start(&emulator, settings, 0).await.expect("local batch"))
            }
            None => None,
        };
        let mut app = AppState::new(config, bedrock);
        if let Some(table) = table {
            app = app.with_keys(table);
        }
        let s3 = local_batch.map(|(s3, batches)| {
            app = app.clone().with_batch(batches);
            dev::batch::deliver_events(&emulator, app.clone());
            s3
        });
        let state = ToolsState::new(app, toolbox);
        let mut server = server::serve(SocketAddr::from(([127, 0, 0, 1], 0)), state.clone(), Some(emulator))
            .await
            .expect("dev server");
        if let Some(s3) = s3 {
            server = server.with_s3(s3);
        }
        Harness { server, state, http: reqwest::Client::new() }
    }

    pub fn emulator(&self) -> &Emulator {
        self.server.emulator().expect("the harness always has an emulator")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string().into_bytes()).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Reply {
        self.post_with(path, body, &[]).await
    }

    /// POSTs `body` with extra `headers`.
    pub async fn post_with(&self, path: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Reply {
        let mut request = self.http.post(self.url(path)).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.http.get(self.url(path)).send().await.expect("request sent")).await
    }

    /// POSTs raw bytes to the tool loop with extra `headers`; returns status and JSON body.
    pub async fn post_tools(&self, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
        let reply = self.post_with("/tools/v1/chat/completions", body, headers).await;
        (reply.status, reply.body)
    }

    /// POSTs a tool-loop request; returns status and JSON body.
    pub async fn ask(&self, body: &Value) -> (u16, Value) {
        let reply = self.post_json("/tools/v1/chat/completions", body).await;
        (reply.status, reply.body)
    }
}

impl Reply {
    pub async fn read_response(response: reqwest::Response) -> Self {
        Self::read(response).await
    }

    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, headers, body }
    }

    /// The `error.message` of an error reply.
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error reply: {} {}", self.status, self.body))
    }
}

/// A one-message chat request.
pub fn chat(model: &str, prompt: &str) -> Value {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": prompt}]})
}

/// A one-message chat request that asks for server-sent events.
pub fn stream_request(model: &str, prompt: &str) -> Value {
    let mut request = chat(model, prompt);
    request["stream"] = Value::Bool(true);
    request
}

//! Support of the tool-loop tests: requests and answers, what the local webhook and callback
//! servers ([`crate::serve`]) received with their signatures checked, and tools defined in code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use shared::tools::auth::{self, Secret};
use shared::tools::{Invocation, Tool, ToolError};

pub const SECRET: &str = "test-secret-0123456789";
pub const SEED_PROMPT: &str = "What's the status of my transaction T1001?";

/// A one-message request to the tool loop.
pub fn ask(prompt: &str) -> Value {
    json!({"model": "mistral-large", "messages": [{"role": "user", "content": prompt}]})
}

/// The final answer's text.
pub fn answer(body: &Value) -> &str {
    body["choices"][0]["message"]["content"].as_str().unwrap_or_else(|| panic!("no text answer: {body}"))
}

pub fn runs(body: &Value) -> &Vec<Value> {
    body["tool_runs"].as_array().unwrap_or_else(|| panic!("no tool_runs: {body}"))
}

/// What a local webhook or callback server received, signatures checked with [`SECRET`].
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Value,
    pub signature_valid: bool,
}

pub type Log = Arc<Mutex<Vec<Received>>>;

/// Records a request and whether its signature verifies.
pub fn record(log: &Log, path: &str, headers: &http::HeaderMap, body: &[u8]) -> bool {
    let secret = Secret::new(SECRET).unwrap();
    let valid = auth::verify(&secret, headers, body, auth::now()).is_ok();
    log.lock().unwrap().push(Received {
        path: path.to_owned(),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
        signature_valid: valid,
    });
    valid
}

/// A code tool that sleeps, for timing tests.
pub struct Sleeper {
    pub name: &'static str,
    pub sleep: Duration,
}

impl Tool for Sleeper {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "Sleeps, then answers"
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call<'a>(&'a self, _: Invocation<'a>) -> BoxFuture<'a, Result<Value, ToolError>> {
        Box::pin(async move {
            tokio::time::sleep(self.sleep).await;
            Ok(json!({"slept_ms": self.sleep.as_millis() as u64}))
        })
    }
}

/// Signature headers for an incoming request signed with `secret` at `timestamp`.
pub fn signed(secret: &str, timestamp: u64, body: &[u8]) -> Vec<(&'static str, String)> {
    let secret = Secret::new(secret).unwrap();
    vec![
        (auth::TIMESTAMP_HEADER, timestamp.to_string()),
        (auth::SIGNATURE_HEADER, auth::sign(&secret, timestamp, body)),
    ]
}

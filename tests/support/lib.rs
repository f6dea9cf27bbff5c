//! Shared test harness: the dev server (all routes) over the Bedrock emulator, on loopback,
//! driven over real HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use dev::emulator::Emulator;
use dev::server::{self, DevServer};
use serde_json::Value;
use shared::bedrock::SdkBedrock;
use shared::{AppState, Config};

/// A dev server on 127.0.0.1:0 with its own emulator.
pub struct Harness {
    pub server: DevServer,
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
    /// Default configuration: every catalog model allowed, one attempt per Bedrock call so a
    /// fault surfaces as is.
    pub async fn start() -> Self {
        Self::with_config(&[]).await
    }

    pub async fn with_config(vars: &[(&str, &str)]) -> Self {
        let mut map: BTreeMap<String, String> = BTreeMap::from([("BEDROCK_MAX_ATTEMPTS".into(), "1".into())]);
        map.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|k| map.get(k).cloned()).expect("test configuration");
        let emulator = Emulator::start().await.expect("emulator");
        let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &config).into_shared();
        let state = AppState::new(config, bedrock);
        let server =
            server::serve(SocketAddr::from(([127, 0, 0, 1], 0)), state, Some(emulator)).await.expect("dev server");
        Harness { server, http: reqwest::Client::new() }
    }

    pub fn emulator(&self) -> &Emulator {
        self.server.emulator().expect("harness always has an emulator")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string().into_bytes()).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Reply {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent");
        Reply::read(response).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.http.get(self.url(path)).send().await.expect("request sent")).await
    }
}

impl Reply {
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

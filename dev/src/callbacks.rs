//! A local receiver for the tools function's event callbacks, so the SQS and EventBridge sample
//! events work out of the box: `cargo lambda watch --env-file dev/lambda.env` runs the tools
//! function with this receiver allowed (`TOOLS_CALLBACK_ALLOWLIST=127.0.0.1:3000`) and its
//! secret, and the samples' `callback_url` is `http://127.0.0.1:3000/dev/callback`.
//!
//! `POST /dev/callback` checks the signature with [`DEV_CALLBACK_SECRET`] (401 when it does not
//! match, so a misconfigured sender sees it), keeps the callback and logs its status;
//! `GET /dev/callbacks` lists what arrived, newest last.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use shared::tools::auth::{self, Secret};

/// The callback secret of the local setup (`dev/lambda.env` gives the tools function the same).
/// Only ever for local development: a deployment sets its own `TOOLS_CALLBACK_SECRET`.
pub const DEV_CALLBACK_SECRET: &str = "local-dev-callback-secret";

/// Callbacks received so far.
#[derive(Debug, Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    pub fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub fn routes(received: Received) -> Router {
    Router::new()
        .route("/dev/callback", post(receive))
        .route("/dev/callbacks", get(|State(received): State<Received>| async move { Json(received.all()) }))
        .with_state(received)
}

async fn receive(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = Secret::new(DEV_CALLBACK_SECRET).expect("the dev secret is long enough");
    let signed = auth::verify(&secret, &headers, &body, auth::now());
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    tracing::info!(
        event_id = %payload["event_id"],
        status = %payload["status"],
        signature = if signed.is_ok() { "valid" } else { "invalid" },
        "callback received"
    );
    received
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(json!({"signature_valid": signed.is_ok(), "body": payload}));
    if signed.is_ok() { StatusCode::OK } else { StatusCode::UNAUTHORIZED }
}

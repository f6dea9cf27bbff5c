//! Webhook tools against a local test server (loopback explicitly allowed in the test
//! configuration): signed calls, and every way a webhook can fail turned into an error result
//! the model reads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tests::tools::{Log, SECRET, answer, ask, record, runs};
use tests::{Harness, Served, serve};

async fn hook(State(log): State<Log>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let valid = record(&log, uri.path(), &headers, &body);
    if !valid {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    match uri.path() {
        "/orders" => {
            let call: Value = serde_json::from_slice(&body).unwrap();
            let id = call["arguments"]["order_id"].as_str().unwrap_or_default().to_owned();
            axum::Json(json!({"order_id": id, "state": "shipped"})).into_response()
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(json!({"late": true})).into_response()
        }
        "/fail" => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "database down"}))).into_response(),
        "/text" => "plain words, not JSON".into_response(),
        "/huge" => axum::Json(json!({"blob": "x".repeat(100_000)})).into_response(),
        // No content-length: the cap must hold while reading.
        "/chunked" => {
            let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 1000])));
            axum::body::Body::from_stream(futures_util::stream::iter(chunks)).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The webhook server and a stack whose tools point at it.
async fn webhook_stack(secret_for_tools: &str) -> (Harness, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let Served { addr, .. } = serve(Router::new().route("/{*path}", post(hook)).with_state(log.clone())).await;
    let tool = |name: &str, path: &str, timeout_ms: u64| {
        json!({"name": name, "description": format!("{name} webhook"), "url": format!("http://{addr}{path}"),
               "timeout_ms": timeout_ms, "secret_env": "HOOK_SECRET",
               "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}})
    };
    let hooks = json!([
        tool("lookup_order", "/orders", 2000),
        tool("slow_hook", "/slow", 300),
        tool("failing_hook", "/fail", 2000),
        tool("text_hook", "/text", 2000),
        tool("huge_hook", "/huge", 2000),
        tool("chunked_hook", "/chunked", 2000),
    ])
    .to_string();
    let stack = Harness::with_config(&[
        ("TOOLS_WEBHOOKS", &hooks),
        ("TOOLS_WEBHOOK_ALLOWLIST", "127.0.0.1"),
        ("TOOLS_ALLOW_LOOPBACK", "true"),
        ("TOOLS_MAX_RESULT_BYTES", "4096"),
        ("HOOK_SECRET", secret_for_tools),
    ])
    .await;
    (stack, log)
}

#[tokio::test]
async fn a_webhook_tool_is_called_signed_and_its_reply_is_the_result() {
    let (stack, log) = webhook_stack(SECRET).await;
    let (status, body) = stack.ask(&ask(r#"Where is my order? [[call:lookup_order {"order_id": "A17"}]]"#)).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(run["result"], json!({"order_id": "A17", "state": "shipped"}));
    assert_eq!(answer(&body), r#"Tool results: name=lookup_order -> {"order_id":"A17","state":"shipped"}"#);

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(received[0].signature_valid, "the server could verify the signature");
    assert_eq!(
        received[0].body,
        json!({"tool": "lookup_order", "arguments": {"order_id": "A17"}, "call_id": run["id"], "request_id": body["id"]})
    );
}

#[tokio::test]
async fn a_webhook_refusing_our_signature_is_an_error_result() {
    let (stack, log) = webhook_stack("a-different-secret-123456").await;
    let (status, body) = stack.ask(&ask(r#"[[call:lookup_order {"order_id": "A17"}]]"#)).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["error_code"], "bad_reply");
    assert!(run["error"].as_str().unwrap().contains("HTTP 401"), "{run}");
    assert!(!log.lock().unwrap()[0].signature_valid);
}

#[tokio::test]
async fn a_slow_webhook_times_out() {
    let (stack, _) = webhook_stack(SECRET).await;
    let (status, body) = stack.ask(&ask("[[call:slow_hook {}]]")).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["error_code"], "timeout", "{run}");
    assert!(run["duration_ms"].as_f64().unwrap() < 2000.0, "{run}");
    assert!(answer(&body).contains("error: the tool did not answer within 300 ms"), "{body}");
}

#[tokio::test]
async fn failing_non_json_and_oversized_replies_are_error_results() {
    let (stack, _) = webhook_stack(SECRET).await;
    let prompt = "[[call:failing_hook {}]] [[call:text_hook {}]] [[call:huge_hook {}]] [[call:chunked_hook {}]]";
    let (status, body) = stack.ask(&ask(prompt)).await;
    assert_eq!(status, 200, "{body}");
    let trace = runs(&body);
    let codes: Vec<&str> = trace.iter().map(|r| r["error_code"].as_str().unwrap_or("ok")).collect();
    assert_eq!(codes, ["bad_reply", "bad_reply", "too_large", "too_large"], "{body}");
    let error = |i: usize| trace[i]["error"].as_str().unwrap();
    assert!(error(0).contains("HTTP 500") && error(0).contains("database down"), "{}", error(0));
    assert!(error(1).contains("not JSON"), "{}", error(1));
    assert!(error(2).contains("4096 bytes"), "{}", error(2));
    // All four errors reached the model in one user turn.
    let text = answer(&body);
    assert_eq!(text.matches("-> error:").count(), 4, "{text}");
}

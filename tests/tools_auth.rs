//! Incoming HMAC signatures on `/tools/v1/chat/completions`: only a fresh signature over the
//! exact body gets through; everything else is a 401 before any model call.

use serde_json::Value;
use shared::tools::auth;
use tests::Harness;
use tests::tools::{SECRET, SEED_PROMPT, answer, ask, signed};

async fn guarded() -> Harness {
    Harness::with_config(&[("TOOLS_INBOUND_SECRET", SECRET)]).await
}

fn body() -> Vec<u8> {
    ask(SEED_PROMPT).to_string().into_bytes()
}

fn assert_refused(status: u16, reply: &Value, says: &str) {
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["error"]["type"], "authentication_error");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

#[tokio::test]
async fn a_valid_signature_is_accepted() {
    let stack = guarded().await;
    let body = body();
    let (status, reply) = stack.post_tools(body.clone(), &signed(SECRET, auth::now(), &body)).await;
    assert_eq!(status, 200, "{reply}");
    assert!(answer(&reply).contains("Paid"));
    assert_eq!(stack.emulator().requests(), 2);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_a_model_call() {
    let stack = guarded().await;
    let body = body();
    let (status, reply) = stack.post_tools(body.clone(), &signed("not-the-right-secret-42", auth::now(), &body)).await;
    assert_refused(status, &reply, "does not match");
    assert_eq!(stack.emulator().requests(), 0);
}

#[tokio::test]
async fn a_stale_timestamp_is_refused_without_a_model_call() {
    let stack = guarded().await;
    let body = body();
    let (status, reply) = stack.post_tools(body.clone(), &signed(SECRET, auth::now() - 301, &body)).await;
    assert_refused(status, &reply, "5 minutes");
    let (status, reply) = stack.post_tools(body.clone(), &signed(SECRET, auth::now() + 400, &body)).await;
    assert_refused(status, &reply, "5 minutes");
    assert_eq!(stack.emulator().requests(), 0);
}

#[tokio::test]
async fn a_tampered_body_is_refused_without_a_model_call() {
    let stack = guarded().await;
    let body = body();
    let headers = signed(SECRET, auth::now(), &body);
    let tampered = String::from_utf8(body).unwrap().replace("T1001", "T1002").into_bytes();
    let (status, reply) = stack.post_tools(tampered, &headers).await;
    assert_refused(status, &reply, "does not match");
    assert_eq!(stack.emulator().requests(), 0);
}

#[tokio::test]
async fn missing_headers_are_refused_without_a_model_call() {
    let stack = guarded().await;
    let body = body();
    let (status, reply) = stack.post_tools(body.clone(), &[]).await;
    assert_refused(status, &reply, auth::TIMESTAMP_HEADER);
    let only_timestamp = vec![(auth::TIMESTAMP_HEADER, auth::now().to_string())];
    let (status, reply) = stack.post_tools(body, &only_timestamp).await;
    assert_refused(status, &reply, auth::SIGNATURE_HEADER);
    assert_eq!(stack.emulator().requests(), 0);
}

#[tokio::test]
async fn without_a_configured_secret_no_signature_is_needed() {
    let stack = Harness::with_config(&[]).await;
    let (status, reply) = stack.post_tools(body(), &[]).await;
    assert_eq!(status, 200, "{reply}");
}

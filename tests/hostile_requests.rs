//! Malformed and hostile requests: each gets a 4xx JSON error naming the problem, none reaches
//! Bedrock, and the server keeps serving (no panic).

use serde_json::{Value, json};
use tests::Harness;

fn user(content: Value) -> Value {
    json!({"role": "user", "content": content})
}

fn req(extra: Value) -> Value {
    let mut body = json!({"model": "mistral-large", "messages": [user(json!("hi"))]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut s = String::from("{\"model\": \"mistral-large\", \"messages\": [{\"role\": \"user\", \"content\": ");
    s.push_str(&"[".repeat(depth));
    s.push_str(&"]".repeat(depth));
    s.push_str("}]}");
    s.into_bytes()
}

/// (case, raw body, expected status, a word the message must hold)
fn cases() -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let j = |v: Value| v.to_string().into_bytes();
    let tool = json!({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}});
    vec![
        ("empty body", vec![], 400, "empty"),
        ("whitespace body", b"   \n".to_vec(), 400, "empty"),
        ("not json", b"hello".to_vec(), 400, "JSON"),
        ("truncated json", b"{\"messages\": [".to_vec(), 400, "JSON"),
        ("trailing garbage", b"{\"messages\": []} xyz".to_vec(), 400, "JSON"),
        ("json array", j(json!([1, 2])), 400, "invalid"),
        ("json string", j(json!("hi")), 400, "invalid"),
        ("invalid utf-8", b"{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}".to_vec(), 400, "UTF-8"),
        ("missing messages", j(json!({"model": "mistral-large"})), 400, "messages"),
        ("messages not a list", j(json!({"messages": "hi"})), 400, "messages"),
        ("empty messages", j(json!({"messages": []})), 400, "messages"),
        ("message not an object", j(json!({"messages": [42]})), 400, "messages[0]"),
        ("missing role", j(json!({"messages": [{"content": "hi"}]})), 400, "messages[0]"),
        ("unknown role", j(json!({"messages": [{"role": "robot", "content": "hi"}]})), 400, "robot"),
        ("role wrong type", j(json!({"messages": [{"role": 7, "content": "hi"}]})), 400, "messages[0]"),
        ("content wrong type", j(json!({"messages": [user(json!(12))]})), 400, "messages[0]"),
        ("empty content", j(json!({"messages": [user(json!(""))]})), 400, "empty"),
        ("blank content parts", j(json!({"messages": [user(json!([{"type": "text", "text": " "}]))]})), 400, "empty"),
        (
            "unknown content part",
            j(json!({"messages": [user(json!([{"type": "audio", "data": "x"}]))]})),
            400,
            "messages[0]",
        ),
        (
            "starts with assistant",
            j(json!({"messages": [{"role": "assistant", "content": "hi"}, user(json!("x"))]})),
            400,
            "start with a user",
        ),
        (
            "only system",
            j(json!({"model": "mistral-large", "messages": [{"role": "system", "content": "x"}]})),
            400,
            "user message",
        ),
        (
            "assistant without content",
            j(json!({"messages": [user(json!("x")), {"role": "assistant"}]})),
            400,
            "content or tool_calls",
        ),
        (
            "tool message without call",
            j(json!({"messages": [user(json!("x")), {"role": "tool", "tool_call_id": "c1", "content": "r"}]})),
            400,
            "tool_call_id",
        ),
        (
            "tool message without id",
            j(json!({"messages": [user(json!("x")), {"role": "tool", "content": "r"}]})),
            400,
            "tool_call_id",
        ),
        (
            "unanswered tool call",
            j(json!({"tools": [tool], "messages": [user(json!("x")),
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]}, user(json!("y"))]})),
            400,
            "c1",
        ),
        (
            "tool call arguments not json",
            j(json!({"tools": [tool], "messages": [user(json!("x")),
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{oops"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"}]})),
            400,
            "arguments",
        ),
        (
            "tool call arguments not an object",
            j(json!({"tools": [tool], "messages": [user(json!("x")),
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "[1]"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"}]})),
            400,
            "object",
        ),
        (
            "tool call history without tools",
            j(json!({"messages": [user(json!("x")),
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"}]})),
            400,
            "tools",
        ),
        ("model unknown", j(json!({"model": "gpt-4o", "messages": [user(json!("x"))]})), 404, "gpt-4o"),
        (
            "model not allowed",
            j(json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [user(json!("x"))]})),
            404,
            "not available",
        ),
        ("model wrong type", j(json!({"model": 5, "messages": [user(json!("x"))]})), 400, "model"),
        ("temperature too high", j(req(json!({"temperature": 3}))), 400, "temperature"),
        ("temperature negative", j(req(json!({"temperature": -1}))), 400, "temperature"),
        ("temperature string", j(req(json!({"temperature": "hot"}))), 400, "temperature"),
        ("top_p zero", j(req(json!({"top_p": 0}))), 400, "top_p"),
        ("max_tokens zero", j(req(json!({"max_tokens": 0}))), 400, "max_tokens"),
        ("max_tokens negative", j(req(json!({"max_tokens": -10}))), 400, "max_tokens"),
        ("max_tokens fraction", j(req(json!({"max_tokens": 1.5}))), 400, "max_tokens"),
        ("max_tokens huge", j(req(json!({"max_tokens": 10_000_000_000i64}))), 400, "max_tokens"),
        ("too many stops", j(req(json!({"stop": ["a","b","c","d","e","f","g","h","i","j","k"]}))), 400, "stop"),
        ("empty stop", j(req(json!({"stop": [""]}))), 400, "stop"),
        ("stream wrong type", j(req(json!({"stream": "yes"}))), 400, "stream"),
        ("seed", j(req(json!({"random_seed": 1}))), 400, "random_seed"),
        ("n above one", j(req(json!({"n": 3}))), 400, "n"),
        ("tools not a list", j(req(json!({"tools": {"name": "f"}}))), 400, "tools"),
        ("tool without function", j(req(json!({"tools": [{"type": "function"}]}))), 400, "tools[0]"),
        (
            "tool bad name",
            j(req(json!({"tools": [{"type": "function", "function": {"name": "rm -rf /"}}]}))),
            400,
            "tools[0].function.name",
        ),
        ("tool duplicate name", j(req(json!({"tools": [tool, tool]}))), 400, "twice"),
        (
            "tool schema not object",
            j(req(json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]}))),
            400,
            "parameters",
        ),
        (
            "tool type not function",
            j(req(json!({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}))),
            400,
            "tools[0].type",
        ),
        ("tool_choice unknown", j(req(json!({"tools": [tool], "tool_choice": "maybe"}))), 400, "tool_choice"),
        ("tool_choice forced without tools", j(req(json!({"tool_choice": "any"}))), 400, "tool_choice"),
        (
            "tool_choice names missing tool",
            j(req(json!({"tools": [tool], "tool_choice": {"type": "function", "function": {"name": "g"}}}))),
            400,
            "tool_choice",
        ),
        (
            "tools on a model without tools",
            j(json!({"model": "mistral-7b", "tools": [tool], "messages": [user(json!("x"))]})),
            400,
            "tool use",
        ),
        (
            "system on a model without system",
            j(json!({"model": "mixtral-8x7b", "messages": [{"role": "system", "content": "s"}, user(json!("x"))]})),
            400,
            "system",
        ),
        ("response_format unknown", j(req(json!({"response_format": {"type": "xml"}}))), 400, "response_format"),
        (
            "json_schema without schema",
            j(json!({"model": "mistral-large-3", "messages": [user(json!("x"))],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})),
            400,
            "schema",
        ),
        (
            "remote image url",
            j(
                json!({"model": "pixtral-large", "messages": [user(json!([{"type": "image_url", "image_url": "http://169.254.169.254/latest/meta-data"}]))]}),
            ),
            400,
            "data:",
        ),
        (
            "image on text model",
            j(
                json!({"model": "mistral-large", "messages": [user(json!([{"type": "image_url", "image_url": "data:image/png;base64,AAAA"}]))]}),
            ),
            400,
            "images",
        ),
        (
            "too many messages",
            j(json!({"messages": (0..600).map(|_| user(json!("x"))).collect::<Vec<_>>()})),
            400,
            "limit",
        ),
        ("deeply nested json", nested_arrays(100_000), 400, "JSON"),
        ("oversized body", j(json!({"messages": [user(json!("x".repeat(2 << 20)))]})), 413, "larger than"),
        (
            "prefix not last",
            j(
                json!({"messages": [user(json!("x")), {"role": "assistant", "content": "a", "prefix": true}, user(json!("y"))]}),
            ),
            400,
            "prefix",
        ),
    ]
}

#[tokio::test]
async fn every_hostile_request_gets_a_clear_4xx_and_never_reaches_bedrock() {
    let h = Harness::start().await;
    let cases = cases();
    assert!(cases.len() >= 40, "the issue asks for at least 40 cases");
    for (name, body, status, needle) in cases {
        let reply = h.post_raw("/v1/chat/completions", body).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        let message = reply.error_message();
        assert!(message.contains(needle), "{name}: message `{message}` should mention `{needle}`");
        let kind = reply.body["error"]["type"].as_str().unwrap();
        assert!(["invalid_request_error", "not_found_error"].contains(&kind), "{name}: type {kind}");
        assert_eq!(h.emulator().requests(), 0, "{name} reached Bedrock");
    }
    // Still serving after all of that.
    let ok = h.post_json("/v1/chat/completions", &req(json!({}))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let h = Harness::start().await;
    let reply = h.get("/v1/chat/completions").await;
    assert_eq!(reply.status, 405);
    assert!(reply.error_message().contains("GET"));
    let reply = h.post_json("/v2/chat/completions", &req(json!({}))).await;
    assert_eq!(reply.status, 404);
    assert!(reply.error_message().contains("/v2/chat/completions"));
    assert_eq!(h.emulator().requests(), 0);
}

/// A function built without tools (converse, stream) has no tool route: its router cannot reach
/// the tool loop, and the 404 names the function that serves the path.
#[tokio::test]
async fn a_function_without_tools_answers_404_for_the_tool_route() {
    use tower::ServiceExt;

    let h = Harness::start().await;
    let converse = shared::routes::converse_router(h.state.app.clone());
    let request = http::Request::post("/tools/v1/chat/completions")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(req(json!({})).to_string()))
        .unwrap();
    let response = converse.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 404);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("served by the tools function"), "{message}");
    assert_eq!(h.emulator().requests(), 0);
}

/// Python's `http.client` and many SDKs write the whole body before reading the answer: the
/// server must read (and discard) an oversized body so such a client sees the 413, not a reset.
#[tokio::test]
async fn a_client_that_writes_an_oversized_body_before_reading_gets_the_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let h = Harness::start().await;
    let body = json!({"messages": [user(json!("x".repeat(4 << 20)))]}).to_string();
    let mut stream = tokio::net::TcpStream::connect(h.server.addr()).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.expect("the server reads the whole body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("the answer arrives");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["error"]["code"], "payload_too_large");
    assert_eq!(h.emulator().requests(), 0);
}

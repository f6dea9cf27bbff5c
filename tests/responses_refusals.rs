//! What the Responses API refuses, and how it fails, end to end over real HTTP: state it does
//! not keep (`store: true`, `previous_response_id`, `conversation`, item references), malformed
//! and hostile bodies (each a 4xx in the API's error shape naming the field as the Responses
//! request spells it, none reaching Bedrock), and failures before and after the first event.

use serde_json::{Value, json};
use tests::Harness;
use tests::responses::events as read_events;

#[tokio::test]
async fn state_is_refused_because_the_gateway_is_stateless() {
    let h = Harness::start().await;
    for (field, value) in
        [("previous_response_id", json!("resp_1")), ("store", json!(true)), ("conversation", json!("conv_1"))]
    {
        let mut body = json!({"model": "mistral-large", "input": "Hi"});
        body[field] = value;
        let reply = h.post_json("/v1/responses", &body).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["error"]["param"], field);
        assert_eq!(reply.body["error"]["type"], "invalid_request_error");
        assert!(reply.error_message().contains("stateless"), "{}", reply.body);
    }
    let reference = json!({"model": "mistral-large", "input": [{"type": "item_reference", "id": "msg_1"}]});
    let reply = h.post_json("/stream/v1/responses", &reference).await;
    assert_eq!((reply.status, reply.body["error"]["param"].as_str()), (400, Some("input[0]")), "{}", reply.body);
}

#[tokio::test]
async fn malformed_items_are_400s_naming_the_item() {
    let h = Harness::start().await;
    let cases = [
        (
            json!([{"role": "user", "content": "Hi"}, {"type": "function_call_output", "call_id": "c1", "output": "x"}]),
            "input[1].call_id",
        ),
        (json!([{"role": "robot", "content": "Hi"}]), "input[0].role"),
        (json!([{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]), "input[0].content[0].type"),
        (json!(7), "input"),
    ];
    for (input, param) in cases {
        let reply = h.post_json("/v1/responses", &json!({"model": "mistral-large", "input": input})).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["error"]["param"], param, "{}", reply.body);
        assert!(reply.error_message().starts_with(&format!("{param}: ")), "{}", reply.body);
    }
    let reply = h.post_raw("/v1/responses", b"[1]".to_vec()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn a_failure_before_the_first_event_keeps_its_status_and_after_it_is_response_failed() {
    let h = Harness::start().await;
    let throttled = json!({"model": "mistral-large", "stream": true, "input": "hi [[fault:throttle]]"});
    let reply = h.post_json("/stream/v1/responses", &throttled).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], "throttled");

    let midway = json!({"model": "mistral-large", "stream": true, "input": "one two three four [[midstream:throttlingException]]"});
    let (_, events) = read_events(&h, "/stream/v1/responses", &midway).await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names[..2], ["response.created", "response.in_progress"]);
    assert_eq!(names[names.len() - 2..], ["error", "response.failed"], "{names:?}");
    assert!(names.contains(&"response.output_text.delta"), "it had started: {names:?}");
    let (_, failed) = events.last().unwrap();
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(failed["response"]["error"]["code"], "throttled");
    assert_eq!(events[events.len() - 2].1["code"], "throttled");
}

/// (case, raw body, a word the message must hold)
fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let j = |v: Value| v.to_string().into_bytes();
    let with = |field: &str, value: Value| {
        let mut body = json!({"model": "mistral-large", "input": "hi"});
        body[field] = value;
        j(body)
    };
    let items = |items: Value| j(json!({"model": "mistral-large", "input": items}));
    vec![
        ("empty body", vec![], "empty"),
        ("not json", b"hello".to_vec(), "JSON"),
        ("truncated json", b"{\"input\": [".to_vec(), "JSON"),
        ("json array", j(json!([1, 2])), "JSON object"),
        ("missing input", j(json!({"model": "mistral-large"})), "input"),
        ("input a number", with("input", json!(7)), "input"),
        ("empty input list", items(json!([])), "input: is empty"),
        ("item not an object", items(json!([42])), "input[0]"),
        ("item without type or role", items(json!([{"content": "hi"}])), "input[0].type"),
        ("unknown item type", items(json!([{"type": "computer_call", "id": "c"}])), "input[0].type"),
        ("unknown role", items(json!([{"role": "robot", "content": "hi"}])), "input[0].role"),
        ("content a number", items(json!([{"role": "user", "content": 3}])), "input[0].content"),
        (
            "an input_file part",
            items(json!([{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}])),
            "input[0].content[0].type",
        ),
        (
            "an image without a URL",
            items(json!([{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}])),
            "image_url",
        ),
        (
            "a call without call_id",
            items(json!([{"role": "user", "content": "hi"}, {"type": "function_call", "name": "f"}])),
            "input[1].call_id",
        ),
        (
            "a call without name",
            items(json!([{"role": "user", "content": "hi"}, {"type": "function_call", "call_id": "c"}])),
            "input[1].name",
        ),
        (
            "an output without output",
            items(json!([{"role": "user", "content": "hi"},
            {"type": "function_call", "call_id": "c", "name": "f"}, {"type": "function_call_output", "call_id": "c"}])),
            "input[2].output",
        ),
        ("instructions not a string", with("instructions", json!(["be brief"])), "instructions"),
        ("tools not a list", with("tools", json!({"type": "function"})), "tools"),
        ("a tool without type", with("tools", json!([{"name": "f"}])), "tools[0].type"),
        (
            "a chat-style function tool",
            with("tools", json!([{"type": "function", "function": {"name": "f"}}])),
            "tools[0].name",
        ),
        (
            "duplicate function names",
            with("tools", json!([{"type": "function", "name": "f"}, {"type": "function", "name": "f"}])),
            "distinct",
        ),
        ("tool_choice unknown", with("tool_choice", json!("sometimes")), "tool_choice"),
        (
            "tool_choice allowed_tools",
            with("tool_choice", json!({"type": "allowed_tools", "mode": "auto", "tools": []})),
            "tool_choice",
        ),
        ("text.format unknown", with("text", json!({"format": {"type": "yaml"}})), "text.format.type"),
        (
            "json_schema without schema",
            with("text", json!({"format": {"type": "json_schema", "name": "x"}})),
            "text.format.schema",
        ),
        ("background", with("background", json!(true)), "background"),
        ("a stored prompt", with("prompt", json!({"id": "pmpt_1"})), "prompt"),
        ("temperature out of range", with("temperature", json!(7)), "temperature"),
    ]
}

#[tokio::test]
async fn every_hostile_request_gets_a_clear_4xx_and_never_reaches_bedrock() {
    let h = Harness::start().await;
    for path in ["/v1/responses", "/stream/v1/responses"] {
        for (name, body, needle) in hostile() {
            let reply = h.post_raw(path, body).await;
            assert_eq!(reply.status, 400, "{name}: {}", reply.body);
            let message = reply.error_message();
            assert!(message.contains(needle), "{name}: message `{message}` should mention `{needle}`");
            assert_eq!(reply.body["error"]["type"], "invalid_request_error", "{name}");
            assert_eq!(h.emulator().requests(), 0, "{name} reached Bedrock");
        }
    }
    let ok = h.post_json("/stream/v1/responses", &json!({"model": "mistral-large", "input": "hi"})).await;
    assert_eq!(ok.status, 200, "still serving: {}", ok.body);
}

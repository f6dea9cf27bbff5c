//! `response_format` `json_schema` on models without native structured output, end to end
//! through the dev server, the real SDK and the emulator: the model is forced to call one tool
//! whose input schema is the caller's, and its call comes back as the answer's JSON text, on
//! every route and operation; under `cascade` an answer that breaks the schema escalates.

use serde_json::{Value, json};
use tests::sse::{assert_complete_stream, content, parse_sse, tool_calls};
use tests::tools::{SEED_PROMPT, ask, runs};
use tests::{Harness, chat};

const SMALL_2402: &str = "mistral.mistral-small-2402-v1:0";
const LARGE_2402: &str = "mistral.mistral-large-2402-v1:0";

fn schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
           "required": ["city", "population"], "additionalProperties": false})
}

fn with_schema(mut body: Value) -> Value {
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "City", "schema": schema()}});
    body
}

/// The answer's content, parsed, checked against [`schema`].
fn city(message: &Value) -> Value {
    let text = message["content"].as_str().unwrap_or_else(|| panic!("no content: {message}"));
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert!(jsonschema::is_valid(&schema(), &value), "breaks the schema: {value}");
    value
}

#[tokio::test]
async fn large_2_answers_a_json_schema_through_the_forced_tool() {
    let h = Harness::start().await;
    let reply = h.post_json("/v1/chat/completions", &with_schema(chat("mistral-large", "Capital of France?"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let choice = &reply.body["choices"][0];
    city(&choice["message"]);
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["message"].get("tool_calls").is_none_or(Value::is_null), "{choice}");

    let sent = h.emulator().last_request().unwrap();
    assert!(sent.get("outputConfig").is_none(), "Large 2 has no structured output: {sent}");
    let tools = sent["toolConfig"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{sent}");
    assert_eq!(tools[0]["toolSpec"]["name"], "City");
    assert_eq!(tools[0]["toolSpec"]["inputSchema"]["json"], schema());
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
}

#[tokio::test]
async fn the_native_chat_body_keeps_its_own_response_format() {
    // Through InvokeModel, Mistral's native body takes `response_format` itself: no tool needed.
    let h = Harness::with_config(&[("BEDROCK_INVOKE_MODELS", "mistral-large")]).await;
    let reply = h.post_json("/v1/chat/completions", &with_schema(chat("mistral-large", "Capital of France?"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    city(&reply.body["choices"][0]["message"]);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["response_format"]["json_schema"]["schema"], schema(), "{sent}");
    assert!(sent.get("tools").is_none() && sent.get("toolConfig").is_none(), "{sent}");
}

#[tokio::test]
async fn a_stream_sends_the_json_as_content_not_as_a_tool_call() {
    let h = Harness::start().await;
    for model in ["pixtral-large", "mistral-large"] {
        let mut body = with_schema(chat(model, "Capital of France?"));
        body["stream"] = json!(true);
        let reply = h.post_json("/stream/v1/chat/completions", &body).await;
        assert_eq!(reply.status, 200, "{model}: {}", reply.body);
        let text = reply.body.as_str().unwrap_or_else(|| panic!("not SSE: {}", reply.body));
        let chunks = assert_complete_stream(&parse_sse(text.as_bytes()));
        assert!(tool_calls(&chunks).is_empty(), "{model}: {chunks:?}");
        city(&json!({"content": content(&chunks)}));
        let last = chunks.iter().rev().find_map(|c| c["choices"][0]["finish_reason"].as_str());
        assert_eq!(last, Some("stop"), "{model}");
    }
}

#[tokio::test]
async fn the_callers_tools_run_first_and_the_json_answers_after() {
    let h = Harness::start().await;
    let weather = json!({"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}});
    let mut body = with_schema(chat("mistral-large", "What is the weather in Paris?"));
    body["tools"] = json!([weather]);
    let first = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let message = &first.body["choices"][0]["message"];
    assert_eq!(first.body["choices"][0]["finish_reason"], "tool_calls", "{message}");
    let calls = message["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "only the caller's tool is a tool call: {message}");
    assert_eq!(calls[0]["function"]["name"], "get_weather");

    body["messages"].as_array_mut().unwrap().extend([
        message.clone(),
        json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "{\"sky\": \"clear\"}"}),
    ]);
    let second = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["choices"][0]["finish_reason"], "stop");
    city(&second.body["choices"][0]["message"]);
}

#[tokio::test]
async fn the_tool_route_runs_its_tools_then_answers_in_the_schema() {
    let h = Harness::start().await;
    let verdict = json!({"type": "object", "properties": {"paid": {"type": "boolean"}}, "required": ["paid"]});
    let mut body = ask(SEED_PROMPT);
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "Verdict", "schema": verdict}});
    let (status, reply) = h.ask(&body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(runs(&reply)[0]["name"], "retrieve_payment_status", "{reply}");
    let text = reply["choices"][0]["message"]["content"].as_str().unwrap();
    let value: Value = serde_json::from_str(text).unwrap();
    assert!(value["paid"].is_boolean(), "{value}");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn under_cascade_an_answer_that_breaks_the_schema_escalates() {
    let h = Harness::with_config(&[("ROUTING_TIERS", "mistral-small,mistral-large-2402")]).await;
    let reply =
        h.post_json("/v1/chat/completions", &with_schema(chat("auto", "Capital of France? [[broken-json]]"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let attempts = reply.body["routing"]["attempts"].as_array().unwrap();
    let outcomes: Vec<(&str, &str)> =
        attempts.iter().map(|a| (a["model"].as_str().unwrap(), a["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [(SMALL_2402, "escalated"), (LARGE_2402, "answered")], "{attempts:?}");
    let reason = attempts[0]["reason"].as_str().unwrap();
    assert!(reason.contains("breaks the JSON schema"), "{reason}");
    city(&reply.body["choices"][0]["message"]);
}

#[tokio::test]
async fn models_that_can_do_neither_are_a_400_before_any_call() {
    let h = Harness::start().await;
    for model in ["mistral-7b", "mixtral-8x7b"] {
        let reply = h.post_json("/v1/chat/completions", &with_schema(chat(model, "Capital of France?"))).await;
        assert_eq!(reply.status, 400, "{model}: {}", reply.body);
        assert_eq!(reply.body["error"]["param"], "response_format");
        assert!(reply.error_message().contains("neither native JSON-schema output nor tool use"), "{}", reply.body);
    }
    assert_eq!(h.emulator().requests(), 0);
}

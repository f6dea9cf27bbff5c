//! End to end: HTTP client → dev server (converse routes) → real aws-sdk-bedrockruntime → the
//! Bedrock emulator, over real loopback HTTP.

use serde_json::{Value, json};
use tests::{Harness, chat};

#[tokio::test]
async fn plain_chat_returns_a_chat_completion_with_usage_and_cost() {
    let h = Harness::start().await;
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "Hello there")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let b = &reply.body;
    assert_eq!(b["object"], "chat.completion");
    assert_eq!(b["model"], "mistral.mistral-large-2407-v1:0");
    assert!(b["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(b["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(b["choices"][0]["message"]["role"], "assistant");
    assert_eq!(b["choices"][0]["message"]["content"], "You said: Hello there");
    assert_eq!(b["choices"][0]["finish_reason"], "stop");
    let usage = &b["usage"];
    assert_eq!(usage["prompt_tokens"], 2);
    assert_eq!(usage["completion_tokens"], 4);
    assert_eq!(usage["total_tokens"], 6);
    // Mistral Large: $4 in / $12 out per 1M tokens.
    assert_eq!(usage["cost_usd"].as_f64().unwrap(), (2.0 * 4.0 + 4.0 * 12.0) / 1e6);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["modelId"], "mistral.mistral-large-2407-v1:0");
    assert_eq!(sent["operation"], "converse");
}

#[tokio::test]
async fn system_prompt_reaches_bedrock_as_system() {
    let h = Harness::start().await;
    let body = json!({"model": "mistral-small", "messages": [
        {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hi"}]});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["message"]["content"], "[system: Answer in French.] You said: Hi");
    assert_eq!(h.emulator().last_request().unwrap()["system"], json!([{"text": "Answer in French."}]));
}

#[tokio::test]
async fn multi_turn_conversation_keeps_every_turn() {
    let h = Harness::start().await;
    let body = json!({"model": "mistral-large", "messages": [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
        {"role": "user", "content": "What is my name?"}]});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["message"]["content"], "You said: What is my name? (turn 2)");
    assert_eq!(h.emulator().last_request().unwrap()["messages"].as_array().unwrap().len(), 3);
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

#[tokio::test]
async fn tool_calls_are_returned_to_the_caller_and_results_accepted() {
    let h = Harness::start().await;
    let mut body = json!({"model": "mistral-large", "tools": [weather_tool()],
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}]});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let choice = &reply.body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = choice["message"]["tool_calls"][0].clone();
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args["city"].is_string());

    // Second turn: the caller runs the tool and sends the result back.
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call.clone()]}));
    messages.push(
        json!({"role": "tool", "tool_call_id": call["id"], "name": "get_weather", "content": "{\"temp_c\": 21}"}),
    );
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        reply.body["choices"][0]["message"]["content"],
        "Tool results: get_weather -> {\"temp_c\": 21}".replace("get_weather", "name=get_weather")
    );
}

#[tokio::test]
async fn forced_tool_choice_makes_the_model_call_the_named_tool() {
    let h = Harness::start().await;
    let body = json!({"model": "mistral-large", "tools": [weather_tool(),
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_time"}},
        "messages": [{"role": "user", "content": "Hello"}]});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_time");
    assert_eq!(h.emulator().last_request().unwrap()["toolConfig"]["toolChoice"], json!({"tool": {"name": "get_time"}}));
}

#[tokio::test]
async fn json_schema_output_is_valid_against_the_schema() {
    let h = Harness::start().await;
    let schema = json!({"type": "object", "additionalProperties": false,
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}}, "required": ["city", "population"]});
    let body = json!({"model": "mistral-large-3", "messages": [{"role": "user", "content": "Capital of France?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "CityInfo", "schema": schema}}});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let text = reply.body["choices"][0]["message"]["content"].as_str().unwrap();
    let answer: Value = serde_json::from_str(text).unwrap();
    assert!(answer["city"].is_string() && answer["population"].is_i64(), "{answer}");
    let sent = h.emulator().last_request().unwrap();
    let format = &sent["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["structure"]["jsonSchema"]["name"], "CityInfo");
    assert_eq!(
        serde_json::from_str::<Value>(format["structure"]["jsonSchema"]["schema"].as_str().unwrap()).unwrap(),
        schema
    );
}

#[tokio::test]
async fn max_tokens_cut_reports_length() {
    let h = Harness::start().await;
    let mut body = chat("mistral-large", "one two three four five six");
    body["max_tokens"] = json!(3);
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["finish_reason"], "length");
    assert_eq!(reply.body["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn each_bedrock_fault_maps_to_its_status_and_a_message_that_says_what_to_do() {
    let h = Harness::start().await;
    let cases = [
        ("throttle", 429, "Retry"),
        ("quota", 429, "quota"),
        ("not_ready", 503, "Retry"),
        ("access_denied", 403, "Model access"),
        ("not_found", 404, "model id"),
        ("validation", 400, "Bedrock rejected"),
        ("model_timeout", 504, "shorter prompt"),
        ("model_error", 502, "Retry"),
        ("internal", 502, "Retry"),
        ("unavailable", 503, "Retry"),
    ];
    for (fault, status, hint) in cases {
        let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", &format!("hi [[fault:{fault}]]"))).await;
        assert_eq!(reply.status, status, "{fault}: {}", reply.body);
        assert!(reply.error_message().contains(hint), "{fault}: {}", reply.error_message());
        assert!(reply.body["error"]["type"].is_string() && reply.body["error"]["code"].is_string());
        if status == 429 || status == 503 {
            assert!(reply.headers.contains_key("retry-after"), "{fault} needs Retry-After");
        }
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_when_attempts_allow() {
    let h = Harness::with_config(&[("BEDROCK_MAX_ATTEMPTS", "3")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "hi [[fault:throttle_once]]")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(h.emulator().requests(), 2);
}

#[tokio::test]
async fn a_slow_bedrock_hits_the_configured_timeout_as_504() {
    let h = Harness::with_config(&[("BEDROCK_TIMEOUT_MS", "300")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "hi [[slow:3000]]")).await;
    assert_eq!(reply.status, 504, "{}", reply.body);
    assert!(reply.error_message().contains("300 ms"), "{}", reply.error_message());
}

#[tokio::test]
async fn models_lists_the_allowlist_with_aliases_and_capabilities() {
    let h = Harness::with_config(&[(
        "BEDROCK_MODEL_IDS",
        "mistral.mistral-large-2407-v1:0,us.mistral.pixtral-large-2502-v1:0,mistral.future-model-v1:0",
    )])
    .await;
    let reply = h.get("/v1/models").await;
    assert_eq!(reply.status, 200);
    let data = reply.body["data"].as_array().unwrap();
    let ids: Vec<&str> = data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["mistral.mistral-large-2407-v1:0", "us.mistral.pixtral-large-2502-v1:0", "mistral.future-model-v1:0"]
    );
    assert!(data[0]["aliases"].as_array().unwrap().contains(&json!("mistral-large")));
    assert_eq!(data[1]["capabilities"]["vision"], true);
    assert_eq!(data[0]["pricing"]["input_usd_per_million_tokens"], 4.0);
    assert_eq!(data[1]["pricing"]["output_usd_per_million_tokens"], 6.0);
    // A model the catalog does not know has no price, and none is invented.
    assert!(data[2].get("pricing").is_none());
}

#[tokio::test]
async fn inference_profile_ids_are_sent_to_bedrock_as_is() {
    let h = Harness::with_config(&[("BEDROCK_MODEL_IDS", "us.mistral.pixtral-large-2502-v1:0")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("pixtral-large", "Describe nothing")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(h.emulator().last_request().unwrap()["modelId"], "us.mistral.pixtral-large-2502-v1:0");
}

#[tokio::test]
async fn the_sync_route_answers_streaming_callers_with_a_buffered_event_stream() {
    let h = Harness::start().await;
    let mut body = chat("mistral-large", "hi");
    body["stream"] = json!(true);
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    assert_eq!(reply.headers["x-stream-mode"], "buffered");
    let text = reply.body.as_str().expect("an SSE body, not JSON");
    assert!(text.starts_with("data: {") && text.ends_with("data: [DONE]\n\n"), "{text}");
    assert_eq!(h.emulator().requests(), 1);
}

//! The OpenAI Responses API end to end over real HTTP (dev server → aws-sdk-bedrockruntime →
//! the Bedrock emulator): the response object, the event sequence of `/stream/v1/responses` and
//! of `stream: true` on `/v1/responses`, a function-tool round trip sent back as items, a JSON
//! schema, Magistral's reasoning as a reasoning item, the stateless and hosted-tools rules,
//! failures before and after the stream starts, and routing applying as on chat completions.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tests::Harness;

const ASK: &str = r#"Weather in Paris? [[call:get_weather {"city":"Paris"}]]"#;

fn weather() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
}

/// POSTs `body` and reads the SSE answer, which must be a 200 event stream: each event as its
/// `event:` name and `data`.
async fn read_events(h: &Harness, path: &str, body: &Value) -> (http::HeaderMap, Vec<(String, Value)>) {
    let response = h.http.post(h.url(path)).json(body).send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(text.ends_with("\n\n"), "the body ends with a whole event: {text:?}");
    let events = text
        .split_terminator("\n\n")
        .map(|frame| {
            let (event, data) = frame.split_once('\n').unwrap_or_else(|| panic!("two lines per event: {frame:?}"));
            let name = event.strip_prefix("event: ").unwrap_or_else(|| panic!("an event line: {frame:?}"));
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").expect("a data line")).expect("JSON");
            assert_eq!(data["type"], name, "the data names its event");
            (name.to_owned(), data)
        })
        .collect();
    (headers, events)
}

/// The checks every event sequence must pass; returns the final response. Sequence numbers
/// count from 0; created and in_progress come first; every item added is done, at the same
/// index with the same id; the final response's output is exactly the done items.
fn assert_complete(events: &[(String, Value)], last: &str) -> Value {
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names[..2], ["response.created", "response.in_progress"], "{names:?}");
    assert_eq!(names.last(), Some(&last), "{names:?}");
    for (n, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], n, "{data}");
    }
    let id = &events[0].1["response"]["id"];
    assert!(id.as_str().unwrap().starts_with("resp_"));
    let mut added = BTreeMap::new();
    let mut done = BTreeMap::new();
    for (name, data) in events {
        let index = data["output_index"].as_u64();
        match name.as_str() {
            "response.output_item.added" => assert!(added.insert(index.unwrap(), data["item"].clone()).is_none()),
            "response.output_item.done" => assert!(done.insert(index.unwrap(), data["item"].clone()).is_none()),
            _ => {}
        }
    }
    assert_eq!(added.keys().collect::<Vec<_>>(), done.keys().collect::<Vec<_>>(), "every item added is done");
    for (index, item) in &added {
        assert_eq!(item["id"], done[index]["id"]);
        assert_eq!(done[index]["status"], "completed");
    }
    let response = events.last().unwrap().1["response"].clone();
    assert_eq!(&response["id"], id, "one response id throughout");
    assert_eq!(response["output"], Value::Array(done.into_values().collect()));
    response
}

fn output_text(response: &Value) -> String {
    let items = response["output"].as_array().unwrap();
    items.iter().filter(|i| i["type"] == "message").map(|i| i["content"][0]["text"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_whole_answer_is_a_response_object_with_usage_and_cost() {
    let h = Harness::start().await;
    let body = json!({"model": "mistral-large", "instructions": "Be brief.", "input": "Hello there", "max_output_tokens": 50,
        "reasoning": {"effort": "high", "summary": "auto"}, "store": false, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k", "metadata": {"team": "a"}});
    let reply = h.post_json("/v1/responses", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let response = &reply.body;
    assert_eq!(response["object"], "response");
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], "mistral.mistral-large-2407-v1:0");
    assert_eq!(reply.headers["x-routed-model"], "mistral.mistral-large-2407-v1:0");
    assert_eq!(output_text(response), "[system: Be brief.] You said: Hello there");
    assert_eq!(response["output"][0]["role"], "assistant");
    assert_eq!(response["output"][0]["content"][0]["annotations"], json!([]));
    let usage = &response["usage"];
    let (input, output) = (usage["input_tokens"].as_u64().unwrap(), usage["output_tokens"].as_u64().unwrap());
    assert!(input > 0 && output > 0);
    assert_eq!(usage["total_tokens"], input + output);
    assert!(usage["cost_usd"].as_f64().unwrap() > 0.0);
    // Echoed as applied: reasoning is not applied to a model without a reasoning budget.
    assert_eq!(response["reasoning"], json!({"effort": null, "summary": null}));
    assert_eq!(response["max_output_tokens"], 50);
    assert_eq!(response["metadata"], json!({"team": "a"}));
    assert_eq!(response["store"], false);
}

#[tokio::test]
async fn a_function_tool_round_trip_streams_and_answers_from_the_items_sent_back() {
    let h = Harness::start().await;
    let first = json!({"model": "mistral-large-3", "stream": true, "input": ASK, "tools": [weather()]});
    let (headers, events) = read_events(&h, "/stream/v1/responses", &first).await;
    assert_eq!(headers["x-routed-model"], "mistral.mistral-large-3-675b-instruct");
    assert!(headers.get("x-stream-mode").is_none(), "live, not buffered");
    let response = assert_complete(&events, "response.completed");
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names[2..names.len() - 1],
        [
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done"
        ]
    );
    let call = &response["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(), json!({"city": "Paris"}));
    assert!(call["call_id"].as_str().unwrap().starts_with("tooluse_"));

    // The second turn: the whole conversation, the call and its output as items.
    let input = json!([{"role": "user", "content": [{"type": "input_text", "text": ASK}]}, call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}]);
    let second = json!({"model": "mistral-large-3", "stream": true, "input": input, "tools": [weather()]});
    let (_, events) = read_events(&h, "/stream/v1/responses", &second).await;
    let response = assert_complete(&events, "response.completed");
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name == "response.output_text.delta")
        .map(|(_, data)| data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Tool results: name=get_weather -> sunny");
    assert_eq!(output_text(&response), deltas);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let text_events = ["response.output_item.added", "response.content_part.added", "response.output_text.delta"];
    assert_eq!(names[2..5], text_events);
    let closing = ["response.output_text.done", "response.content_part.done", "response.output_item.done"];
    assert_eq!(names[names.len() - 4..names.len() - 1], closing);
    assert_eq!(response["usage"]["total_tokens"].as_u64().map(|t| t > 0), Some(true));
}

#[tokio::test]
async fn stream_true_on_v1_is_the_same_sequence_buffered() {
    let h = Harness::start().await;
    let body = json!({"model": "mistral-large", "stream": true, "input": ASK, "tools": [weather()]});
    let (headers, events) = read_events(&h, "/v1/responses", &body).await;
    assert_eq!(headers["x-stream-mode"], "buffered");
    let response = assert_complete(&events, "response.completed");
    assert_eq!(response["output"][0]["type"], "function_call");
    assert!(response["routing"]["attempts"].is_array(), "{response}");
    // And `stream: false` on /stream/v1 is a response object.
    let reply = h.post_json("/stream/v1/responses", &json!({"model": "mistral-large", "input": "Hi"})).await;
    assert_eq!(reply.body["object"], "response", "{}", reply.body);
}

#[tokio::test]
async fn magistral_reasoning_is_a_reasoning_item_before_the_message() {
    let h = Harness::start().await;
    let whole =
        h.post_json("/v1/responses", &json!({"model": "magistral-small", "input": "Why is the sky blue?"})).await;
    let kinds: Vec<&str> =
        whole.body["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reasoning", "message"], "{}", whole.body);
    assert_eq!(
        whole.body["output"][0]["content"][0],
        json!({"type": "reasoning_text", "text": "Thinking about: Why is the sky blue?"})
    );
    assert_eq!(whole.body["output"][0]["summary"], json!([]));

    let body = json!({"model": "magistral-small", "stream": true, "input": "Why is the sky blue?"});
    let (_, events) = read_events(&h, "/stream/v1/responses", &body).await;
    let response = assert_complete(&events, "response.completed");
    let reasoning: String = events
        .iter()
        .filter(|(name, _)| name == "response.reasoning_text.delta")
        .map(|(_, data)| data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(reasoning, "Thinking about: Why is the sky blue?");
    assert_eq!(response["output"][0]["content"][0]["text"], reasoning);
    assert_eq!(response["output"][1]["type"], "message");
    // The reasoning item sent back is dropped, as chat drops reasoning_content.
    let input = json!([{"role": "user", "content": "Why?"}, response["output"][0], response["output"][1],
        {"role": "user", "content": "And at night?"}]);
    let again = h.post_json("/v1/responses", &json!({"model": "magistral-small", "input": input})).await;
    assert_eq!(again.status, 200, "{}", again.body);
}

#[tokio::test]
async fn a_json_schema_text_format_is_followed_and_refused_where_it_cannot_be() {
    let h = Harness::start().await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
        "required": ["city", "rank"], "additionalProperties": false});
    let format = json!({"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": true}});
    let reply = h
        .post_json("/v1/responses", &json!({"model": "mistral-large-3", "input": "A city as JSON", "text": format}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: Value = serde_json::from_str(&output_text(&reply.body)).unwrap();
    assert!(answer["city"].is_string() && answer["rank"].is_i64(), "{answer}");
    assert_eq!(reply.body["text"], format);

    let refused =
        h.post_json("/v1/responses", &json!({"model": "mistral-large", "input": "JSON", "text": format})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["param"], "text.format", "{}", refused.body);
    assert!(refused.error_message().starts_with("text.format: "), "{}", refused.body);
}

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
async fn hosted_tools_are_dropped_and_named_and_namespaced_calls_keep_their_namespace() {
    let h = Harness::start().await;
    let tools = json!([
        {"type": "web_search", "external_web_access": false},
        {"type": "namespace", "name": "multi_agent_v1", "description": "Agents", "tools": [
            {"type": "function", "name": "spawn_agent", "parameters": {"type": "object", "properties": {"task": {"type": "string"}}}}]},
        {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
    ]);
    let body = json!({"model": "mistral-large", "input": "Start one [[call:spawn_agent {\"task\":\"x\"}]]", "tools": tools,
        "tool_choice": "auto", "parallel_tool_calls": false});
    let reply = h.post_json("/v1/responses", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["x-dropped-tools"], "web_search, custom");
    let call = &reply.body["output"][0];
    assert_eq!((call["name"].as_str(), call["namespace"].as_str()), (Some("spawn_agent"), Some("multi_agent_v1")));
    let echoed: Vec<&str> =
        reply.body["tools"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(echoed, ["namespace"], "the tools as applied");

    let forced =
        json!({"model": "mistral-large", "input": "Hi", "tools": tools, "tool_choice": {"type": "web_search"}});
    let refused = h.post_json("/v1/responses", &forced).await;
    assert_eq!((refused.status, refused.body["error"]["param"].as_str()), (400, Some("tool_choice")));
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

#[tokio::test]
async fn auto_routes_as_on_chat_completions_with_a_routing_report() {
    let h = Harness::start().await;
    let hard = json!({"model": "auto", "input": "Prove the Riemann hypothesis [[hard]]"});
    let reply = h.post_json("/v1/responses", &hard).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let routing = &reply.body["routing"];
    assert!(routing["policy"].is_string(), "{}", reply.body);
    let attempts = routing["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "the hard prompt escalated: {routing}");
    assert_eq!(reply.body["model"], attempts.last().unwrap()["model"]);
    // The usage is every call's, summed, as on chat completions.
    let summed: f64 = attempts.iter().map(|a| a["cost_usd"].as_f64().unwrap_or(0.0)).sum::<f64>()
        + routing["triage"]["cost_usd"].as_f64().unwrap_or(0.0);
    let cost = reply.body["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost - summed).abs() < 1e-9, "usage {cost} vs routing {summed}: {routing}");

    let streamed = json!({"model": "auto", "stream": true, "input": "Say hi"});
    let (_, events) = read_events(&h, "/stream/v1/responses", &streamed).await;
    let response = assert_complete(&events, "response.completed");
    assert!(response["routing"]["attempts"].is_array(), "{response}");
}

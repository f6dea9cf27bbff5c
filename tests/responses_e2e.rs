//! The OpenAI Responses API end to end over real HTTP (dev server → aws-sdk-bedrockruntime →
//! the Bedrock emulator): the response object, the event sequence of `/stream/v1/responses` and
//! of `stream: true` on `/v1/responses`, a function-tool round trip sent back as items, a JSON
//! schema, Magistral's reasoning as a reasoning item, the stateless and hosted-tools rules,
//! failures before and after the stream starts, and routing applying as on chat completions.

use serde_json::{Value, json};
use tests::Harness;
use tests::responses::{assert_complete, events as read_events};

const ASK: &str = r#"Weather in Paris? [[call:get_weather {"city":"Paris"}]]"#;

fn weather() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
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

    // Mistral Large 2 has no native structured output: it answers through the forced tool.
    let large_2 = h
        .post_json("/v1/responses", &json!({"model": "mistral-large", "input": "A city as JSON", "text": format}))
        .await;
    assert_eq!(large_2.status, 200, "{}", large_2.body);
    let answer: Value = serde_json::from_str(&output_text(&large_2.body)).unwrap();
    assert!(answer["city"].is_string() && answer["rank"].is_i64(), "{answer}");

    // Mistral 7B can neither follow a schema nor call tools.
    let refused = h.post_json("/v1/responses", &json!({"model": "mistral-7b", "input": "JSON", "text": format})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["param"], "text.format", "{}", refused.body);
    assert!(refused.error_message().starts_with("text.format: "), "{}", refused.body);
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

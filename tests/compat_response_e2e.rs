//! What the answers look like to clients of both API families, end to end over real HTTP
//! (dev server → aws-sdk-bedrockruntime → the Bedrock emulator): `parallel_tool_calls: false`
//! honoured on every route, tool calls streamed whole (one delta per call, as Mistral's API sends
//! them), `stream: true` on `/v1` answered as a complete buffered SSE body, and
//! `reasoning_effort` on a model that does not reason refused as Mistral's API refuses it.

use serde_json::{Value, json};
use tests::sse::{Event, SseReader, assert_complete_stream, content, parse_sse, tool_calls};
use tests::tools::{answer, ask, runs};
use tests::{Harness, chat, stream_request};

/// A model that can use tools inside ConverseStream: its stream is Bedrock's, live.
const STREAMING_TOOLS_MODEL: &str = "mistral-large-3";
const TWO_CALLS: &str = r#"[[call:get_weather {"city":"Paris"}]] [[call:get_time {"city":"Tokyo"}]]"#;

fn tool(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "description": format!("The {name} tool"),
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

fn with_tools(mut body: Value) -> Value {
    body["tools"] = json!([tool("get_weather"), tool("get_time")]);
    body
}

/// POSTs `body` to `path` and reads the whole SSE answer, which must be a 200 event stream.
async fn sse(h: &Harness, path: &str, body: &Value) -> (http::HeaderMap, Vec<Event>) {
    let response = h.http.post(h.url(path)).json(body).send().await.expect("request sent");
    if response.status() != 200 {
        panic!("{} from {path}: {}", response.status(), response.text().await.unwrap_or_default());
    }
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    (headers, SseReader::new(response).rest().await)
}

/// Every `tool_calls` entry of the chunks, as sent.
fn call_entries(chunks: &[Value]) -> Vec<Value> {
    chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array()).flatten().cloned().collect()
}

// ------------------------------------------------------------------ 1: parallel_tool_calls false

#[tokio::test]
async fn parallel_tool_calls_false_keeps_the_first_call_of_a_whole_answer() {
    let h = Harness::start().await;
    let mut body = with_tools(chat("mistral-large", TWO_CALLS));
    let both = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(both.body["choices"][0]["message"]["tool_calls"].as_array().unwrap().len(), 2);

    body["parallel_tool_calls"] = json!(false);
    let one = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let calls = one.body["choices"][0]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{}", one.body);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(one.body["choices"][0]["finish_reason"], "tool_calls");

    // `true` is the default: both calls.
    body["parallel_tool_calls"] = json!(true);
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.body["choices"][0]["message"]["tool_calls"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn parallel_tool_calls_false_keeps_the_first_call_of_a_live_and_a_replayed_stream() {
    let h = Harness::start().await;
    // A named model that streams tool use: Bedrock's events, live. One that cannot: Converse,
    // replayed. `auto` under cascade: the checked answer, replayed.
    for (model, policy) in
        [(STREAMING_TOOLS_MODEL, None), ("mistral.mistral-large-2407-v1:0", None), ("auto", Some("cascade"))]
    {
        let mut body = with_tools(stream_request(model, TWO_CALLS));
        if let Some(policy) = policy {
            body["routing"] = json!({"policy": policy});
        }
        body["parallel_tool_calls"] = json!(false);
        let (_, events) = sse(&h, "/stream/v1/chat/completions", &body).await;
        let chunks = assert_complete_stream(&events);
        let calls = tool_calls(&chunks);
        assert_eq!(calls.len(), 1, "{model} {policy:?}: {calls:?}");
        assert_eq!((calls[0].1.as_str(), calls[0].2.as_str()), ("get_weather", r#"{"city":"Paris"}"#));
        assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls", "{model} {policy:?}");
        let operation = h.emulator().last_request().unwrap()["operation"].clone();
        assert_eq!(operation, if model == STREAMING_TOOLS_MODEL { "converse-stream" } else { "converse" }, "{model}");
    }
}

#[tokio::test]
async fn parallel_tool_calls_false_runs_one_call_per_step_in_the_tool_loop() {
    let h = Harness::start().await;
    let prompt = r#"[[call:retrieve_payment_status {"transaction_id": "T1001"}]] [[call:retrieve_payment_date {"transaction_id": "T1001"}]]"#;
    let (status, both) = h.ask(&ask(prompt)).await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(runs(&both).len(), 2, "{both}");

    let mut request = ask(prompt);
    request["parallel_tool_calls"] = json!(false);
    let (status, one) = h.ask(&request).await;
    assert_eq!(status, 200, "{one}");
    let trace = runs(&one);
    assert_eq!(trace.len(), 1, "{one}");
    assert_eq!(trace[0]["name"], "retrieve_payment_status");
    assert!(answer(&one).contains("retrieve_payment_status") && !answer(&one).contains("retrieve_payment_date"));
    // The assistant turn sent back holds the one call that ran, answered by one result.
    let sent = h.emulator().last_request().unwrap();
    let tool_uses: Vec<&Value> =
        sent["messages"][1]["content"].as_array().unwrap().iter().filter(|b| b.get("toolUse").is_some()).collect();
    assert_eq!(tool_uses.len(), 1, "{sent}");
    assert_eq!(sent["messages"][2]["content"].as_array().unwrap().len(), 1, "{sent}");
}

// -------------------------------------------------------------------- 2: whole tool calls

#[tokio::test]
async fn a_streamed_tool_call_arrives_whole_in_one_delta() {
    let h = Harness::start().await;
    let prompt = r#"[[call:get_weather {"city":"Paris","unit":"celsius","days":3}]]"#;
    let (_, events) =
        sse(&h, "/stream/v1/chat/completions", &with_tools(stream_request(STREAMING_TOOLS_MODEL, prompt))).await;
    let chunks = assert_complete_stream(&events);
    let entries = call_entries(&chunks);
    assert_eq!(entries.len(), 1, "one entry for the whole call: {entries:#?}");
    let call = &entries[0];
    assert_eq!(call["index"], 0);
    assert_eq!(call["type"], "function");
    assert!(call["id"].as_str().unwrap().starts_with("tooluse_"));
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris", "unit": "celsius", "days": 3}));
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse-stream", "a live stream");
}

#[tokio::test]
async fn parallel_streamed_calls_each_arrive_whole_with_no_empty_name() {
    let h = Harness::start().await;
    let (_, events) =
        sse(&h, "/stream/v1/chat/completions", &with_tools(stream_request(STREAMING_TOOLS_MODEL, TWO_CALLS))).await;
    let chunks = assert_complete_stream(&events);
    let entries = call_entries(&chunks);
    let shape: Vec<(u64, &str, &str)> = entries
        .iter()
        .map(|c| {
            assert!(c["id"].as_str().is_some_and(|id| id.starts_with("tooluse_")), "{c}");
            (
                c["index"].as_u64().unwrap(),
                c["function"]["name"].as_str().unwrap(),
                c["function"]["arguments"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(shape, [(0, "get_weather", r#"{"city":"Paris"}"#), (1, "get_time", r#"{"city":"Tokyo"}"#)]);
    assert_ne!(entries[0]["id"], entries[1]["id"]);
    let raw: String = events.iter().filter_map(Event::chunk).map(Value::to_string).collect();
    assert!(!raw.contains(r#""name":"""#), "no follow-on delta with an empty name: {raw}");
}

// ------------------------------------------------------------- 6: stream: true on /v1, buffered

#[tokio::test]
async fn v1_answers_stream_true_with_a_complete_buffered_event_stream() {
    let h = Harness::start().await;
    let response = h
        .http
        .post(h.url("/v1/chat/completions"))
        .json(&stream_request("mistral-large", "Hello there"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["x-stream-mode"], "buffered");
    assert_eq!(headers["x-routed-model"], "mistral.mistral-large-2407-v1:0");
    let body = response.bytes().await.unwrap();
    // Sent when the answer is ready, as one body of known length.
    assert_eq!(headers["content-length"].to_str().unwrap(), body.len().to_string());

    let chunks = assert_complete_stream(&parse_sse(&body));
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    assert_eq!(content(&chunks), "You said: Hello there");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["prompt_tokens"], 2);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert!(last["usage"]["cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(last["routing"]["policy"], "fixed");
    // One Converse call: the converse function needs no streaming permission for it.
    assert_eq!(h.emulator().requests(), 1);
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse");
}

#[tokio::test]
async fn v1_streams_tool_calls_whole_and_keeps_errors_as_json_with_their_status() {
    let h = Harness::start().await;
    let (headers, events) =
        sse(&h, "/v1/chat/completions", &with_tools(stream_request("mistral-large", TWO_CALLS))).await;
    assert_eq!(headers["x-stream-mode"], "buffered");
    let chunks = assert_complete_stream(&events);
    assert_eq!(call_entries(&chunks).len(), 2, "one entry per call");
    let calls = tool_calls(&chunks);
    assert_eq!((calls[1].1.as_str(), calls[1].2.as_str()), ("get_time", r#"{"city":"Tokyo"}"#));
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");

    // Nothing is sent before the answer, so a failure keeps its real status and JSON error.
    let reply = h.post_json("/v1/chat/completions", &stream_request("mistral-large", "hi [[fault:throttle]]")).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.headers["retry-after"], "2");
    assert_eq!(reply.body["error"]["code"], "throttled");
}

#[tokio::test]
async fn v1_stream_under_auto_carries_the_routing_report_on_its_last_chunk() {
    let h = Harness::start().await;
    let (headers, events) = sse(&h, "/v1/chat/completions", &stream_request("auto", "Say hi [[hard]]")).await;
    let chunks = assert_complete_stream(&events);
    let last = chunks.last().unwrap();
    let routing = &last["routing"];
    assert_eq!(routing["policy"], "cascade");
    let attempts = routing["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "the hard prompt escalated: {routing}");
    assert_eq!(attempts.last().unwrap()["outcome"], "answered");
    assert_eq!(chunks[0]["model"], headers["x-routed-model"].to_str().unwrap());
    assert!(!content(&chunks).contains("<<ESCALATE>>"));
}

// ------------------------------------------------------- 7: reasoning_effort, as Mistral does

#[tokio::test]
async fn reasoning_effort_on_devstral_is_refused_as_mistral_refuses_it() {
    let h = Harness::start().await;
    let mut body = chat("devstral-2", "Write a haiku");
    body["reasoning_effort"] = json!("high");
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["error"]["param"], "reasoning_effort");
    assert_eq!(reply.body["error"]["code"], "unsupported_parameter");
    let message = reply.error_message();
    assert!(message.contains("does not reason") && message.contains(r#"thinking = "off""#), "{message}");
    assert_eq!(h.emulator().requests(), 0, "refused before Bedrock");

    // What mistral-vibe sends with thinking off: no field, and the model answers.
    let reply = h.post_json("/v1/chat/completions", &chat("devstral-2", "Write a haiku")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "mistral.devstral-2-123b");
}

#[tokio::test]
async fn the_converse_function_returns_the_buffered_stream_through_api_gateway() {
    use lambda_http::tower::ServiceExt;
    use lambda_http::{Adapter, Context, LambdaEvent};

    // The converse function as Lambda runs it: an API Gateway REST proxy event in, the buffered
    // proxy response out, through the adapter `lambda_http::run` uses.
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let router = shared::routes::converse_router(tests::app_state(&emulator.url()));
    let event = tests::workload::rest_event("/v1/chat/completions", &stream_request("mistral-large", "Hello there"));
    let payload: Value = serde_json::from_str(&event).unwrap();
    let adapter: Adapter<'_, _, _> = Adapter::from(router);
    let response =
        adapter.oneshot(LambdaEvent::new(serde_json::from_value(payload).unwrap(), Context::default())).await;
    let response = serde_json::to_value(response.unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["isBase64Encoded"], false, "an event stream is text: {response}");
    let header = |name: &str| response["multiValueHeaders"][name][0].as_str().or(response["headers"][name].as_str());
    assert_eq!(header("content-type"), Some("text/event-stream"), "{response}");
    assert_eq!(header("x-stream-mode"), Some("buffered"), "{response}");
    let chunks = assert_complete_stream(&parse_sse(response["body"].as_str().unwrap().as_bytes()));
    assert_eq!(content(&chunks), "You said: Hello there");
}

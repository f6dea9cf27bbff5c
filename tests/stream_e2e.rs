//! End to end: HTTP client → dev server (`POST /stream/v1/chat/completions`) → real
//! aws-sdk-bedrockruntime → the Bedrock emulator (playing queued frames, where a test must
//! control when events are produced), over real loopback HTTP. The caller's side reads the
//! server-sent events as they arrive.

use std::time::Duration;

use dev::emulator::{Emulator, Reply};
use serde_json::{Value, json};
use tests::frames::text_frames;
use tests::sse::{Event, SseReader, assert_complete_stream, content, tool_calls};
use tests::{Harness, serve_stream_routes, stream_request};

const PATH: &str = "/stream/v1/chat/completions";
/// A model whose catalog entry says it can use tools while streaming.
const STREAMING_TOOLS_MODEL: &str = "mistral.mistral-large-3-675b-instruct";
/// A model that cannot: tool requests are answered from Converse.
const CONVERSE_TOOLS_MODEL: &str = "mistral.mistral-large-2407-v1:0";
/// Generous bound for a step that waits on the server; the assertions are about order.
const STEP: Duration = Duration::from_secs(20);

async fn post(h: &Harness, body: &Value) -> reqwest::Response {
    h.http.post(h.url(PATH)).json(body).send().await.expect("request sent")
}

async fn stream(h: &Harness, body: &Value) -> Vec<Event> {
    let response = post(h, body).await;
    assert_eq!(response.status(), 200);
    SseReader::new(response).rest().await
}

fn tool(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "description": format!("The {name} tool"),
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

fn with_tools(mut body: Value, tools: &[&str]) -> Value {
    body["tools"] = tools.iter().map(|t| tool(t)).collect();
    body
}

/// Streams a turn of two tool calls (the weather in Paris, the time in `city`) from `model`;
/// checks both arrive whole and in order, and returns the chunks and the calls.
async fn two_tool_calls(h: &Harness, model: &str, city: &str) -> (Vec<Value>, Vec<(String, String, String)>) {
    let prompt = format!(r#"[[call:get_weather {{"city":"Paris"}}]] [[call:get_time {{"city":"{city}"}}]]"#);
    let body = with_tools(stream_request(model, &prompt), &["get_weather", "get_time"]);
    let chunks = assert_complete_stream(&stream(h, &body).await);
    let calls = tool_calls(&chunks);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!((calls[0].1.as_str(), calls[0].2.as_str()), ("get_weather", r#"{"city":"Paris"}"#));
    assert_eq!((calls[1].1.as_str(), calls[1].2.as_str()), ("get_time", format!(r#"{{"city":"{city}"}}"#).as_str()));
    (chunks, calls)
}

#[tokio::test]
async fn streams_text_as_chunks_then_done() {
    let h = Harness::start().await;
    let response = post(&h, &stream_request("mistral-large", "Hello there")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.get("content-length").is_none(), "a stream has no length up front");

    let events = SseReader::new(response).rest().await;
    let chunks = assert_complete_stream(&events);
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    assert_eq!(chunks[0]["model"], "mistral.mistral-large-2407-v1:0");
    assert_eq!(content(&chunks), "You said: Hello there");
    // One chunk per word the emulator streams.
    let words: Vec<&str> = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(words, ["", "You", " said:", " Hello", " there"]);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["prompt_tokens"], 2);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["total_tokens"], 6);
    assert_eq!(last["usage"]["cost_usd"].as_f64().unwrap(), (2.0 * 4.0 + 4.0 * 12.0) / 1e6);
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse-stream");
}

#[tokio::test]
async fn streams_a_tool_call_whole_once_its_arguments_are_complete() {
    let h = Harness::start().await;
    let body = with_tools(
        stream_request(STREAMING_TOOLS_MODEL, r#"[[call:get_weather {"city":"Paris","unit":"celsius","days":3}]]"#),
        &["get_weather"],
    );
    let events = stream(&h, &body).await;
    let chunks = assert_complete_stream(&events);
    // Bedrock sends the arguments in fragments; the caller gets the call in one delta, as
    // Mistral's API sends it (index, id, type, name and complete arguments).
    let call_chunks: Vec<&Value> =
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0)).collect();
    assert_eq!(call_chunks.len(), 1, "{call_chunks:#?}");
    let call = call_chunks[0];
    assert_eq!(call["index"], 0);
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert!(call["id"].as_str().unwrap().starts_with("tooluse_"));

    let calls = tool_calls(&chunks);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, "get_weather");
    let arguments: Value = serde_json::from_str(&calls[0].2).unwrap();
    assert_eq!(arguments, json!({"city": "Paris", "unit": "celsius", "days": 3}));
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse-stream");
}

#[tokio::test]
async fn streams_two_parallel_tool_calls_on_distinct_indexes() {
    let h = Harness::start().await;
    let (chunks, calls) = two_tool_calls(&h, STREAMING_TOOLS_MODEL, "Tokyo").await;
    assert_ne!(calls[0].0, calls[1].0, "distinct ids");
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn faults_before_the_first_event_keep_their_status_and_json_error() {
    let h = Harness::start().await;
    let cases = [
        ("throttle", 429, "throttled"),
        ("quota", 429, "throttled"),
        ("validation", 400, "bedrock_validation"),
        ("access_denied", 403, "access_denied"),
        ("not_found", 404, "model_not_found"),
        ("model_timeout", 504, "timeout"),
        ("model_error", 502, "bedrock_error"),
        ("internal", 502, "bedrock_error"),
        ("not_ready", 503, "unavailable"),
        ("unavailable", 503, "unavailable"),
    ];
    for (fault, status, code) in cases {
        let response = post(&h, &stream_request("mistral-large", &format!("Hi [[fault:{fault}]]"))).await;
        assert_eq!(response.status().as_u16(), status, "{fault}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/json", "{fault}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{fault}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 20, "{fault}: {body}");
        if status == 429 || status == 503 {
            assert_eq!(headers["retry-after"], "2", "{fault}");
        }
    }
}

#[tokio::test]
async fn faults_mid_stream_become_one_error_event_and_a_clean_close() {
    let h = Harness::start().await;
    let cases = [
        ("throttlingException", "throttled", "rate_limit_error"),
        ("modelStreamErrorException", "bedrock_error", "server_error"),
        ("internalServerException", "bedrock_error", "server_error"),
        ("serviceUnavailableException", "unavailable", "server_error"),
        ("validationException", "bedrock_validation", "invalid_request_error"),
    ];
    for (exception, code, kind) in cases {
        let body = stream_request("mistral-large", &format!("one two three four [[midstream:{exception}]]"));
        // `rest` fails the test if the body does not end cleanly (reset, partial event).
        let events = stream(&h, &body).await;
        assert_eq!(events.len(), 4, "{exception}: role, two words, the error: {events:#?}");
        assert_eq!(events[0].delta().unwrap()["role"], "assistant");
        assert_eq!(events[1].delta().unwrap()["content"], "You");
        assert_eq!(events[2].delta().unwrap()["content"], " said:");
        let Event::Error(error) = &events[3] else { panic!("{exception}: the last event is the error: {events:#?}") };
        assert_eq!(error["error"]["code"], code, "{exception}: {error}");
        assert_eq!(error["error"]["type"], kind, "{exception}");
        assert!(!events.contains(&Event::Done), "{exception}: no [DONE] after an error");
    }
}

#[tokio::test]
async fn a_slow_model_delivers_its_first_chunk_while_still_generating() {
    let h = Harness::start().await;
    let response = post(&h, &stream_request("mistral-large", "alpha beta [[delay:300]]")).await;
    assert_eq!(response.status(), 200);
    let mut reader = SseReader::new(response);
    assert_eq!(reader.next().await.unwrap().delta().unwrap()["role"], "assistant");
    assert_eq!(reader.next().await.unwrap().delta().unwrap()["content"], "You");
    // The emulator waits 300 ms before its next event: the stream is still open, and nothing
    // else has arrived with the first chunk.
    let pending = tokio::time::timeout(Duration::from_millis(100), reader.next()).await;
    assert!(pending.is_err(), "the rest must not arrive with the first chunk: {pending:?}");
    let rest = reader.rest().await;
    assert_eq!(rest.last(), Some(&Event::Done));
    let words: Vec<&str> = rest.iter().filter_map(|e| e.delta()?["content"].as_str()).collect();
    assert_eq!(words, [" said:", " alpha", " beta"]);
}

/// Asks the stream routes at `url` for a short streamed answer.
async fn ask_stream(url: &str) -> reqwest::Response {
    let request = reqwest::Client::new().post(format!("{url}{PATH}")).json(&stream_request("mistral-large", "Hi"));
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn the_first_chunk_reaches_the_caller_before_bedrock_produces_the_next_event() {
    let bedrock = Emulator::start().await.unwrap();
    let url = serve_stream_routes(&bedrock.url()).await;
    // messageStart and the first word go out; everything else waits for the test.
    let gate = bedrock.enqueue(Reply::frames(text_frames(&["first", "second", "third"])).hold_at(2));
    let early = tokio::time::timeout(STEP, async {
        let response = ask_stream(&url).await;
        assert_eq!(response.status(), 200);
        let mut reader = SseReader::new(response);
        assert_eq!(reader.next().await.unwrap().delta().unwrap()["role"], "assistant");
        assert_eq!(reader.next().await.unwrap().delta().unwrap()["content"], "first");
        reader
    })
    .await;
    let mut reader = early.expect("the first word reaches the caller while Bedrock holds the rest");
    assert_eq!(gate.sent(), 2, "Bedrock has produced nothing after the first word yet");
    gate.release();
    let chunks: Vec<Event> = reader.rest().await;
    let words: Vec<&str> = chunks.iter().filter_map(|e| e.delta()?["content"].as_str()).collect();
    assert_eq!(words, [" second", " third"]);
    assert_eq!(chunks.last(), Some(&Event::Done));
}

#[tokio::test]
async fn a_caller_that_goes_away_stops_the_bedrock_stream() {
    let bedrock = Emulator::start().await.unwrap();
    let url = serve_stream_routes(&bedrock.url()).await;
    let gate = bedrock.enqueue(Reply::frames(text_frames(&["never", "finished"])).hold_at(2));
    let reader = tokio::time::timeout(STEP, async {
        let response = ask_stream(&url).await;
        let mut reader = SseReader::new(response);
        reader.next().await.unwrap();
        reader.next().await.unwrap();
        reader
    })
    .await
    .expect("the first word reaches the caller");
    assert!(!gate.dropped_early());
    drop(reader);
    // The server notices the closed connection, drops the response body, and with it the
    // Bedrock stream: the emulator sees its body dropped before the end.
    let stopped = tokio::time::timeout(STEP, async {
        while !gate.dropped_early() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(stopped.is_ok(), "the Bedrock stream is still being read after the caller left");
    assert_eq!(gate.sent(), 2);
}

#[tokio::test]
async fn stream_false_on_the_stream_route_answers_json() {
    let h = Harness::start().await;
    let mut body = stream_request("mistral-large", "Hello there");
    body["stream"] = json!(false);
    let response = post(&h, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "You said: Hello there");
    assert_eq!(body["usage"]["total_tokens"], 6);
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse");
}

#[tokio::test]
async fn a_model_without_streaming_tool_use_answers_tools_from_converse_as_sse() {
    let h = Harness::start().await;
    let (chunks, _) = two_tool_calls(&h, CONVERSE_TOOLS_MODEL, "Oslo").await;
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert!(last["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // Without tools the same model streams for real.
    let chunks = assert_complete_stream(&stream(&h, &stream_request(CONVERSE_TOOLS_MODEL, "Hi")).await);
    assert_eq!(content(&chunks), "You said: Hi");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse-stream");
}

#[tokio::test]
async fn the_stream_deadline_ends_a_slow_answer_with_a_timeout_event() {
    let h = Harness::with_config(&[("STREAM_TIMEOUT_MS", "700")]).await;
    let events = stream(&h, &stream_request("mistral-large", "a b c d e f g h [[delay:150]]")).await;
    let Some(Event::Error(error)) = events.last() else { panic!("the stream ends with an error: {events:#?}") };
    assert_eq!(error["error"]["code"], "timeout");
    assert_eq!(error["error"]["type"], "server_error");
    assert!(events.len() >= 3, "some words made it before the deadline: {events:#?}");
    assert!(!events.contains(&Event::Done));
}

#[tokio::test]
async fn bad_requests_are_refused_with_json_before_bedrock_is_called() {
    let h = Harness::start().await;
    let cases = [
        (stream_request("gpt-4o", "Hi"), 404),
        (json!({"model": "mistral-large", "stream": true, "messages": []}), 400),
        (
            json!({"model": "mistral-large", "stream": true, "messages": [{"role": "user", "content": "Hi"}], "n": 2}),
            400,
        ),
    ];
    for (body, status) in cases {
        let response = post(&h, &body).await;
        let got = response.status().as_u16();
        let error: Value = response.json().await.unwrap();
        assert_eq!(got, status, "{body}: {error}");
        assert!(error["error"]["message"].is_string(), "{error}");
    }
    let response = h.http.post(h.url(PATH)).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(h.emulator().requests(), 0);
}

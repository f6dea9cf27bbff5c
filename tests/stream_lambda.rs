//! The stream function as Lambda runs it: `shared::runtime::serve_streaming` over the stream
//! router (what `functions/stream/src/main.rs` runs: lambda_http's streaming runner), polling a
//! stub Lambda Runtime API on loopback for the sample events of `events/stream`, and streaming its
//! answers back to it, each write sent at once (`TCP_NODELAY` on its Runtime API connections).
//!
//! The stub sees what the Lambda service would: the `streaming` response mode, the metadata
//! prelude (status, headers), eight NUL bytes, then the SSE frames. Bedrock is the emulator,
//! playing queued replies: it holds the rest of its answer until the stub has received the first
//! frames, so a handler or runtime that buffers the body would never deliver them and the test
//! would fail.

use dev::emulator::{Emulator, Reply};
use serde_json::Value;
use tests::frames::text_frames;
use tests::runtime_api::RuntimeApi;
use tests::sse::{assert_complete_stream, content, parse_sse};
use tests::{app_state, sample_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_runtime_streams_each_event_as_it_is_made() {
    let bedrock = Emulator::start().await.unwrap();
    // Invocation 1 (REST API): the answer's first word goes out, the rest waits for the test.
    let gate = bedrock.enqueue(Reply::frames(text_frames(&["Streaming", "through", "Lambda"])).hold_at(2));
    // Invocation 2 (Function URL): Bedrock throttles before the stream starts.
    bedrock.enqueue(Reply::error(429, "ThrottlingException", "Too many requests"));

    let mut runtime_api = RuntimeApi::start().await;
    let runtime_api_addr = runtime_api.addr();
    runtime_api.push("invocation-1", sample_event("stream", "rest-stream.json"));
    runtime_api.push("invocation-2", sample_event("stream", "function-url-stream.json"));

    // The environment Lambda gives a function. This test binary holds this one test only, so
    // nothing else reads the environment while it is written. The REST API stage stays in the
    // path, as Lambda sends it: the router strips it.
    for (key, value) in runtime_api.lambda_env("stream") {
        // SAFETY: no other thread of this process reads or writes the environment now.
        unsafe { std::env::set_var(key, value) };
    }
    let state = app_state(&bedrock.url());
    let function = tokio::spawn(shared::runtime::serve_streaming(shared::routes::stream_router(state)));

    // Invocation 1: streamed, frame by frame.
    {
        let mut invocation = runtime_api.response("invocation-1").await;
        let headers = &invocation.answer().headers;
        assert_eq!(headers["lambda-runtime-function-response-mode"], "streaming");
        assert_eq!(headers["transfer-encoding"], "chunked");
        assert_eq!(headers["content-type"], "application/vnd.awslambda.http-integration-response");

        invocation
            .until("the first word", |answer| {
                answer.body_after_prelude().is_some_and(|body| String::from_utf8_lossy(body).contains("Streaming"))
            })
            .await;
        assert_eq!(gate.sent(), 2, "Bedrock has not produced the rest yet");
        let connections = shared::runtime::nodelay::nodelay_of_connections_to(runtime_api_addr);
        assert!(!connections.is_empty() && connections.iter().all(|&on| on), "TCP_NODELAY: {connections:?}");
        let (prelude, body) = invocation.answer().split();
        assert_eq!(prelude["statusCode"], 200);
        assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
        assert_eq!(prelude["headers"]["cache-control"], "no-cache");
        let early = parse_sse(body);
        assert_eq!(early.len(), 2, "the role chunk and the first word: {early:#?}");
        assert_eq!(early[1].delta().unwrap()["content"], "Streaming");

        gate.release();
        let answer = invocation.read_to_end().await;
        let (_, body) = answer.split();
        let events = parse_sse(body);
        let chunks = assert_complete_stream(&events);
        assert_eq!(content(&chunks), "Streaming through Lambda");
        assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 3);
    }

    // Invocation 2: an error before the first event keeps its status, in the prelude.
    {
        let answer = runtime_api.response("invocation-2").await.read_to_end().await;
        assert!(answer.streamed());
        let (prelude, body) = answer.split();
        assert_eq!(prelude["statusCode"], 429);
        assert_eq!(prelude["headers"]["retry-after"], "2");
        assert_eq!(prelude["headers"]["content-type"], "application/json");
        let error: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(error["error"]["code"], "throttled");
        assert!(!body.starts_with(b"data:"), "an error before the stream starts is plain JSON");
    }

    let extra = runtime_api.try_event();
    assert!(extra.is_none(), "nothing else reached the Runtime API: {extra:?}");
    function.abort();
}

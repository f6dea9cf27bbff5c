//! Every sample event in `events/stream/` served by the stream function's router as Lambda hands
//! it over (lambda_http's request conversion), answered as a complete SSE stream through the
//! real SDK and the Bedrock emulator. `stream_lambda` covers the streaming runtime itself.

use http_body_util::BodyExt;
use lambda_http::tower::ServiceExt;

#[tokio::test]
async fn every_sample_event_streams_a_complete_answer() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let router = shared::routes::stream_router(tests::app_state(&emulator.url()));

    let events = tests::sample_requests("stream");
    assert!(events.len() >= 3, "sample events missing: {}", events.len());
    for (name, payload) in events {
        let request: lambda_http::Request = payload.into();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], "text/event-stream", "{name}");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.trim_end().ends_with("data: [DONE]"), "{name}: {text}");
        assert!(text.contains("\"usage\""), "{name}: the final chunk carries usage");
        if name.contains("tool-call") {
            assert!(text.contains("\"tool_calls\"") && text.contains("get_weather"), "{name}: {text}");
            assert!(text.contains("\"finish_reason\":\"tool_calls\""), "{name}");
        } else {
            assert!(text.contains("\"finish_reason\":\"stop\""), "{name}");
        }
    }
}

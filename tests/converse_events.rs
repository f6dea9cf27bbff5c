//! The converse function driven by the sample events in `events/converse/`, through the same
//! lambda_http adapter `lambda_http::run` uses: API Gateway REST (v1), HTTP API (v2) and
//! Function URL payloads in, API Gateway responses out.

use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;

#[tokio::test]
async fn every_sample_event_is_served_by_the_converse_function() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let router = shared::routes::converse_router(tests::app_state(&emulator.url()));

    let events = tests::sample_requests("converse");
    assert!(events.len() >= 7, "sample events missing: {}", events.len());
    for (name, payload) in events {
        let adapter: Adapter<'_, _, _> = Adapter::from(router.clone());
        let response = adapter.oneshot(LambdaEvent::new(payload, Context::default())).await.unwrap();
        let response = serde_json::to_value(&response).unwrap();
        let status = response["statusCode"].as_u64().unwrap();
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        if name.contains("invalid") {
            assert_eq!(status, 400, "{name}: {response}");
            assert_eq!(body["error"]["param"], "temperature", "{name}");
        } else if name.contains("models") {
            assert_eq!(status, 200, "{name}: {response}");
            assert_eq!(body["object"], "list", "{name}");
        } else {
            assert_eq!(status, 200, "{name}: {response}");
            assert_eq!(
                body["choices"][0]["message"]["content"],
                "[system: You are a concise assistant.] You said: What is the capital of France?",
                "{name}"
            );
        }
    }
    assert_eq!(emulator.requests(), 4, "one Bedrock call per chat event (the invalid one refused before Bedrock)");
}

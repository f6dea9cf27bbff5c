//! The converse function driven by the sample events in `events/converse/`, through the same
//! lambda_http adapter `lambda_http::run` uses: API Gateway REST (v1), HTTP API (v2) and
//! Function URL payloads in, API Gateway responses out.

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;
use shared::bedrock::SdkBedrock;
use shared::{AppState, Config};

fn events() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/converse");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/converse")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_sample_event_is_served_by_the_converse_function() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let config = Config::load(&tests::env(&[])).unwrap();
    let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &config).into_shared();
    let router = shared::routes::converse_router(AppState::new(config, bedrock));

    let events = events();
    assert!(events.len() >= 7, "sample events missing: {events:?}");
    for (name, text) in events {
        let payload: LambdaRequest =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not a Lambda HTTP event: {e}"));
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

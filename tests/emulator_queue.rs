//! Queued replies on the emulator, through the real `aws-sdk-bedrockruntime` client: a recorded
//! reply played back in place of the scripted model, errors with their type, and a recorded
//! stream held at a frame until the test releases it.

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use dev::emulator::{Emulator, Reply, frames};
use serde_json::json;
use tests::sdk::{client, converse_text, read_stream, user};

const MODEL: &str = "mistral.mistral-large-2407-v1:0";

#[tokio::test]
async fn a_queued_reply_answers_the_next_call_whatever_it_asks() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let recorded = json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": "Recorded answer." }] } },
        "stopReason": "end_turn",
        "usage": { "inputTokens": 3, "outputTokens": 2, "totalTokens": 5 },
        "metrics": { "latencyMs": 120 }
    });
    emulator.enqueue(Reply::recorded(200, "application/json", recorded.to_string()));
    emulator.enqueue(Reply::error(429, "ThrottlingException", "Too many requests"));
    // Queued replies win over validation: this model id is not even a Mistral one.
    let answer = converse_text(&client, "amazon.nova-micro-v1:0", vec![user("Hi")]).await;
    assert_eq!(answer, "Recorded answer.");
    let error = client.converse().model_id(MODEL).messages(user("Hi")).send().await.unwrap_err();
    assert!(matches!(error.into_service_error(), ConverseError::ThrottlingException(_)));
    // The queue is empty again: the scripted model answers.
    assert_eq!(converse_text(&client, MODEL, vec![user("Hi")]).await, "You said: Hi");
    assert_eq!(emulator.requests(), 3);
    assert_eq!(emulator.last_request().unwrap()["modelId"], MODEL);

    emulator.enqueue(
        Reply::recorded(503, "application/json", r#"{"message":"busy"}"#).error_type("ServiceUnavailableException"),
    );
    let error = client.invoke_model().model_id(MODEL).body(aws_smithy_types::Blob::new("{}")).send().await.unwrap_err();
    assert!(matches!(error.into_service_error(), InvokeModelError::ServiceUnavailableException(_)));
}

#[tokio::test]
async fn a_held_stream_waits_for_the_test_to_release_it() {
    let emulator = Emulator::start().await.unwrap();
    let event = |kind: &str, payload: serde_json::Value| frames::event_frame(kind, &payload, 4);
    let stream = [
        event("messageStart", json!({ "role": "assistant" })),
        event("contentBlockDelta", json!({ "contentBlockIndex": 0, "delta": { "text": "Held" } })),
        event("contentBlockDelta", json!({ "contentBlockIndex": 0, "delta": { "text": " back" } })),
        event("contentBlockStop", json!({ "contentBlockIndex": 0 })),
        event("messageStop", json!({ "stopReason": "end_turn" })),
        event(
            "metadata",
            json!({ "usage": { "inputTokens": 1, "outputTokens": 2, "totalTokens": 3 }, "metrics": { "latencyMs": 1 } }),
        ),
    ];
    let body: Vec<u8> = stream.concat();
    let gate = emulator.enqueue(Reply::recorded(200, "application/vnd.amazon.eventstream", body).hold_at(2));
    let output = client(&emulator).converse_stream().model_id(MODEL).messages(user("Hi")).send().await.unwrap();
    let mut events = output.stream;
    events.recv().await.unwrap().unwrap();
    events.recv().await.unwrap().unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(150), events.recv()).await;
    assert!(waiting.is_err(), "nothing after the hold before the release");
    assert_eq!(gate.sent(), 2);
    assert!(gate.first_sent_at().is_some());
    gate.release();
    let rest = read_stream(events).await.unwrap();
    assert_eq!(rest.text, " back");
    assert_eq!(gate.sent(), 6);
    assert!(!gate.dropped_early());
}

//! The converse function as Lambda Managed Instances run it: `shared::runtime::serve` (what
//! `functions/converse/src/main.rs` runs) with `AWS_LAMBDA_MAX_CONCURRENCY=4`, polling the stub
//! Runtime API for four invocations at once, its answers buffered for API Gateway.
//!
//! Bedrock (the emulator's queued replies) holds every answer until all four calls have reached
//! it, which only happens if the four invocations are served at the same time.

use std::time::Duration;

use dev::emulator::{Emulator, Reply};
use serde_json::{Value, json};
use tests::runtime_api::RuntimeApi;
use tests::{app_state, sample_event};

const INVOCATIONS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_chats_are_served_at_once_and_each_answered_in_full() {
    let bedrock = Emulator::start().await.unwrap();
    let recorded = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Four at once."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6},
        "metrics": {"latencyMs": 1}
    });
    let gates: Vec<_> = (0..INVOCATIONS)
        .map(|_| bedrock.enqueue(Reply::recorded(200, "application/json", recorded.to_string()).hold_at(0)))
        .collect();

    let mut runtime_api = RuntimeApi::start().await;
    // This test binary holds this one test only, so nothing else reads the environment while it
    // is written.
    for (key, value) in runtime_api.lambda_env("converse") {
        // SAFETY: no other thread of this process reads or writes the environment now.
        unsafe { std::env::set_var(key, value) };
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", INVOCATIONS.to_string()) };
    // As main does: its own runtime, on a thread of its own (it runs until the process ends).
    let router = shared::routes::converse_router(app_state(&bedrock.url()));
    std::thread::spawn(move || shared::runtime::block_on(shared::runtime::serve(router)));
    runtime_api.poll(INVOCATIONS).await;
    for i in 0..INVOCATIONS {
        runtime_api.push(&format!("invocation-{i}"), sample_event("converse", "rest-chat.json"));
    }

    // All four calls reach Bedrock while it answers none of them.
    tokio::time::timeout(Duration::from_secs(20), async {
        while bedrock.requests() < INVOCATIONS {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("four Bedrock calls at once");
    assert!(runtime_api.try_event().is_none(), "no answer before Bedrock's");
    for gate in &gates {
        gate.release();
    }

    let answers = runtime_api.answers(INVOCATIONS).await;
    for (request_id, answer) in &answers {
        assert!(!answer.streamed(), "{request_id}: buffered for API Gateway");
        let response: Value = serde_json::from_slice(&answer.bytes).unwrap();
        assert_eq!(response["statusCode"], 200, "{request_id}: {response}");
        assert_eq!(response["isBase64Encoded"], false, "{request_id}");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], "Four at once.", "{request_id}");
    }
}

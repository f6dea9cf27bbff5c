//! A function as Lambda Managed Instances run it: its `main` future with
//! `AWS_LAMBDA_MAX_CONCURRENCY` set, polling the stub Runtime API for that many invocations at
//! once, its answers buffered for API Gateway.
//!
//! Bedrock (the emulator's queued replies) holds every answer until all the calls have reached
//! it, which only happens if the invocations are served at the same time.

use std::future::Future;
use std::time::Duration;

use dev::emulator::{Emulator, Reply};
use serde_json::{Value, json};

use crate::runtime_api::RuntimeApi;
use crate::sample_event;

/// What the held Bedrock answers say.
pub const ANSWER: &str = "All at once.";

/// Runs `main` (given the emulator's URL; on a thread and runtime of its own, as a function's
/// `main` does) with `AWS_LAMBDA_MAX_CONCURRENCY=count`, hands it `count` copies of `function`'s
/// sample event `event`, and asserts that all reach Bedrock before any is answered, and that
/// each is then a whole buffered API Gateway answer of 200 with [`ANSWER`].
///
/// It writes the process's environment: a test binary that calls it holds that one test only.
pub async fn served_at_once<M, F>(function: &str, event: &str, count: usize, main: M)
where
    M: FnOnce(String) -> F + Send + 'static,
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    let bedrock = Emulator::start().await.unwrap();
    let recorded = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": ANSWER}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6},
        "metrics": {"latencyMs": 1}
    });
    let gates: Vec<_> = (0..count)
        .map(|_| bedrock.enqueue(Reply::recorded(200, "application/json", recorded.to_string()).hold_at(0)))
        .collect();

    let mut runtime_api = RuntimeApi::start().await;
    for (key, value) in runtime_api.lambda_env(function) {
        // SAFETY: the test binary holds this one test, and no other thread of this process reads
        // or writes the environment now.
        unsafe { std::env::set_var(key, value) };
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", count.to_string()) };
    let url = bedrock.url();
    std::thread::spawn(move || shared::runtime::block_on(main(url)));
    runtime_api.poll(count).await;
    for i in 0..count {
        runtime_api.push(&format!("invocation-{i}"), sample_event(function, event));
    }

    tokio::time::timeout(Duration::from_secs(20), async {
        while bedrock.requests() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{count} Bedrock calls at once"));
    assert!(runtime_api.try_event().is_none(), "no answer before Bedrock's");
    for gate in &gates {
        gate.release();
    }

    let answers = runtime_api.answers(count).await;
    assert_eq!(answers.len(), count);
    for (request_id, answer) in &answers {
        assert!(!answer.streamed(), "{request_id}: buffered for API Gateway");
        let response: Value = serde_json::from_slice(&answer.bytes).unwrap();
        assert_eq!(response["statusCode"], 200, "{request_id}: {response}");
        assert_eq!(response["isBase64Encoded"], false, "{request_id}");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], ANSWER, "{request_id}");
    }
}

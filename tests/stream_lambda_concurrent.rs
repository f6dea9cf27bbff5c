//! The stream function as Lambda Managed Instances run it: `shared::runtime::serve_streaming`
//! (what `functions/stream/src/main.rs` runs) with `AWS_LAMBDA_MAX_CONCURRENCY=4`, polling the
//! stub Runtime API for four invocations at once.
//!
//! Bedrock (the emulator's queued replies) holds every answer after its first word, so the four
//! first words can only all reach the Runtime API if the four invocations are served at the same
//! time; then Bedrock lets them go and each answer must arrive complete, streamed, in order.

use dev::emulator::{Emulator, Reply};
use tests::frames::text_frames;
use tests::runtime_api::RuntimeApi;
use tests::sse::{assert_complete_stream, content, parse_sse};
use tests::{app_state, sample_event};

const INVOCATIONS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_streams_are_served_at_once_and_each_arrives_whole() {
    let bedrock = Emulator::start().await.unwrap();
    let gates: Vec<_> = (0..INVOCATIONS)
        .map(|_| bedrock.enqueue(Reply::frames(text_frames(&["Four", "at", "once"])).hold_at(2)))
        .collect();

    let mut runtime_api = RuntimeApi::start().await;
    // This test binary holds this one test only, so nothing else reads the environment while it
    // is written.
    for (key, value) in runtime_api.lambda_env("stream") {
        // SAFETY: no other thread of this process reads or writes the environment now.
        unsafe { std::env::set_var(key, value) };
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", INVOCATIONS.to_string()) };
    assert_eq!(shared::runtime::max_concurrency(), Some(INVOCATIONS as u32));
    let function =
        tokio::spawn(shared::runtime::serve_streaming(shared::routes::stream_router(app_state(&bedrock.url()))));
    runtime_api.poll(INVOCATIONS).await;
    for i in 0..INVOCATIONS {
        runtime_api.push(&format!("invocation-{i}"), sample_event("stream", "rest-stream.json"));
    }

    // Every invocation's first word, while Bedrock holds the rest of every answer.
    runtime_api
        .until_in_progress("every first word", |open| {
            open.len() == INVOCATIONS
                && open.values().all(|answer| {
                    answer.body_after_prelude().is_some_and(|body| String::from_utf8_lossy(body).contains("Four"))
                })
        })
        .await;
    for gate in &gates {
        assert_eq!(gate.sent(), 2, "Bedrock holds the rest of every answer");
        gate.release();
    }

    let answers = runtime_api.answers(INVOCATIONS).await;
    assert_eq!(answers.len(), INVOCATIONS);
    for (request_id, answer) in &answers {
        assert!(answer.streamed(), "{request_id}");
        let (prelude, body) = answer.split();
        assert_eq!(prelude["statusCode"], 200, "{request_id}");
        let chunks = assert_complete_stream(&parse_sse(body));
        assert_eq!(content(&chunks), "Four at once", "{request_id}");
    }
    let extra = runtime_api.try_event();
    assert!(extra.is_none(), "nothing else reached the Runtime API: {extra:?}");
    function.abort();
}

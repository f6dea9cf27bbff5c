//! What the converse function adds on top of Bedrock, for a ~2 KB chat request: the full path
//! (API Gateway event JSON → lambda_http → router → conversion → SDK call to a zero-delay
//! emulator → response → API Gateway response JSON) against the bare SDK call it makes, timed
//! alternately so both see the same machine. Prints p50/p99 of each, the added p50, and the
//! process's peak memory. Run with `cargo bench -p tests --bench converse`.

use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use shared::bedrock::{Bedrock, SdkBedrock};
use shared::{AppState, Config};
use tests::measure::{peak_rss_kib, percentile, thread_cpu_time};
use tests::workload::{chat_2kb, rest_event};

const ROUNDS: usize = 3000;
const WARMUP: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let emulator = dev::emulator::Emulator::start().await.unwrap();
    let config = Config::load(&tests::env(&[])).unwrap();
    let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &config);
    let direct = bedrock.clone();
    let router = shared::routes::converse_router(AppState::new(config.clone(), bedrock.into_shared()));
    let event = rest_event("/v1/chat/completions", &chat_2kb());

    // The Converse input the function sends, for the bare SDK baseline.
    let payload: LambdaRequest = serde_json::from_str(&event).unwrap();
    let request: lambda_http::Request = payload.into();
    let chat = shared::api::ChatRequest::from_slice(request.body().as_ref()).unwrap();
    let planned = shared::chat::plan(&config, &chat, shared::model_choice::RouteKind::Chat, None).unwrap();
    let converse = planned.conversation.finish(planned.plan.first()).unwrap();

    let mut full = Vec::with_capacity(ROUNDS);
    let mut bare = Vec::with_capacity(ROUNDS);
    let (mut full_cpu, mut bare_cpu) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for round in 0..WARMUP + ROUNDS {
        let cpu = thread_cpu_time();
        let started = Instant::now();
        let payload: LambdaRequest = serde_json::from_str(&event).unwrap();
        let response =
            Adapter::from(router.clone()).oneshot(LambdaEvent::new(payload, Context::default())).await.unwrap();
        let out = serde_json::to_string(&response).unwrap();
        let t_full = started.elapsed();
        let c_full = thread_cpu_time() - cpu;
        assert!(out.contains("\"statusCode\":200"), "{out}");

        let cpu = thread_cpu_time();
        let started = Instant::now();
        let output = direct.answer(converse.clone()).await.unwrap();
        let t_bare = started.elapsed();
        let c_bare = thread_cpu_time() - cpu;
        assert!(output.usage().is_some());
        if round >= WARMUP {
            full.push(t_full);
            bare.push(t_bare);
            full_cpu.push(c_full);
            bare_cpu.push(c_bare);
        }
    }
    for samples in [&mut full, &mut bare, &mut full_cpu, &mut bare_cpu] {
        samples.sort();
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "converse bench: {ROUNDS} requests of a {} byte event (~2 KB chat body), zero-delay emulator on loopback",
        event.len()
    );
    println!("  full path  p50 {:8.1} us   p99 {:8.1} us", us(percentile(&full, 0.5)), us(percentile(&full, 0.99)));
    println!("  bare SDK   p50 {:8.1} us   p99 {:8.1} us", us(percentile(&bare, 0.5)), us(percentile(&bare, 0.99)));
    println!(
        "  added by the function: p50 {:6.1} us   p99 {:6.1} us",
        us(percentile(&full, 0.5)) - us(percentile(&bare, 0.5)),
        us(percentile(&full, 0.99)) - us(percentile(&bare, 0.99))
    );
    println!(
        "  CPU time (this thread: function, SDK and emulator alike): full path p50 {:.1} us, bare SDK p50 {:.1} us, added {:.1} us",
        us(percentile(&full_cpu, 0.5)),
        us(percentile(&bare_cpu, 0.5)),
        us(percentile(&full_cpu, 0.5)) - us(percentile(&bare_cpu, 0.5))
    );
    if let Some(kib) = peak_rss_kib(None) {
        println!("  peak RSS of the bench process (emulator included): {:.1} MiB", kib as f64 / 1024.0);
    }
}

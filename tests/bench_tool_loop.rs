//! The tool loop's own overhead per step, without model or tool time: a fake Bedrock that
//! answers instantly and the built-in (in-memory) payment tools. What is left is the loop:
//! collecting tool calls, schema validation, running the calls, building the result turn,
//! cloning the growing conversation for the next call, and the trace.
//!
//! `cargo bench -p tests --bench tool_loop` prints a table; figures are in docs/tools.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use shared::api::ChatRequest;
use shared::bedrock::{Bedrock, FakeBedrock, fake};
use shared::config::Env;
use shared::tools::{Toolbox, request, tool_loop};
use shared::{ApiError, Config};

/// A model that asks for `calls` payment lookups per turn for `rounds` turns, then answers.
fn instant_model(rounds: usize, calls: usize) -> FakeBedrock {
    FakeBedrock::unrecorded(move |r| {
        let round = r.messages.len() / 2;
        if round >= rounds {
            return Ok::<_, ApiError>(fake::text("The payment is Paid.", 20, 10));
        }
        let calls: Vec<(String, &str, serde_json::Value)> = (0..calls)
            .map(|i| {
                let name = if i % 2 == 0 { "retrieve_payment_status" } else { "retrieve_payment_date" };
                (format!("tooluse_{round}_{i}"), name, json!({"transaction_id": format!("T100{}", 1 + i % 5)}))
            })
            .collect();
        let calls: Vec<(&str, &str, serde_json::Value)> =
            calls.iter().map(|(id, name, args)| (id.as_str(), *name, args.clone())).collect();
        Ok(fake::tool_calls(&calls, 20, 10))
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = Config::load(&Env::empty()).unwrap();
    let toolbox = Toolbox::load(&Env::from_pairs([("TOOLS_MAX_STEPS", "50")])).unwrap();
    let body = br#"{"model": "mistral-large", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]}"#;

    println!("tool loop overhead (fake instant model, in-memory tools; request parsing excluded)");
    println!(
        "{:>6} {:>6} {:>10} {:>14} {:>14} {:>14}",
        "rounds", "calls", "requests", "per request", "per step", "per tool call"
    );
    for (rounds, calls) in [(1, 1), (4, 1), (7, 1), (1, 4), (4, 4), (7, 8)] {
        let bedrock: Arc<dyn Bedrock> = Arc::new(instant_model(rounds, calls));
        let iterations = 2_000;
        let mut total = Duration::ZERO;
        let mut samples = Vec::with_capacity(iterations);
        runtime.block_on(async {
            for i in 0..iterations + 200 {
                let call = request::prepare(&config, &toolbox, ChatRequest::from_slice(body).unwrap(), None).unwrap();
                let started = Instant::now();
                let answer = tool_loop::run(&config, bedrock.as_ref(), &toolbox, call).await.unwrap();
                let took = started.elapsed();
                assert_eq!(answer.completion.extra.tool_runs.len(), rounds * calls);
                // The first 200 warm caches and the allocator up.
                if i >= 200 {
                    total += took;
                    samples.push(took);
                }
            }
        });
        samples.sort_unstable();
        let per_request = total / iterations as u32;
        let steps = (rounds + 1) as u32;
        println!(
            "{rounds:>6} {calls:>6} {iterations:>10} {:>11.1} µs {:>11.1} µs {:>11.1} µs   (p50 {:.1} µs, p99 {:.1} µs per request)",
            micros(per_request),
            micros(per_request / steps),
            micros(per_request / (rounds * calls) as u32),
            micros(samples[samples.len() / 2]),
            micros(samples[samples.len() * 99 / 100]),
        );
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

//! The tool loop's own overhead per step, without model or tool time: a fake Bedrock that
//! answers instantly and the built-in (in-memory) payment tools. What is left is the loop:
//! collecting tool calls, schema validation, running the calls, building the result turn,
//! cloning the growing conversation for the next call, and the trace.
//!
//! `cargo bench -p tests --bench tool_loop` prints a table; figures are in docs/tools.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseMetrics, ConverseOutput as Output, Message, StopReason, TokenUsage,
    ToolUseBlock,
};
use aws_smithy_types::Document;
use futures_util::future::BoxFuture;
use shared::bedrock::{Bedrock, ConverseRequest, EventStream};
use shared::tools::{Toolbox, request, tool_loop};
use shared::{ApiError, Config};

/// Asks for `calls` payment lookups per turn for `rounds` turns, then answers.
struct InstantModel {
    rounds: usize,
    calls: usize,
}

impl InstantModel {
    fn answer(&self, r: &ConverseRequest) -> ConverseOutput {
        let round = r.messages.len() / 2;
        let (content, stop) = if round < self.rounds {
            let calls = (0..self.calls)
                .map(|i| {
                    let input = Document::Object(
                        [("transaction_id".to_owned(), Document::String(format!("T100{}", 1 + i % 5)))].into(),
                    );
                    ContentBlock::ToolUse(
                        ToolUseBlock::builder()
                            .tool_use_id(format!("tooluse_{round}_{i}"))
                            .name(if i % 2 == 0 { "retrieve_payment_status" } else { "retrieve_payment_date" })
                            .input(input)
                            .build()
                            .unwrap(),
                    )
                })
                .collect();
            (calls, StopReason::ToolUse)
        } else {
            (vec![ContentBlock::Text("The payment is Paid.".into())], StopReason::EndTurn)
        };
        let message = Message::builder().role(ConversationRole::Assistant).set_content(Some(content)).build().unwrap();
        ConverseOutput::builder()
            .output(Output::Message(message))
            .stop_reason(stop)
            .usage(TokenUsage::builder().input_tokens(20).output_tokens(10).total_tokens(30).build().unwrap())
            .metrics(ConverseMetrics::builder().latency_ms(0).build().unwrap())
            .build()
            .unwrap()
    }
}

impl Bedrock for InstantModel {
    fn converse(&self, r: ConverseRequest) -> BoxFuture<'_, Result<ConverseOutput, ApiError>> {
        let output = self.answer(&r);
        Box::pin(async move { Ok(output) })
    }

    fn converse_stream(&self, _: ConverseRequest) -> BoxFuture<'_, Result<EventStream, ApiError>> {
        Box::pin(async { Err(ApiError::Internal("not used by the tool loop".into())) })
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = Config::from_lookup(|_| None).unwrap();
    let toolbox = Toolbox::from_lookup(|k| (k == "TOOLS_MAX_STEPS").then(|| "50".to_owned())).unwrap();
    let body = br#"{"model": "mistral-large", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]}"#;

    println!("tool loop overhead (fake instant model, in-memory tools; request parsing excluded)");
    println!(
        "{:>6} {:>6} {:>10} {:>14} {:>14} {:>14}",
        "rounds", "calls", "requests", "per request", "per step", "per tool call"
    );
    for (rounds, calls) in [(1, 1), (4, 1), (7, 1), (1, 4), (4, 4), (7, 8)] {
        let bedrock: Arc<dyn Bedrock> = Arc::new(InstantModel { rounds, calls });
        let iterations = 2_000;
        let mut total = Duration::ZERO;
        let mut samples = Vec::with_capacity(iterations);
        runtime.block_on(async {
            for i in 0..iterations + 200 {
                let call = request::parse(&config, &toolbox, body).unwrap();
                let started = Instant::now();
                let completion = tool_loop::run(bedrock.as_ref(), &toolbox, call).await.unwrap();
                let took = started.elapsed();
                assert_eq!(completion.tool_runs.len(), rounds * calls);
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

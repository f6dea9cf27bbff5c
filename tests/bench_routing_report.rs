//! The routing report: one mixed workload through each `auto` policy and through the top tier
//! alone, over real HTTP (dev server, real SDK, Bedrock emulator). Per policy it prints the
//! share of answers per tier, the escalation rate, the total cost against always asking the top
//! tier, and the latency (each model call waits `MODEL_MS` before answering, so escalations and
//! triage calls show what they add).
//!
//! The workload: 100 requests, 80 easy and 20 hard (`[[hard]]`: tiers below Large say they cannot
//! answer), of which 20 ask for schema-checked JSON and 20 offer a tool. Token counts are the
//! emulator's (words), so the costs compare policies, not real bills.
//!
//! `cargo bench -p tests --bench routing_report`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Harness;

const TIERS: &str = "ministral-3b,ministral-14b,mistral-large-3";
const TOP: &str = "mistral.mistral-large-3-675b-instruct";
/// How long the emulated model takes to its first byte, on every call.
const MODEL_MS: u64 = 40;

/// About 300 words of context, as a support request carries: the fixed cost of the gateway's
/// escalation note (~60 input tokens) is then a small share of each call, as in real use.
fn context() -> String {
    let sentence = "Refunds are issued to the original payment method within fourteen days of receiving the returned item, provided it is unused and in its original packaging.";
    (0..12).map(|_| sentence).collect::<Vec<_>>().join(" ")
}

/// Request `i` of the workload: every fifth is hard; every fifth (offset) asks for JSON; every
/// fifth (another offset) offers a tool.
fn request(i: usize) -> Value {
    let hard = i.is_multiple_of(5);
    let mut prompt =
        format!("{} Question {i}: summarise our refund policy for order O{i:04} in two sentences.", context());
    if hard {
        prompt.push_str(" It involves three jurisdictions and a disputed chargeback. [[hard]]");
    }
    prompt.push_str(&format!(" [[slow:{MODEL_MS}]]"));
    let mut body = json!({"messages": [{"role": "user", "content": prompt}], "max_tokens": 200});
    if i % 5 == 1 {
        body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "summary", "schema": {
            "type": "object", "properties": {"summary": {"type": "string"}, "refundable": {"type": "boolean"}},
            "required": ["summary", "refundable"], "additionalProperties": false}}});
    }
    if i % 5 == 2 {
        body["tools"] = json!([{"type": "function", "function": {"name": "lookup_order",
            "description": "Order details by id", "parameters": {"type": "object",
            "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]);
        let hard = if hard { "[[hard]] " } else { "" };
        body["messages"][0]["content"] =
            json!(format!("{} Look up order O{i:04} for me. {hard}[[slow:{MODEL_MS}]]", context()));
    }
    body
}

#[derive(Default)]
struct Tally {
    answers: BTreeMap<String, usize>,
    /// Requests that needed more than one model call to answer.
    escalated: usize,
    /// Hard requests answered by the top tier.
    hard_on_top: usize,
    attempts: usize,
    cost: f64,
    latencies: Vec<Duration>,
}

async fn run(h: &Harness, model: &str, policy: Option<&str>) -> Tally {
    let mut tally = Tally::default();
    for i in 0..100 {
        let mut body = request(i);
        body["model"] = json!(model);
        if let Some(policy) = policy {
            body["routing"] = json!({"policy": policy});
        }
        let started = Instant::now();
        let reply = h.post_json("/v1/chat/completions", &body).await;
        tally.latencies.push(started.elapsed());
        assert_eq!(reply.status, 200, "{}", reply.body);
        let model = reply.body["model"].as_str().unwrap().to_owned();
        tally.hard_on_top += usize::from(i.is_multiple_of(5) && model == TOP);
        *tally.answers.entry(model).or_default() += 1;
        let attempts = reply.body["routing"]["attempts"].as_array().unwrap();
        tally.attempts += attempts.len() + usize::from(reply.body["routing"].get("triage").is_some());
        tally.escalated += usize::from(attempts.iter().any(|a| a["outcome"] != "answered"));
        tally.cost += reply.body["usage"]["cost_usd"].as_f64().unwrap();
    }
    tally.latencies.sort();
    tally
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let h = Harness::with_config(&[("ROUTING_TIERS", TIERS)]).await;
    let baseline = run(&h, "mistral-large-3", None).await;
    println!(
        "routing report: 100 requests (80 easy, 20 hard; 20 JSON, 20 with a tool), tiers {TIERS}, {MODEL_MS} ms per model call"
    );
    println!(
        "{:<10} {:>30} {:>10} {:>12} {:>6} {:>11} {:>7} {:>7} {:>8}",
        "policy",
        "answers (3b / 14b / large-3)",
        "escalated",
        "hard on top",
        "calls",
        "cost USD",
        "vs top",
        "p50 ms",
        "mean ms"
    );
    let line = |name: &str, t: &Tally| {
        let share = |id: &str| t.answers.get(id).copied().unwrap_or(0);
        let mean = t.latencies.iter().sum::<Duration>() / t.latencies.len() as u32;
        let listed = share("mistral.ministral-3-3b-instruct") + share("mistral.ministral-3-14b-instruct") + share(TOP);
        assert_eq!(listed, 100, "every answer comes from a tier: {:?}", t.answers);
        println!(
            "{:<10} {:>30} {:>9}% {:>9} / 20 {:>6} {:>11.6} {:>6.0}% {:>7.1} {:>8.1}",
            name,
            format!(
                "{} / {} / {}",
                share("mistral.ministral-3-3b-instruct"),
                share("mistral.ministral-3-14b-instruct"),
                share(TOP)
            ),
            t.escalated,
            t.hard_on_top,
            t.attempts,
            t.cost,
            100.0 * t.cost / baseline.cost,
            ms(t.latencies[t.latencies.len() / 2]),
            ms(mean),
        );
    };
    line("top tier", &baseline);
    let mut results = BTreeMap::new();
    for policy in ["cascade", "triage", "rules"] {
        let tally = run(&h, "auto", Some(policy)).await;
        line(policy, &tally);
        results.insert(policy, tally);
    }
    let p50 = |t: &Tally| ms(t.latencies[t.latencies.len() / 2]);
    println!(
        "triage adds {:.1} ms at p50 against rules (one short classification call per request); cascade's escalations add {:.1} ms on average",
        p50(&results["triage"]) - p50(&results["rules"]),
        ms(results["cascade"].latencies.iter().sum::<Duration>() / 100)
            - ms(baseline.latencies.iter().sum::<Duration>() / 100),
    );
}

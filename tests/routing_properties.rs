//! Properties of every answer, over requests drawn by a seeded generator: routes (sync, stream
//! and its plain-JSON form, the tool loop), policies, named models and `auto`, fallbacks, native
//! bodies, response formats, stop sequences, system prompts and fault directives, against four
//! deployments. Through the dev server and the emulator over real HTTP. For every answer:
//!
//! - `usage` (tokens and cost) is the sum over the attempts and the triage call, and each
//!   attempt's cost is its tokens at its model's price;
//! - `model` (and `x-routed-model`) is the answering attempt's;
//! - `savings_usd` is every answered call's tokens priced on the top tier, less every call's cost;
//! - a request that some model it may reach can take, and that no fault stops there, is answered
//!   (no 4xx); a request no model can take is refused before any Bedrock call.
//!
//! A failure prints the seed and the case, so it can be replayed (`ROUTING_PROPERTIES_SEED`).

use serde_json::{Value, json};
use shared::api::ChatRequest;
use shared::catalog;
use shared::config::routing::RouteKind;
use shared::config::{AllowedModel, Config};
use shared::model_choice::Policy;
use tests::Harness;

const CASES_PER_DEPLOYMENT: usize = 45;

const DEPLOYMENTS: &[&[(&str, &str)]] = &[
    &[],
    &[
        ("BEDROCK_INVOKE_MODELS", "mistral-small,mistral-large"),
        ("MODEL_FALLBACKS", "mistral-small=ministral-14b,mistral-large=mistral-large-3"),
        ("ROUTING_TIERS", "ministral-3b,mistral-small,mistral-large"),
    ],
    &[
        ("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3"),
        ("MODEL_FALLBACKS", "ministral-3b=mistral-7b|ministral-8b,mistral-large-3=mistral-large"),
    ],
    &[
        ("BEDROCK_INVOKE_MODELS", "mistral-large,mixtral-8x7b"),
        ("ROUTING_TIERS", "mistral-7b,mixtral-8x7b,mistral-large"),
        ("MODEL_FALLBACKS", "mixtral-8x7b=mistral-large-3|ministral-8b"),
    ],
];

const MODELS: &[&str] = &[
    "auto",
    "auto",
    "auto",
    "mistral-small",
    "mistral-large",
    "mistral-large-3",
    "ministral-3b",
    "mixtral-8x7b",
    "mistral-7b",
];
const FAULTED: &[&str] =
    &["mistral-small", "mistral-large", "mistral-large-3", "ministral-3b", "ministral-14b", "mixtral-8x7b"];

/// xorshift64*: small, seeded, the same sequence everywhere.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug)]
struct Case {
    path: &'static str,
    body: Value,
    /// Aliases a fault directive throttles.
    faulted: Vec<&'static str>,
}

fn draw(rng: &mut Seeded) -> Case {
    let path = *rng.pick(&["/v1/chat/completions", "/stream/v1/chat/completions", "/tools/v1/chat/completions"]);
    let model = *rng.pick(MODELS);
    let mut prompt =
        String::from(*rng.pick(&["What is the capital of France?", "What is the status of payment T1001?"]));
    let mut faulted = Vec::new();
    for _ in 0..rng.below(3) {
        let alias = *rng.pick(FAULTED);
        prompt.push_str(&format!(" [[fault:throttle@{alias}]]"));
        faulted.push(alias);
    }
    if rng.chance(30) {
        prompt.push_str(" [[hard]]");
    }
    if rng.chance(20) {
        prompt.push_str(" [[broken-json]]");
    }
    let mut messages = Vec::new();
    if rng.chance(30) {
        messages.push(json!({"role": "system", "content": "Be brief."}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let mut body = json!({"model": model, "messages": messages});
    match rng.below(4) {
        0 => body["response_format"] = json!({"type": "json_object"}),
        1 => {
            body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "answer",
                "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
        }
        _ => {}
    }
    if rng.chance(15) {
        body["stop"] = json!(["\n\n"]);
    }
    if model == "auto" && rng.chance(60) {
        body["routing"] = json!({"policy": rng.pick(&["cascade", "triage", "rules"])});
    }
    match path {
        "/tools/v1/chat/completions" if rng.chance(40) => body["tools"] = json!([]),
        "/stream/v1/chat/completions" => body["stream"] = json!(rng.chance(75)),
        "/v1/chat/completions" if rng.chance(30) => {
            body["tools"] = json!([{"type": "function", "function": {"name": "get_payment_status",
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}])
        }
        _ => {}
    }
    Case { path, body, faulted }
}

/// What the gateway's own planning says of a case: whether some model it may reach (the
/// ladder, and each tier's fallbacks) can take it and give an answer: one that no fault stops,
/// and that does not ask for a stronger tier (under `cascade`, below the top tier, a model below
/// Large answers `[[hard]]` with the escalation marker, and JSON with `[[broken-json]]` broken);
/// and the top tier's price. `None` when no model can take it.
fn servable(h: &Harness, case: &Case) -> Option<(bool, Option<catalog::Price>)> {
    let config: &Config = &h.state.app.config;
    let request = ChatRequest::from_value(case.body.clone()).unwrap();
    let (conversation, plan) = match case.path {
        "/tools/v1/chat/completions" => {
            let call = shared::tools::request::prepare(config, &h.state.toolbox, request, None).ok()?;
            (call.conversation, call.plan)
        }
        path => {
            let route = if path.starts_with("/stream") { RouteKind::Stream } else { RouteKind::Chat };
            let planned = shared::chat::plan(config, &request, route, None).ok()?;
            (planned.conversation, planned.plan)
        }
    };
    let prompt = case.body["messages"].to_string();
    let json = case.body.get("response_format").is_some();
    let escalates = prompt.contains("[[hard]]") || (json && prompt.contains("[[broken-json]]"));
    let below_large = |m: &AllowedModel| catalog::lookup(&m.id).is_none_or(|c| c.tier < catalog::Tier::Large);
    let ladder: Vec<&AllowedModel> = if plan.climbs_on_faults() { plan.ladder.clone() } else { vec![plan.first()] };
    // A tier's first candidate that is called and not stopped by a fault decides it: it
    // answers, or it escalates (fallbacks are for faults, not for escalations).
    let serves = ladder.iter().enumerate().any(|(position, tier)| {
        let asks_signal = plan.policy == Policy::Cascade && position + 1 < ladder.len();
        let called = std::iter::once(*tier)
            .chain(config.fallbacks(tier))
            .find(|m| conversation.fit(m).is_ok() && !faulted(&m.id, case));
        called.is_some_and(|m| !(asks_signal && escalates && below_large(m)))
    });
    Some((serves, plan.top.and_then(|m| m.price)))
}

/// The answer's `usage`, `routing` and `model`: from the JSON body, or from a stream's last chunk.
async fn answer(response: reqwest::Response) -> (u16, Value, String) {
    let status = response.status().as_u16();
    let header = response.headers().get("x-routed-model").map(|v| v.to_str().unwrap().to_owned());
    let streamed = response.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().contains("event-stream"));
    let bytes = response.bytes().await.unwrap();
    let body = if streamed {
        let events = tests::sse::parse_sse(&bytes);
        let chunks = tests::sse::assert_complete_stream(&events);
        chunks.last().unwrap().clone()
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if status == 200 {
        assert_eq!(header.as_deref(), body["model"].as_str(), "x-routed-model is the answering model");
    }
    (status, body, String::from_utf8_lossy(&bytes).into_owned())
}

fn check_accounts(config: &Config, body: &Value, top: Option<catalog::Price>) {
    let price = |model: &str| config.models.iter().find(|m| m.id == model).and_then(|m| m.price);
    tests::accounts::assert_accounts(&body["routing"], &body["usage"], price, top);
    let answered = body["routing"]["attempts"].as_array().unwrap().iter().rfind(|a| a["outcome"] == "answered");
    assert_eq!(body["model"], answered.unwrap()["model"], "model is the answering attempt's");
}

fn faulted(model: &str, case: &Case) -> bool {
    case.faulted.iter().any(|alias| catalog::by_name(alias).is_some_and(|m| m.id == catalog::base_id(model)))
}

#[tokio::test]
async fn every_answer_keeps_honest_accounts_and_no_servable_request_is_refused() {
    let seed = std::env::var("ROUTING_PROPERTIES_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1600_u64);
    let mut rng = Seeded(seed);
    let (mut answered, mut refused) = (0, 0);
    for (d, settings) in DEPLOYMENTS.iter().enumerate() {
        // Many throttles in a row: adaptive retries would slow this client down between cases.
        let settings: Vec<(&str, &str)> =
            [("BEDROCK_RETRY_MODE", "standard")].into_iter().chain(settings.iter().copied()).collect();
        let h = Harness::with_config(&settings).await;
        let config = h.state.app.config.clone();
        for n in 0..CASES_PER_DEPLOYMENT {
            let case = draw(&mut rng);
            let context = format!("seed {seed:#x}, deployment {d}, case {n}: {} {}", case.path, case.body);
            let before = h.emulator().requests();
            let response = h.http.post(h.url(case.path)).json(&case.body).send().await.unwrap();
            let (status, body, raw) = answer(response).await;
            let Some((serves, top)) = servable(&h, &case) else {
                assert!((400..500).contains(&status), "{context}: no model can take it, yet {status}: {raw}");
                assert_eq!(h.emulator().requests(), before, "{context}: refused before any call");
                refused += 1;
                continue;
            };
            if serves {
                assert_eq!(status, 200, "{context}: a model it may reach can answer it: {raw}");
            }
            if status != 200 {
                assert!(status == 429, "{context}: only a fault may stop it: {status} {raw}");
                refused += 1;
                continue;
            }
            let result = std::panic::catch_unwind(|| check_accounts(&config, &body, top));
            assert!(result.is_ok(), "{context}: {body}");
            answered += 1;
        }
    }
    eprintln!("{answered} answers checked, {refused} refusals checked");
    assert!(answered >= DEPLOYMENTS.len() * CASES_PER_DEPLOYMENT / 2, "most cases are answered: {answered}");
}

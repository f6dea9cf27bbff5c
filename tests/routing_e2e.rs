//! Tiered routing end to end: the dev server over the Bedrock emulator, whose `[[hard]]`,
//! `[[broken-json]]` and `[[fault:NAME@MODEL]]` directives make every path happen. Each answer's
//! `routing` object is checked for its arithmetic, and each request's EMF record for what it
//! counted.

use serde_json::{Value, json};
use tests::{Harness, chat};

const SMALL: &str = "mistral.ministral-3-3b-instruct";
const MEDIUM: &str = "mistral.ministral-3-14b-instruct";
const LARGE: &str = "mistral.mistral-large-3-675b-instruct";
const TIERS: (&str, &str) = ("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3");
/// USD per 1M input/output tokens, as the catalog has them.
const PRICES: [(&str, f64, f64); 3] = [(SMALL, 0.10, 0.10), (MEDIUM, 0.20, 0.20), (LARGE, 0.50, 1.50)];

fn price(model: &str) -> Option<shared::catalog::Price> {
    PRICES
        .iter()
        .find(|(id, ..)| *id == model)
        .map(|(_, input, output)| shared::catalog::Price { input_per_million: *input, output_per_million: *output })
}

/// The routing report's arithmetic ([`tests::accounts`]), at the published prices above.
fn assert_accounts(routing: &Value, usage: &Value, top: &str) {
    tests::accounts::assert_accounts(routing, usage, price, price(top));
}

fn outcomes(routing: &Value) -> Vec<(String, String)> {
    routing["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["model"].as_str().unwrap().to_owned(), a["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(m, o)| (m.to_string(), o.to_string())).collect()
}

#[tokio::test]
async fn an_easy_request_is_answered_by_the_cheapest_tier_in_one_attempt() {
    let h = Harness::with_config(&[TIERS]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("auto", "What is the capital of France?")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], SMALL);
    assert_eq!(reply.headers["x-routed-model"], SMALL);
    assert_eq!(reply.body["choices"][0]["message"]["content"], "You said: What is the capital of France?");
    let routing = &reply.body["routing"];
    assert_eq!(routing["policy"], "cascade");
    assert_eq!(outcomes(routing), pairs(&[(SMALL, "answered")]));
    assert_accounts(routing, &reply.body["usage"], LARGE);
    assert!(routing["savings_usd"].as_f64().unwrap() > 0.0, "the cheap tier saved money: {routing}");
}

#[tokio::test]
async fn a_hard_request_escalates_to_a_large_model() {
    let h = Harness::with_config(&[TIERS]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("auto", "Prove the Riemann hypothesis [[hard]]")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], LARGE);
    assert_eq!(reply.headers["x-routed-model"], LARGE);
    let routing = &reply.body["routing"];
    assert_eq!(outcomes(routing), pairs(&[(SMALL, "escalated"), (MEDIUM, "escalated"), (LARGE, "answered")]));
    assert!(routing["attempts"][0]["reason"].as_str().unwrap().contains("cannot answer reliably"), "{routing}");
    assert_accounts(routing, &reply.body["usage"], LARGE);
    let content = reply.body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content, "You said: Prove the Riemann hypothesis", "the gateway's note never reaches the caller");
    assert_eq!(h.emulator().requests(), 3);
}

#[tokio::test]
async fn broken_json_escalates_until_an_answer_validates() {
    let h = Harness::with_config(&[TIERS]).await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
                        "required": ["city", "population"], "additionalProperties": false});
    let mut body = chat("auto", "Capital of France as JSON [[broken-json]]");
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "city", "schema": schema}});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let routing = &reply.body["routing"];
    assert_eq!(outcomes(routing), pairs(&[(SMALL, "escalated"), (MEDIUM, "escalated"), (LARGE, "answered")]));
    assert!(routing["attempts"][0]["reason"].as_str().unwrap().contains("not valid JSON"), "{routing}");
    let answer: Value =
        serde_json::from_str(reply.body["choices"][0]["message"]["content"].as_str().unwrap()).expect("valid JSON");
    assert!(answer["city"].is_string() && answer["population"].is_i64(), "{answer}");
    assert_accounts(routing, &reply.body["usage"], LARGE);
}

#[tokio::test]
async fn a_throttled_cheapest_tier_falls_back_to_the_next() {
    let h = Harness::with_config(&[TIERS]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("auto", "Hi [[fault:throttle@ministral-3b]]")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let routing = &reply.body["routing"];
    assert_eq!(outcomes(routing), pairs(&[(SMALL, "failed"), (MEDIUM, "answered")]));
    assert!(routing["attempts"][0]["reason"].as_str().unwrap().contains("throttled"), "{routing}");
    assert_eq!(routing["attempts"][0]["usage"]["total_tokens"], 0);
    assert_accounts(routing, &reply.body["usage"], LARGE);
}

#[tokio::test]
async fn a_named_model_falls_back_only_where_fallbacks_are_configured() {
    let plain = Harness::with_config(&[TIERS]).await;
    let reply =
        plain.post_json("/v1/chat/completions", &chat("ministral-3b", "Hi [[fault:throttle@ministral-3b]]")).await;
    assert_eq!(reply.status, 429, "no fallbacks: the caller hears the throttle: {}", reply.body);

    let h = Harness::with_config(&[TIERS, ("MODEL_FALLBACKS", "ministral-3b=ministral-14b|mistral-large-3")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("ministral-3b", "Hi [[fault:throttle@ministral-3b]]")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], MEDIUM);
    let routing = &reply.body["routing"];
    assert_eq!(routing["policy"], "fixed");
    assert_eq!(outcomes(routing), pairs(&[(SMALL, "failed"), (MEDIUM, "answered")]));
    assert_accounts(routing, &reply.body["usage"], LARGE);
}

#[tokio::test]
async fn triage_on_the_stream_route_streams_from_the_tier_it_names() {
    let h = Harness::with_config(&[TIERS]).await;
    let mut body = chat("auto", "Explain the proof of Fermat's last theorem [[hard]]");
    body["stream"] = json!(true);
    let reply = h.post_json("/stream/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["x-routed-model"], LARGE);
    let text = reply.body.as_str().unwrap();
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["model"] == LARGE));
    let last = chunks.last().unwrap();
    let routing = &last["routing"];
    assert_eq!(routing["policy"], "triage");
    assert_eq!(routing["triage"]["difficulty"], "hard");
    assert_eq!(routing["triage"]["model"], SMALL);
    assert_eq!(outcomes(routing), pairs(&[(LARGE, "answered")]));
    assert_accounts(routing, &last["usage"], LARGE);

    // Without [[hard]] the cheapest tier answers, after the same short triage call.
    body["messages"][0]["content"] = json!("Say hello");
    let reply = h.post_json("/stream/v1/chat/completions", &body).await;
    assert_eq!(reply.headers["x-routed-model"], SMALL);
}

#[tokio::test]
async fn unknown_routing_policies_are_refused_before_bedrock() {
    let h = Harness::with_config(&[TIERS]).await;
    let mut body = chat("auto", "Hi");
    body["routing"] = json!({"policy": "cheapest"});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"]["param"], "routing.policy");
    assert_eq!(h.emulator().requests(), 0);
}

#[tokio::test]
async fn every_request_writes_one_emf_record_with_what_it_counted() {
    shared::metrics::capture();
    let namespace = "RoutingE2e";
    let h = Harness::with_config(&[TIERS, ("METRICS", "emf"), ("METRICS_NAMESPACE", namespace)]).await;
    h.post_json("/v1/chat/completions", &chat("auto", "Hard one [[hard]]")).await;
    let mut streamed = chat("mistral-large-3", "Hello stream");
    streamed["stream"] = json!(true);
    h.post_json("/stream/v1/chat/completions", &streamed).await;
    let tools = json!({"model": "mistral-large-3", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]});
    h.post_json("/tools/v1/chat/completions", &tools).await;
    h.post_json("/v1/chat/completions", &chat("mistral-large-3", "Hi [[fault:throttle]]")).await;

    let records = shared::metrics::captured(namespace);
    assert_eq!(records.len(), 4, "{records:#?}");
    for record in &records {
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert!(record["_aws"]["Timestamp"].is_u64());
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(record[name].is_number(), "{name} has a value: {record}");
            assert!(shared::metrics::ALL.iter().any(|m| m.name == name), "{name} is a known metric");
        }
        let text = record.to_string();
        assert!(!text.contains("Hard one") && !text.contains("Hello stream"), "no prompt text in metrics: {text}");
    }
    let by_route = |route: &str| records.iter().filter(|r| r["Route"] == route).collect::<Vec<_>>();
    let sync = by_route("/v1/chat/completions");
    let escalated =
        sync.iter().find(|r| r["Model"] == LARGE && r["Escalations"] == 2.0).expect("the escalated request");
    assert_eq!(escalated["Function"], "converse");
    assert!(escalated["CostUSD"].as_f64().unwrap() > 0.0 && escalated["InputTokens"].as_f64().unwrap() > 0.0);
    assert!(escalated["BedrockLatency"].as_f64().unwrap() > 0.0);
    let throttled = sync.iter().find(|r| r["Throttles"] == 1.0).expect("the throttled request");
    assert_eq!(throttled["ErrorClass"], "throttled");
    let stream = &by_route("/stream/v1/chat/completions")[0];
    assert_eq!(stream["Function"], "stream");
    assert!(stream["TimeToFirstToken"].as_f64().unwrap() > 0.0, "{stream}");
    let tools = &by_route("/tools/v1/chat/completions")[0];
    assert_eq!(tools["Function"], "tools");
    assert_eq!(tools["ToolCalls"], 1.0);
}

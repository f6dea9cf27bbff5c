//! Documented features combined, end to end through the dev server and the emulator: every
//! model call gets a request made for that model (operation, body, output config, tool choice),
//! a model that cannot take a request is skipped rather than answering 400 after paid calls, and
//! the accounts stay honest. Each test is a reproduction of issue #16 that failed before the
//! router made every call itself, except the streamed fallback, which guards the one path that
//! already remade its request per model.

use serde_json::{Value, json};
use shared::convert::request::JSON_OBJECT_INSTRUCTION;
use tests::{Harness, chat};

const SMALL_2402: &str = "mistral.mistral-small-2402-v1:0";
const MINISTRAL_3B: &str = "mistral.ministral-3-3b-instruct";
const MINISTRAL_14B: &str = "mistral.ministral-3-14b-instruct";
const LARGE_2: &str = "mistral.mistral-large-2407-v1:0";
const LARGE_3: &str = "mistral.mistral-large-3-675b-instruct";
const MIXTRAL: &str = "mistral.mixtral-8x7b-instruct-v0:1";

fn outcomes(routing: &Value) -> Vec<(String, String)> {
    routing["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("no attempts: {routing}"))
        .iter()
        .map(|a| (a["model"].as_str().unwrap().to_owned(), a["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(m, o)| (m.to_string(), o.to_string())).collect()
}

fn system_texts(request: &Value) -> Vec<String> {
    request["system"].as_array().into_iter().flatten().filter_map(|b| b["text"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_fallback_from_a_native_body_model_is_called_with_its_own_operation() {
    let h = Harness::with_config(&[
        ("BEDROCK_INVOKE_MODELS", "mistral-small"),
        ("MODEL_FALLBACKS", "mistral-small=ministral-14b"),
    ])
    .await;
    let mut body = chat("mistral-small", "Hello [[fault:throttle@mistral-small]]");
    body["tools"] = json!([]);
    for path in ["/tools/v1/chat/completions", "/v1/chat/completions"] {
        let reply = h.post_json(path, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.body["model"], MINISTRAL_14B, "{path}");
        assert_eq!(
            outcomes(&reply.body["routing"]),
            pairs(&[(SMALL_2402, "failed"), (MINISTRAL_14B, "answered")]),
            "{path}"
        );
        let sent = h.emulator().last_request().unwrap();
        assert_eq!(sent["operation"], "converse", "{path}: Ministral has no native body here: {sent}");
        assert!(sent.get("prompt").is_none(), "{path}: no text-completion body: {sent}");
    }
}

#[tokio::test]
async fn a_streamed_fallback_from_a_native_body_model_streams_through_converse() {
    let h = Harness::with_config(&[
        ("BEDROCK_INVOKE_MODELS", "mistral-small"),
        ("MODEL_FALLBACKS", "mistral-small=ministral-14b"),
    ])
    .await;
    let mut body = chat("mistral-small", "Hello [[fault:throttle@mistral-small]]");
    body["stream"] = json!(true);
    let response = h.http.post(h.url("/stream/v1/chat/completions")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let events = tests::sse::parse_sse(&response.bytes().await.unwrap());
    let chunks = tests::sse::assert_complete_stream(&events);
    assert_eq!(tests::sse::content(&chunks), "You said: Hello");
    let last = chunks.last().unwrap();
    assert_eq!(last["model"], MINISTRAL_14B);
    assert_eq!(outcomes(&last["routing"]), pairs(&[(SMALL_2402, "failed"), (MINISTRAL_14B, "answered")]));
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "converse-stream");
}

#[tokio::test]
async fn an_escalated_tool_loop_step_gets_the_stronger_models_json_mode() {
    let h = Harness::with_config(&[("ROUTING_TIERS", "ministral-3b,mistral-large")]).await;
    let mut body = chat("auto", "Give me a JSON object [[broken-json]]");
    body["tools"] = json!([]);
    body["response_format"] = json!({"type": "json_object"});
    let (status, answer) = h.ask(&body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], LARGE_2);
    assert_eq!(outcomes(&answer["routing"]), pairs(&[(MINISTRAL_3B, "escalated"), (LARGE_2, "answered")]));
    let sent = h.emulator().last_request().unwrap();
    assert!(sent.get("outputConfig").is_none(), "Large 2 has no structured output on Converse: {sent}");
    assert!(system_texts(&sent).iter().any(|t| t == JSON_OBJECT_INSTRUCTION), "asked in the system prompt: {sent}");
    let content = answer["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(content).unwrap().is_object(), "{content}");
}

#[tokio::test]
async fn tiers_that_cannot_take_the_request_are_never_climbed_to() {
    let h = Harness::start().await;
    let mut body = chat("auto", "A hard one, as JSON [[hard]]");
    body["response_format"] = json!({"type": "json_object"});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let attempts = outcomes(&reply.body["routing"]);
    assert!(!attempts.iter().any(|(m, _)| m.contains("mistral-7b")), "Mistral 7B takes no JSON mode: {attempts:?}");
    assert_eq!(attempts.last().unwrap().1, "answered", "{attempts:?}");
    let content = reply.body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(content).unwrap().is_object(), "{content}");
}

#[tokio::test]
async fn a_request_no_tier_can_take_is_refused_before_any_call() {
    let h = Harness::with_config(&[("ROUTING_TIERS", "mistral-7b,mixtral-8x7b")]).await;
    let mut body = chat("auto", "Describe it");
    body["response_format"] =
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["error"]["param"], "model");
    assert!(reply.error_message().contains("JSON-schema output"), "{}", reply.error_message());
    assert_eq!(h.emulator().requests(), 0, "nothing was called");
}

#[tokio::test]
async fn a_fallback_that_cannot_take_the_request_is_skipped_and_recorded() {
    // Mixtral takes no JSON schema: when Large 3 throttles, that fallback is skipped, not sent a
    // body it would refuse, and the next one answers.
    let h = Harness::with_config(&[("MODEL_FALLBACKS", "mistral-large-3=mixtral-8x7b|ministral-14b")]).await;
    let mut body = chat("mistral-large-3", "Describe it [[fault:throttle@mistral-large-3]]");
    body["response_format"] =
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let routing = &reply.body["routing"];
    assert_eq!(
        outcomes(routing),
        pairs(&[(LARGE_3, "failed"), (MIXTRAL, "skipped"), (MINISTRAL_14B, "answered")]),
        "{routing}"
    );
    let skipped = &routing["attempts"][1];
    assert!(skipped["reason"].as_str().unwrap().contains("JSON-schema output"), "{skipped}");
    assert_eq!(skipped["cost_usd"], json!(0.0), "{skipped}");
    assert_eq!(h.emulator().requests(), 2, "Mixtral was not called");

    // With no fallback that can take it, the caller gets Large 3's own 429, not a 400.
    let h = Harness::with_config(&[("MODEL_FALLBACKS", "mistral-large-3=mixtral-8x7b")]).await;
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(h.emulator().requests(), 1, "only Large 3 was called");
}

#[tokio::test]
async fn a_tool_loop_on_the_top_tier_saves_nothing_and_loses_nothing() {
    let h = Harness::with_config(&[("ROUTING_TIERS", "ministral-3b,mistral-large-3")]).await;
    let (status, answer) = h.ask(&chat("mistral-large-3", "What is the status of payment T1001?")).await;
    assert_eq!(status, 200, "{answer}");
    let routing = &answer["routing"];
    assert_eq!(outcomes(routing), pairs(&[(LARGE_3, "answered"), (LARGE_3, "answered")]), "two steps: {routing}");
    assert_eq!(routing["savings_usd"], json!(0.0), "every step was on the top tier: {routing}");
}

#[tokio::test]
async fn a_cheap_tool_loop_saves_every_steps_top_tier_price() {
    let h = Harness::with_config(&[("ROUTING_TIERS", "ministral-3b,mistral-large-3")]).await;
    let (status, answer) = h.ask(&chat("auto", "What is the status of payment T1001?")).await;
    assert_eq!(status, 200, "{answer}");
    let routing = &answer["routing"];
    assert_eq!(outcomes(routing), pairs(&[(MINISTRAL_3B, "answered"), (MINISTRAL_3B, "answered")]));
    // Large 3: $0.50/$1.50 per 1M tokens; every step's tokens, less what was paid.
    let usage = &answer["usage"];
    let on_top =
        (usage["prompt_tokens"].as_f64().unwrap() * 0.50 + usage["completion_tokens"].as_f64().unwrap() * 1.50) / 1e6;
    let paid = usage["cost_usd"].as_f64().unwrap();
    let savings = routing["savings_usd"].as_f64().unwrap();
    assert!((savings - (on_top - paid)).abs() < 1e-9, "{savings} vs {} ({routing})", on_top - paid);
    assert!(savings > 0.0);
}

#[tokio::test]
async fn triage_calls_a_native_body_model_through_its_native_body() {
    // Large 2 with its native chat body has structured output (`response_format`); through
    // Converse it has none, and Bedrock refuses `outputConfig`.
    let h = Harness::with_config(&[
        ("BEDROCK_INVOKE_MODELS", "mistral-large"),
        ("ROUTING_TIERS", "mistral-large,mistral-large-3"),
    ])
    .await;
    let mut body = chat("auto", "Hello");
    body["stream"] = json!(false);
    let reply = h.post_json("/stream/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let triage = &reply.body["routing"]["triage"];
    assert_eq!(triage["model"], LARGE_2, "{triage}");
    assert_eq!(triage["difficulty"], "easy", "{triage}");
    assert!(triage.get("reason").is_none(), "{triage}");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "invoke");
}

#[tokio::test]
async fn the_large_tier_threshold_counts_characters_not_bytes() {
    let h = Harness::with_config(&[
        ("ROUTING_TIERS", "ministral-3b,mistral-large-3"),
        ("ROUTING_POLICY", "rules"),
        ("AUTO_LARGE_FROM_CHARS", "2000"),
    ])
    .await;
    for text in ["漢".repeat(1500), "x".repeat(1500)] {
        let reply = h.post_json("/v1/chat/completions", &chat("auto", &text)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["model"], MINISTRAL_3B, "1,500 characters are below 2,000");
    }
    let reply = h.post_json("/v1/chat/completions", &chat("auto", &"漢".repeat(2000))).await;
    assert_eq!(reply.body["model"], LARGE_3, "2,000 characters reach the large tier");
}

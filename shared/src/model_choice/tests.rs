//! The router against the in-process fake: escalation, fallbacks, triage and the accounts.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::time::{Duration, Instant};

use super::protocol::{ESCALATION_INSTRUCTION, ESCALATION_MARKER, TRIAGE_SCHEMA_NAME};
use super::*;
use crate::api::routing::Outcome;
use crate::bedrock::{FakeBedrock, ModelRequest, fake};
use crate::config::Env;
use crate::config::routing::RouteKind;
use crate::convert::Conversation;

const SMALL: &str = "mistral.ministral-3-3b-instruct";
const MEDIUM: &str = "mistral.ministral-3-14b-instruct";
const LARGE: &str = "mistral.mistral-large-3-675b-instruct";

fn config(extra: &[(&str, &str)]) -> Config {
    let base = [(
        "BEDROCK_MODEL_IDS",
        "mistral.ministral-3-3b-instruct,mistral.ministral-3-14b-instruct,mistral.mistral-large-3-675b-instruct,mistral.mistral-small-2402-v1:0",
    )];
    Config::load(&Env::from_pairs(base.iter().chain(extra).copied())).unwrap()
}

fn request(model: &str, extra: Value) -> ChatRequest {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": "What is the capital of France?"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    ChatRequest::from_value(body).unwrap()
}

/// The text of the last user message a request carries.
fn last_user_texts(request: &ModelRequest) -> Vec<String> {
    request.messages.last().unwrap().content().iter().filter_map(|b| b.as_text().ok().cloned()).collect()
}

fn asked_signal(request: &ModelRequest) -> bool {
    last_user_texts(request).iter().any(|t| t == ESCALATION_INSTRUCTION)
}

fn is_triage(request: &ModelRequest) -> bool {
    request
        .output_config
        .as_ref()
        .and_then(|o| o.text_format())
        .and_then(|f| f.structure())
        .is_some_and(|s| s.as_json_schema().is_ok_and(|j| j.name() == Some(TRIAGE_SCHEMA_NAME)))
}

async fn run(
    config: &Config,
    bedrock: &FakeBedrock,
    request: &ChatRequest,
    route: RouteKind,
) -> (Result<String, ApiError>, Ledger) {
    let conversation = Conversation::from_chat(request, config).unwrap();
    let plan = Plan::new(config, request, &conversation, route, None).unwrap();
    let expect = if plan.policy == Policy::Cascade { Expectations::of(request) } else { Expectations::default() };
    let mut router = ModelRouter::new(config, bedrock, plan, Instant::now() + Duration::from_secs(5));
    router.triage(request).await;
    let result = router.answer(&conversation, &expect).await;
    (result.map(|(_, m)| m.id.clone()), router.into_ledger())
}

fn plan<'c>(config: &'c Config, request: &ChatRequest) -> Result<Plan<'c>, ApiError> {
    Plan::new(config, request, &Conversation::from_chat(request, config)?, RouteKind::Chat, None)
}

fn outcomes(ledger: &Ledger) -> Vec<(String, Outcome)> {
    ledger.attempts().iter().map(|a| (a.model.clone(), a.outcome)).collect()
}

#[tokio::test]
async fn cascade_answers_on_the_cheapest_tier_and_asks_it_for_the_signal() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]);
    let bedrock = FakeBedrock::new(|_| Ok(fake::text("Paris.", 10, 2)));
    let (answered, ledger) = run(&config, &bedrock, &request("auto", json!({})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), SMALL);
    assert_eq!(outcomes(&ledger), [(SMALL.to_owned(), Outcome::Answered)]);
    let sent = bedrock.requests();
    assert!(asked_signal(&sent[0]), "a tier below the top may escalate, so it is asked for the signal");
    assert_eq!(last_user_texts(&sent[0])[0], "What is the capital of France?", "the caller's text is kept");
}

#[tokio::test]
async fn cascade_escalates_on_the_signal_and_the_top_tier_gets_the_request_unchanged() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]);
    let bedrock = FakeBedrock::new(|r| {
        Ok(if r.model_id == LARGE { fake::text("Paris.", 10, 2) } else { fake::text(ESCALATION_MARKER, 12, 1) })
    });
    let (answered, ledger) = run(&config, &bedrock, &request("auto", json!({})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), LARGE);
    assert_eq!(
        outcomes(&ledger),
        [(SMALL.into(), Outcome::Escalated), (MEDIUM.into(), Outcome::Escalated), (LARGE.into(), Outcome::Answered)]
    );
    assert_eq!(ledger.usage().prompt_tokens, 12 + 12 + 10, "usage sums every attempt");
    let sent = bedrock.requests();
    assert!(!asked_signal(&sent[2]), "the top tier has nothing to escalate to");
    assert!(ledger.attempts()[0].reason.as_deref().unwrap().contains("cannot answer reliably"));
}

#[tokio::test]
async fn cascade_escalates_json_that_does_not_validate() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,mistral-large-3")]);
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let bedrock = FakeBedrock::new(|r| {
        Ok(if r.model_id == LARGE { fake::text(r#"{"city":"Paris"}"#, 5, 5) } else { fake::text("{\"city\":", 5, 2) })
    });
    let body = json!({"response_format": {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}});
    let (answered, ledger) = run(&config, &bedrock, &request("auto", body), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), LARGE);
    assert!(ledger.attempts()[0].reason.as_deref().unwrap().contains("not valid JSON"));
}

#[tokio::test]
async fn a_fault_falls_back_and_then_climbs() {
    let config = config(&[
        ("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3"),
        ("MODEL_FALLBACKS", "ministral-3b=mistral-small"),
    ]);
    let throttled = || ApiError::Throttled { message: "slow down".into(), retry_after: 1 };
    let bedrock =
        FakeBedrock::new(move |r| if r.model_id == MEDIUM { Ok(fake::text("Paris.", 3, 1)) } else { Err(throttled()) });
    let (answered, ledger) = run(&config, &bedrock, &request("auto", json!({})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), MEDIUM);
    let models: Vec<String> = ledger.attempts().iter().map(|a| a.model.clone()).collect();
    assert_eq!(models, [SMALL, "mistral.mistral-small-2402-v1:0", MEDIUM], "fallbacks before the next tier");
    assert!(ledger.attempts()[0].reason.as_deref().unwrap().contains("throttled"));
}

#[tokio::test]
async fn a_named_model_keeps_to_its_fallbacks() {
    let throttled = || ApiError::Throttled { message: "slow down".into(), retry_after: 1 };
    let bedrock =
        FakeBedrock::new(move |r| if r.model_id == SMALL { Err(throttled()) } else { Ok(fake::text("Hi", 1, 1)) });
    let (answered, ledger) = run(&config(&[]), &bedrock, &request("ministral-3b", json!({})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap_err().status().as_u16(), 429, "no fallbacks configured: the caller hears the 429");
    assert_eq!(ledger.policy(), Policy::Fixed);

    let config = config(&[("MODEL_FALLBACKS", "ministral-3b=ministral-14b|mistral-large-3")]);
    let (answered, _) = run(&config, &bedrock, &request("ministral-3b", json!({})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), MEDIUM);
    assert!(!asked_signal(&bedrock.requests()[1]), "a named model is never asked to escalate");
}

#[tokio::test]
async fn triage_sends_the_request_to_the_tier_it_names() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]);
    let bedrock = FakeBedrock::new(|r| {
        Ok(if is_triage(r) { fake::text(r#"{"difficulty":"hard"}"#, 40, 4) } else { fake::text("Paris.", 10, 2) })
    });
    let (answered, ledger) = run(&config, &bedrock, &request("auto", json!({})), RouteKind::Stream).await;
    assert_eq!(answered.unwrap(), LARGE);
    assert_eq!(ledger.policy(), Policy::Triage);
    let report = ledger.report();
    assert_eq!(report.triage.as_ref().unwrap().difficulty, Some("hard"));
    assert_eq!(report.triage.unwrap().model, SMALL, "the cheapest tier with structured output triages");
    assert_eq!(ledger.usage().prompt_tokens, 40 + 10, "usage includes the triage call");
}

#[tokio::test]
async fn when_the_top_tier_faults_after_triage_the_tiers_below_answer() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]);
    let bedrock = FakeBedrock::new(|r| match r.model_id.as_str() {
        _ if is_triage(r) => Ok(fake::text(r#"{"difficulty":"hard"}"#, 40, 4)),
        LARGE => Err(ApiError::Throttled { message: "slow down".into(), retry_after: 1 }),
        _ => Ok(fake::text("Paris.", 10, 2)),
    });
    let (answered, ledger) = run(&config, &bedrock, &request("auto", json!({})), RouteKind::Stream).await;
    assert_eq!(answered.unwrap(), MEDIUM, "the nearest tier below the one that faulted");
    assert_eq!(outcomes(&ledger), [(LARGE.to_owned(), Outcome::Failed), (MEDIUM.to_owned(), Outcome::Answered)]);
}

#[tokio::test]
async fn a_failed_triage_starts_at_the_cheapest_tier() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]);
    let bedrock = FakeBedrock::new(|r| {
        Ok(if is_triage(r) { fake::text("I think it is hard", 40, 4) } else { fake::text("Paris.", 1, 1) })
    });
    let (answered, ledger) =
        run(&config, &bedrock, &request("auto", json!({"routing": {"policy": "triage"}})), RouteKind::Chat).await;
    assert_eq!(answered.unwrap(), SMALL);
    assert!(ledger.report().triage.unwrap().reason.unwrap().contains("not the schema's JSON"));
}

#[tokio::test]
async fn rules_make_no_extra_call() {
    let bedrock = FakeBedrock::new(|_| Ok(fake::text("Paris.", 1, 1)));
    let (answered, ledger) =
        run(&config(&[]), &bedrock, &request("auto", json!({"routing": {"policy": "rules"}})), RouteKind::Chat).await;
    answered.unwrap();
    assert_eq!(bedrock.requests().len(), 1);
    assert!(!asked_signal(&bedrock.requests()[0]));
    assert_eq!(ledger.policy(), Policy::Rules);
}

#[tokio::test]
async fn an_escalated_tool_loop_stays_at_the_stronger_tier() {
    let config = config(&[("ROUTING_TIERS", "ministral-3b,mistral-large-3")]);
    let bedrock = Arc::new(FakeBedrock::new(|r| {
        Ok(if r.model_id == LARGE { fake::text("Paris.", 1, 1) } else { fake::text(ESCALATION_MARKER, 1, 1) })
    }));
    let chat = request("auto", json!({}));
    let conversation = Conversation::from_chat(&chat, &config).unwrap();
    let plan = Plan::new(&config, &chat, &conversation, RouteKind::Tools, None).unwrap();
    let mut router = ModelRouter::new(&config, bedrock.as_ref(), plan, Instant::now() + Duration::from_secs(5));
    let expect = Expectations::of(&chat);
    assert_eq!(router.answer(&conversation, &expect).await.unwrap().1.id, LARGE);
    assert_eq!(router.answer(&conversation, &expect).await.unwrap().1.id, LARGE);
    assert_eq!(bedrock.requests().len(), 3, "the second step went straight to the tier that answered");
}

#[test]
fn routing_settings_name_their_variable() {
    let err = |vars: &[(&str, &str)]| Config::load(&Env::from_pairs(vars.iter().copied())).unwrap_err().var;
    assert_eq!(err(&[("ROUTING_TIERS", "ministral-3b,gpt-4o")]), "ROUTING_TIERS");
    assert_eq!(err(&[("ROUTING_TIERS", "ministral-3b,ministral-3b")]), "ROUTING_TIERS");
    assert_eq!(err(&[("ROUTING_POLICY", "cheapest")]), "ROUTING_POLICY");
    assert_eq!(err(&[("MODEL_FALLBACKS", "ministral-3b")]), "MODEL_FALLBACKS");
    assert_eq!(err(&[("MODEL_FALLBACKS", "ministral-3b=ministral-3b")]), "MODEL_FALLBACKS");
    assert_eq!(err(&[("MODEL_FALLBACKS", "ministral-3b=nope")]), "MODEL_FALLBACKS");
}

#[test]
fn default_tiers_go_by_price() {
    let config = config(&[]);
    let tiers: Vec<&str> = config.tiers().map(|m| m.id.as_str()).collect();
    // Ministral 3B $0.10, Ministral 14B $0.20, Large 3 $0.50/$1.50, Small (24.02) $1/$3.
    assert_eq!(tiers, [SMALL, MEDIUM, LARGE, "mistral.mistral-small-2402-v1:0"]);
}

#[test]
fn unknown_routing_policies_are_a_400_naming_the_field() {
    let config = config(&[]);
    let err = plan(&config, &request("auto", json!({"routing": {"policy": "cheapest"}}))).unwrap_err();
    assert_eq!(err.param(), Some("routing.policy"));
    let err = plan(&config, &request("ministral-3b", json!({"routing": {"policy": "triage"}}))).unwrap_err();
    assert_eq!(err.param(), Some("routing.policy"));
}

#[test]
fn ids_aliases_and_default_resolve() {
    let c = Config::load(&Env::from_pairs([(
        "BEDROCK_MODEL_IDS",
        "mistral.mistral-7b-instruct-v0:2,mistral.mistral-small-2402-v1:0,mistral.mistral-large-2407-v1:0",
    )]))
    .unwrap();
    let pick = |model: serde_json::Value| {
        let request = ChatRequest::from_value(serde_json::json!({"model": model, "messages": []})).unwrap();
        resolve(&c, &request).map(|choice| match choice {
            Choice::Named(m) => m.id.clone(),
            Choice::Auto => AUTO.to_owned(),
        })
    };
    assert_eq!(pick("mistral-large".into()).unwrap(), "mistral.mistral-large-2407-v1:0");
    assert_eq!(pick("mistral-small-2402".into()).unwrap(), "mistral.mistral-small-2402-v1:0");
    // `mistral-small-latest` is Mistral Small 4 on Mistral's API, which Bedrock does not host.
    assert!(pick("mistral-small-latest".into()).is_err());
    assert_eq!(pick("mistral.mistral-7b-instruct-v0:2".into()).unwrap(), "mistral.mistral-7b-instruct-v0:2");
    assert_eq!(pick(serde_json::Value::Null).unwrap(), "mistral.mistral-7b-instruct-v0:2");
    assert_eq!(pick("auto".into()).unwrap(), AUTO);
    let err = pick("gpt-4o".into()).unwrap_err();
    assert_eq!(err.status().as_u16(), 404);
    assert!(err.to_string().contains("mistral-large"), "{err}");
}

//! Keys, budgets and limits end to end: the dev server with `KEYS_TABLE` over the real
//! `aws-sdk-dynamodb` client and a DynamoDB-compatible server on loopback (moto, single-threaded;
//! see `tests::dynamo`), the emulator behind it, real HTTP in front. Every log line the gateway
//! writes during these tests is kept and searched for key material at the end of each test.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::future::join_all;
use serde_json::{Value, json};
use shared::keys::admin::{self, KeySpec};
use shared::keys::period::{self, Period};
use shared::keys::{Budget, KeysTable};
use tests::dynamo::{DynamoServer, client};
use tests::{Harness, chat};

const TABLE: &str = "gateway-keys";
const MINISTRAL_3B: &str = "mistral.ministral-3-3b-instruct";

/// Every log line of this test binary.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        logs
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// No key (nor its secret part) appears in any log line so far.
fn assert_no_key_in_logs(keys: &[&str]) {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    assert!(!text.is_empty(), "the gateway logged something");
    for key in keys {
        let secret = &key[key.len() - 20..];
        assert!(!text.contains(key) && !text.contains(secret), "key material in the logs");
    }
}

struct Setup {
    _dynamo: DynamoServer,
    table: KeysTable,
    h: Harness,
}

async fn setup(vars: &[(&str, &str)]) -> Setup {
    logs();
    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, TABLE);
    table.create().await.unwrap();
    let mut all = vec![("KEYS_TABLE", TABLE), ("KEYS_CACHE_TTL_MS", "0")];
    all.extend_from_slice(vars);
    let h = Harness::with_keys(&all, table.clone()).await;
    Setup { _dynamo: dynamo, table, h }
}

async fn key(table: &KeysTable, spec: KeySpec) -> String {
    admin::create(table, spec).await.unwrap().0.key
}

fn named(name: &str) -> KeySpec {
    KeySpec { name: name.into(), ..KeySpec::default() }
}

async fn post(h: &Harness, path: &str, key: Option<&str>, body: &Value) -> (u16, http::HeaderMap, Value) {
    let mut request = h.http.post(h.url(path)).json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
    )
}

async fn get_key(h: &Harness, key: &str) -> Value {
    let response = h.http.get(h.url("/v1/key")).bearer_auth(key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn nanos(usd: &Value) -> i64 {
    (usd.as_f64().unwrap() * 1e9).round() as i64
}

#[tokio::test]
async fn every_route_needs_a_live_key_and_refuses_before_any_model_call() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    let good = key(&table, named("search")).await;
    let body = chat("ministral-3b", "Hello");
    for (presented, why) in [
        (None, "requires an API key"),
        (Some("sk-not-ours"), "not valid"),
        (Some(&good[..good.len() - 1]), "not valid"),
    ] {
        let (status, _, answer) = post(&h, "/v1/chat/completions", presented, &body).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"]["type"], "authentication_error");
        assert!(answer["error"]["message"].as_str().unwrap().contains(why), "{answer}");
    }
    assert_eq!(h.emulator().requests(), 0, "nothing reached Bedrock");

    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&good), &body).await;
    assert_eq!(status, 200, "{answer}");
    let mut stream = body.clone();
    stream["stream"] = json!(true);
    assert_eq!(post(&h, "/stream/v1/chat/completions", Some(&good), &stream).await.0, 200);
    let (status, _, answer) =
        post(&h, "/tools/v1/chat/completions", Some(&good), &chat("ministral-3b", "Status of T1001?")).await;
    assert_eq!(status, 200, "{answer}");
    let x_api_key = h.http.get(h.url("/v1/models")).header("x-api-key", &good).send().await.unwrap();
    assert_eq!(x_api_key.status(), 200, "x-api-key works too");
    assert_no_key_in_logs(&[&good]);
}

#[tokio::test]
async fn revoked_expired_and_rotated_keys_are_refused() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    let body = chat("ministral-3b", "Hello");
    let revoked = admin::create(&table, named("old app")).await.unwrap();
    admin::revoke(&table, &revoked.0.id).await.unwrap();
    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&revoked.0.key), &body).await;
    assert_eq!(status, 401);
    assert!(answer["error"]["message"].as_str().unwrap().contains("revoked"), "{answer}");

    let expired = key(&table, KeySpec { expires_at: Some(1_700_000_000), ..named("trial") }).await;
    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&expired), &body).await;
    assert_eq!(status, 401);
    assert!(answer["error"]["message"].as_str().unwrap().contains("expired at 2023-11-14T22:13:20Z"), "{answer}");

    let (first, _) = admin::create(&table, named("rotating")).await.unwrap();
    assert_eq!(post(&h, "/v1/chat/completions", Some(&first.key), &body).await.0, 200);
    let (second, _) = admin::rotate(&table, &first.id).await.unwrap();
    assert_eq!(post(&h, "/v1/chat/completions", Some(&first.key), &body).await.0, 401, "the old key is refused");
    assert_eq!(post(&h, "/v1/chat/completions", Some(&second.key), &body).await.0, 200, "the new one works");
    assert_no_key_in_logs(&[&revoked.0.key, &expired, &first.key, &second.key]);
}

#[tokio::test]
async fn a_key_uses_only_its_models_and_routes_and_auto_climbs_only_its_tiers() {
    let Setup { _dynamo: _server, table, h } =
        setup(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]).await;
    let spec = KeySpec {
        models: Some(vec!["ministral-3b".into(), "ministral-14b".into(), "auto".into()]),
        routes: Some(vec!["/v1".into()]),
        ..named("cheap team")
    };
    let cheap = key(&table, spec).await;
    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&cheap), &chat("mistral-large-3", "Hi")).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["code"], "model_not_allowed");
    assert!(answer["error"]["message"].as_str().unwrap().contains("ministral-3b, ministral-14b, auto"), "{answer}");

    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&cheap), &chat("auto", "Prove it [[hard]]")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], "mistral.ministral-3-14b-instruct", "the top tier this key may use answers");
    let models: Vec<&str> =
        answer["routing"]["attempts"].as_array().unwrap().iter().map(|a| a["model"].as_str().unwrap()).collect();
    assert!(!models.contains(&"mistral.mistral-large-3-675b-instruct"), "{models:?}");

    let (status, _, answer) = post(&h, "/stream/v1/chat/completions", Some(&cheap), &chat("ministral-3b", "Hi")).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["code"], "route_not_allowed");
}

#[tokio::test]
async fn requests_per_minute_are_limited_with_retry_after() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    let limited = key(&table, KeySpec { rpm: Some(2), ..named("bursty") }).await;
    let body = chat("ministral-3b", "Hello");
    let mut statuses = Vec::new();
    let mut refused = None;
    let minute = || period::minute(time::OffsetDateTime::now_utc());
    let first_minute = minute();
    for _ in 0..3 {
        let (status, headers, answer) = post(&h, "/v1/chat/completions", Some(&limited), &body).await;
        statuses.push(status);
        if status == 429 {
            refused = Some((headers, answer));
        }
    }
    // Two requests per minute: unless the minute turned between them, the third is refused.
    if statuses == [200, 200, 429] {
        let (headers, answer) = refused.unwrap();
        assert_eq!(answer["error"]["code"], "rate_limit_exceeded");
        let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    } else {
        assert_eq!(statuses, [200, 200, 200], "only a fresh window admits the third");
        assert_ne!(minute(), first_minute, "all three were admitted, so the minute must have turned");
    }
}

#[tokio::test]
async fn a_budget_holds_under_forty_concurrent_requests_and_the_ledger_matches_the_answers() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    // Each call: max_tokens 50 and a 50-word answer on Ministral 3B ($0.10/$0.10 per 1M), so
    // about 60 tokens (6,000 nano-dollars) spent and at most ~250 tokens reserved.
    let budget = Budget { nanos: 250_000, period: Period::Day };
    let spec = KeySpec { budget: Some(budget), models: Some(vec!["ministral-3b".into()]), ..named("budgeted") };
    let (new, record) = admin::create(&table, spec).await.unwrap();
    let requests = (0..40).map(|i| {
        let mut body = chat("ministral-3b", if i % 10 == 9 { "Boom [[fault:internal]]" } else { "Write [[words:50]]" });
        body["max_tokens"] = json!(50);
        let (h, key) = (&h, new.key.clone());
        async move { post(h, "/v1/chat/completions", Some(&key), &body).await }
    });
    let answers = join_all(requests).await;
    let mut paid = 0i64;
    let (mut answered, mut refused, mut failed) = (0, 0, 0);
    for (status, headers, answer) in &answers {
        match status {
            200 => {
                answered += 1;
                assert_eq!(answer["model"], MINISTRAL_3B);
                paid += nanos(&answer["usage"]["cost_usd"]);
            }
            429 => {
                refused += 1;
                assert_eq!(answer["error"]["code"], "budget_exceeded", "{answer}");
                assert_eq!(answer["error"]["type"], "insufficient_quota");
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains("day budget") && message.contains("resets at"), "{message}");
                assert!(headers.contains_key("retry-after"));
            }
            502 => failed += 1,
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    eprintln!("{answered} answered, {refused} refused, {failed} failed");
    assert!(answered >= 10, "{answered} answered, {refused} refused, {failed} failed");
    assert!(refused > 0, "the budget binds: {answered} answered");
    let state = table.window(&record.id, &Period::Day.window(time::OffsetDateTime::now_utc())).await.unwrap();
    assert!(state.spent <= budget.nanos, "settled {} > budget {}", state.spent, budget.nanos);
    assert_eq!(state.reserved, 0, "every reservation settled");
    assert_eq!(state.spent as i64, paid, "settled spend is what the answers cost (failed calls cost nothing)");
    let ledger: u64 = table.spend(Some(&record.id)).await.unwrap().iter().map(|r| r.cost_nanos).sum();
    assert_eq!(ledger as i64, paid, "the ledger is what the answers cost");
    let shown = get_key(&h, &new.key).await;
    assert_eq!(nanos(&shown["spent_usd"]), paid, "{shown}");
    assert_eq!(shown["budget"]["period"], "day");
    assert_no_key_in_logs(&[&new.key]);
}

#[tokio::test]
async fn a_stream_settles_what_it_cost_and_get_key_shows_it() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    let spec = KeySpec { budget: Some(Budget { nanos: 1_000_000_000, period: Period::Month }), ..named("streamer") };
    let (new, _) = admin::create(&table, spec).await.unwrap();
    let mut body = chat("ministral-3b", "Write [[words:30]]");
    body["stream"] = json!(true);
    let response =
        h.http.post(h.url("/stream/v1/chat/completions")).bearer_auth(&new.key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let events = tests::sse::parse_sse(&response.bytes().await.unwrap());
    let chunks = tests::sse::assert_complete_stream(&events);
    let cost = nanos(&chunks.last().unwrap()["usage"]["cost_usd"]);
    assert!(cost > 0);
    let shown = get_key(&h, &new.key).await;
    assert_eq!(nanos(&shown["spent_usd"]), cost, "{shown}");
    assert_eq!(shown["reserved_usd"], json!(0.0), "{shown}");
    assert_eq!(shown["name"], "streamer");
    assert!(shown.get("hash").is_none(), "{shown}");
}

#[tokio::test]
async fn the_store_unavailable_fails_closed_and_charges_nothing() {
    let Setup { _dynamo, table, h } = setup(&[]).await;
    let good = key(&table, named("search")).await;
    drop(_dynamo);
    let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&good), &chat("ministral-3b", "Hello")).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "keys_store_unavailable");
    assert!(answer["error"]["message"].as_str().unwrap().contains(TABLE), "{answer}");
    assert_eq!(h.emulator().requests(), 0, "nothing reached Bedrock");
}

#[tokio::test]
async fn each_metrics_record_names_the_key_by_its_public_id_only() {
    shared::metrics::capture();
    let namespace = "KeysE2E";
    let Setup { _dynamo: _server, table, h } = setup(&[("METRICS", "emf"), ("METRICS_NAMESPACE", namespace)]).await;
    let (new, _) = admin::create(&table, named("metered")).await.unwrap();
    assert_eq!(post(&h, "/v1/chat/completions", Some(&new.key), &chat("ministral-3b", "Hello")).await.0, 200);
    let mut body = chat("ministral-3b", "Hello");
    body["stream"] = json!(true);
    let response =
        h.http.post(h.url("/stream/v1/chat/completions")).bearer_auth(&new.key).json(&body).send().await.unwrap();
    response.bytes().await.unwrap();
    let records = shared::metrics::captured(namespace);
    assert_eq!(records.len(), 2, "{records:?}");
    for record in &records {
        assert_eq!(record[shared::metrics::KEY_ID], new.id.as_str(), "{record}");
        assert!(!record.to_string().contains(&new.key[new.key.len() - 20..]), "no secret in a record");
    }
}

#[tokio::test]
async fn minute_counters_refuse_within_their_window_and_admit_in_the_next() {
    use shared::keys::table::Admission;
    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, TABLE);
    table.create().await.unwrap();
    let (id, ttl) = ("0123456789abcdef", 4_000_000_000);
    let admit = |minute: &'static str| table.admit(id, minute, Some(2), None, ttl);
    assert_eq!(admit("2026-12-02T11:59").await.unwrap(), Admission::Admitted);
    assert_eq!(admit("2026-12-02T11:59").await.unwrap(), Admission::Admitted);
    assert_eq!(admit("2026-12-02T11:59").await.unwrap(), Admission::OverRequests);
    assert_eq!(admit("2026-12-02T12:00").await.unwrap(), Admission::Admitted, "a new minute, a new window");
}

#[tokio::test]
async fn tokens_per_minute_count_what_calls_used() {
    let Setup { _dynamo: _server, table, h } = setup(&[]).await;
    let limited = key(&table, KeySpec { tpm: Some(40), ..named("wordy") }).await;
    let body = chat("ministral-3b", "Write [[words:50]]");
    let minute = || period::minute(time::OffsetDateTime::now_utc());
    let first_minute = minute();
    let (first, _, answer) = post(&h, "/v1/chat/completions", Some(&limited), &body).await;
    assert_eq!(first, 200, "{answer}");
    assert!(answer["usage"]["total_tokens"].as_u64().unwrap() >= 40, "{answer}");
    let (second, headers, answer) = post(&h, "/v1/chat/completions", Some(&limited), &body).await;
    if second == 429 {
        assert_eq!(answer["error"]["code"], "rate_limit_exceeded");
        assert!(answer["error"]["message"].as_str().unwrap().contains("40 tokens per minute"), "{answer}");
        assert!(headers.contains_key("retry-after"));
    } else {
        assert_eq!(second, 200, "only a new minute admits it: {answer}");
        assert_ne!(minute(), first_minute, "it was admitted, so the minute must have turned");
    }
}

#[tokio::test]
async fn a_budget_holds_and_the_ledger_stays_whole_when_the_store_goes_down_mid_run() {
    logs();
    let dynamo = DynamoServer::start().await;
    let outage = tests::dynamo::Outage::relay(dynamo.addr()).await;
    let table = KeysTable::new(client(&outage.url()).await, TABLE);
    table.create().await.unwrap();
    let h = Harness::with_keys(&[("KEYS_TABLE", TABLE), ("KEYS_CACHE_TTL_MS", "60000")], table.clone()).await;
    let budget = Budget { nanos: 150_000, period: Period::Day };
    let spec = KeySpec { budget: Some(budget), models: Some(vec!["ministral-3b".into()]), ..named("blinking") };
    let (new, record) = admin::create(&table, spec).await.unwrap();
    // Each model call waits 100 ms, so the outage below starts while calls are in flight and
    // their settles meet it.
    let requests = (0..40).map(|i| {
        let mut body = chat("ministral-3b", "Write [[words:50]] [[slow:100]]");
        body["max_tokens"] = json!(50);
        let (h, key) = (&h, new.key.clone());
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(i * 15)).await;
            post(h, "/v1/chat/completions", Some(&key), &body).await
        }
    });
    let run = join_all(requests);
    let blink = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        outage.set_down(true);
        let (status, _, answer) = post(&h, "/v1/chat/completions", Some(&new.key), &chat("ministral-3b", "Hi")).await;
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        outage.set_down(false);
        (status, answer)
    };
    let (answers, (during, during_answer)) = tokio::join!(run, blink);
    assert_eq!(during, 503, "a request while the store is down fails closed: {during_answer}");
    assert_eq!(during_answer["error"]["code"], "keys_store_unavailable");
    let mut paid = 0i64;
    let mut statuses = std::collections::BTreeMap::new();
    for (status, _, answer) in &answers {
        *statuses.entry(*status).or_insert(0) += 1;
        match status {
            200 => paid += nanos(&answer["usage"]["cost_usd"]),
            429 => assert_eq!(answer["error"]["code"], "budget_exceeded", "{answer}"),
            503 => assert_eq!(answer["error"]["code"], "keys_store_unavailable", "{answer}"),
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    eprintln!("statuses {statuses:?}");
    assert!(statuses.get(&200).copied().unwrap_or(0) >= 5, "{statuses:?}");
    assert!(statuses.contains_key(&429), "the budget binds as well: {statuses:?}");
    let state = table.window(&record.id, &Period::Day.window(time::OffsetDateTime::now_utc())).await.unwrap();
    assert!(state.spent <= budget.nanos, "settled {} > budget {}", state.spent, budget.nanos);
    assert_eq!(state.reserved, 0, "every reservation settled, the outage notwithstanding");
    assert_eq!(state.spent as i64, paid, "settled spend is what the answers cost");
    let ledger: u64 = table.spend(Some(&record.id)).await.unwrap().iter().map(|r| r.cost_nanos).sum();
    assert_eq!(ledger as i64, paid, "the ledger is what the answers cost");
    assert_no_key_in_logs(&[&new.key]);
}

#[tokio::test]
async fn the_ledger_holds_every_call_of_escalations_triage_native_bodies_streams_and_tool_loops() {
    // Large 2 through its native body, a fallback the key may not use, all three routes.
    let Setup { _dynamo: _server, table, h } = setup(&[
        ("BEDROCK_INVOKE_MODELS", "mistral-large"),
        ("ROUTING_TIERS", "ministral-3b,mistral-large"),
        ("MODEL_FALLBACKS", "ministral-3b=ministral-8b"),
    ])
    .await;
    let spec = KeySpec {
        models: Some(vec!["ministral-3b".into(), "mistral-large".into(), "auto".into()]),
        budget: Some(Budget { nanos: 10_000_000_000, period: Period::Month }),
        ..named("everything")
    };
    let (new, record) = admin::create(&table, spec).await.unwrap();
    let key = Some(new.key.as_str());
    let mut paid = 0i64;

    let (status, _, answer) = post(&h, "/v1/chat/completions", key, &chat("auto", "Prove it [[hard]]")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["routing"]["attempts"].as_array().unwrap().len(), 2, "escalated: {answer}");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "invoke", "Large 2's native body");
    paid += nanos(&answer["usage"]["cost_usd"]);

    let mut body = chat("auto", "Prove it [[hard]]");
    body["stream"] = json!(true);
    let response =
        h.http.post(h.url("/stream/v1/chat/completions")).bearer_auth(&new.key).json(&body).send().await.unwrap();
    let chunks = tests::sse::assert_complete_stream(&tests::sse::parse_sse(&response.bytes().await.unwrap()));
    let last = chunks.last().unwrap();
    assert!(last["routing"]["triage"].is_object(), "triaged: {last}");
    paid += nanos(&last["usage"]["cost_usd"]);

    let (status, _, answer) = post(&h, "/tools/v1/chat/completions", key, &chat("auto", "Status of T1001?")).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["steps"].as_u64().unwrap() >= 2, "a tool loop: {answer}");
    paid += nanos(&answer["usage"]["cost_usd"]);

    let throttled = chat("ministral-3b", "Hi [[fault:throttle@ministral-3b]]");
    let (status, _, answer) = post(&h, "/v1/chat/completions", key, &throttled).await;
    assert_eq!(status, 429, "the fallback the key may not use is skipped, not called: {answer}");
    assert_eq!(answer["error"]["code"], "throttled");

    let state = table.window(&record.id, &Period::Month.window(time::OffsetDateTime::now_utc())).await.unwrap();
    assert_eq!((state.spent as i64, state.reserved), (paid, 0), "every call of every answer, and only those");
    let ledger: Vec<_> = table.spend(Some(&record.id)).await.unwrap();
    assert_eq!(ledger.iter().map(|r| r.cost_nanos).sum::<u64>() as i64, paid);
    assert!(
        !ledger.iter().any(|r| r.model.contains("ministral-3-8b")),
        "the skipped fallback cost nothing: {ledger:?}"
    );
    assert!(ledger.iter().any(|r| r.model == "mistral.mistral-large-2407-v1:0"), "{ledger:?}");
}

#[tokio::test]
async fn triage_runs_on_a_tier_the_key_may_use() {
    let Setup { _dynamo: _server, table, h } =
        setup(&[("ROUTING_TIERS", "ministral-3b,ministral-14b,mistral-large-3")]).await;
    let spec = KeySpec {
        models: Some(vec!["ministral-14b".into(), "mistral-large-3".into(), "auto".into()]),
        ..named("no 3b")
    };
    let key = key(&table, spec).await;
    let mut body = chat("auto", "Prove it [[hard]]");
    body["stream"] = json!(false);
    let (status, _, answer) = post(&h, "/stream/v1/chat/completions", Some(&key), &body).await;
    assert_eq!(status, 200, "{answer}");
    let triage = &answer["routing"]["triage"];
    assert_eq!(triage["model"], "mistral.ministral-3-14b-instruct", "the cheapest tier this key may use: {answer}");
    assert_eq!(triage["difficulty"], "hard", "{triage}");
    assert_eq!(answer["model"], "mistral.mistral-large-3-675b-instruct");
}

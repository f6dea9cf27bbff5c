//! Keys apply to the Responses API as to chat completions (one use case, two wire formats): the
//! dev server with `KEYS_TABLE` over a DynamoDB-compatible server on loopback (moto, see
//! `tests::dynamo`). A key's routes and models are enforced, and a streamed response's cost is
//! what the key is charged.

use serde_json::json;
use shared::keys::admin::{self, KeySpec};
use shared::keys::period::Period;
use shared::keys::{Budget, KeysTable};
use tests::Harness;
use tests::dynamo::{DynamoServer, client};
use tests::responses::{assert_complete, parse};

const TABLE: &str = "gateway-keys";

#[tokio::test]
async fn a_key_limits_routes_and_models_and_is_charged_what_a_streamed_response_cost() {
    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, TABLE);
    table.create().await.unwrap();
    let h = Harness::with_keys(&[("KEYS_TABLE", TABLE), ("KEYS_CACHE_TTL_MS", "0")], table.clone()).await;
    let spec = KeySpec {
        name: "agents".into(),
        models: Some(vec!["ministral-3b".into()]),
        routes: Some(vec!["/stream/v1".into(), "/v1/key".into()]),
        budget: Some(Budget { nanos: 1_000_000_000, period: Period::Month }),
        ..KeySpec::default()
    };
    let key = admin::create(&table, spec).await.unwrap().0.key;
    let post = |path: &'static str, body: serde_json::Value, key: Option<String>| {
        let mut request = h.http.post(h.url(path)).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
        }
    };

    let hi = json!({"model": "ministral-3b", "input": "Hi"});
    let (status, body) = post("/stream/v1/responses", hi.clone(), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{body}");
    let (status, body) = post("/v1/responses", hi.clone(), Some(key.clone())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("route_not_allowed")), "{body}");
    let large = json!({"model": "mistral-large-3", "input": "Hi"});
    let (status, body) = post("/stream/v1/responses", large, Some(key.clone())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("model_not_allowed")), "{body}");
    assert_eq!(h.emulator().requests(), 0, "refused before any model call");

    // A streamed response under the key: its cost is what the key was charged.
    let body = json!({"model": "ministral-3b", "stream": true, "input": "Write [[words:30]]"});
    let response = h.http.post(h.url("/stream/v1/responses")).bearer_auth(&key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let parsed = parse(&text);
    let completed = assert_complete(&parsed, "response.completed");
    let cost = completed["usage"]["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0);
    let shown = h.http.get(h.url("/v1/key")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let shown: serde_json::Value = shown.json().await.unwrap();
    assert_eq!((shown["spent_usd"].as_f64().unwrap() * 1e9).round(), (cost * 1e9).round(), "{shown}");
    assert_eq!(shown["reserved_usd"], json!(0.0), "{shown}");
}

//! Batch with keys on: files and batches belong to the key that made them (another key gets a
//! 404 for them and does not see them listed; no key is a 401 before anything is read), and a
//! batch's worst case is held against its key's budget until it is finalized, then settled at
//! what it cost at the batch price.

use serde_json::json;
use shared::keys::admin::{self, KeySpec};
use shared::keys::period::Period;
use shared::keys::{Budget, KeysTable};
use tests::batch::{get_with, jsonl, line, upload};
use tests::dynamo::{DynamoServer, client};
use tests::{BATCH_VARS, Harness};

#[tokio::test]
async fn another_keys_files_and_batches_are_404_and_unlisted() {
    let (_dynamo, table, h) = setup().await;
    let owner = admin::create(&table, KeySpec { name: "search".into(), ..KeySpec::default() }).await.unwrap().0.key;
    let other = admin::create(&table, KeySpec { name: "ads".into(), ..KeySpec::default() }).await.unwrap().0.key;
    let (mine, theirs) =
        ([("authorization", format!("Bearer {owner}"))], [("authorization", format!("Bearer {other}"))]);

    assert_eq!(upload(&h, &jsonl(&[line("a", "mistral-large", "Hi")]), &[]).await.status, 401);
    let file = upload(&h, &jsonl(&[line("a", "mistral-large", "Hi")]), &mine).await;
    assert_eq!(file.status, 200, "{}", file.body);
    let file_id = file.body["id"].as_str().unwrap();
    let body = json!({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"});
    let create = |key: &str| h.http.post(h.url("/v1/batches")).bearer_auth(key.to_owned()).json(&body).send();
    assert_eq!(create(&other).await.unwrap().status(), 404, "another key cannot batch this file");
    let batch = create(&owner).await.unwrap();
    assert_eq!(batch.status(), 200);
    let batch: serde_json::Value = batch.json().await.unwrap();
    let batch_id = batch["id"].as_str().unwrap();

    for path in
        [format!("/v1/files/{file_id}"), format!("/v1/files/{file_id}/content"), format!("/v1/batches/{batch_id}")]
    {
        assert_eq!(get_with(&h, &path, &theirs).await.status, 404, "{path}");
        assert_eq!(get_with(&h, &path, &mine).await.status, 200, "{path}");
    }
    assert_eq!(get_with(&h, "/v1/files", &theirs).await.body["data"], json!([]));
    assert_eq!(get_with(&h, "/v1/batches", &theirs).await.body["data"], json!([]));
    assert_eq!(get_with(&h, "/v1/batches", &mine).await.body["data"][0]["id"], batch_id);
}

#[tokio::test]
async fn a_batch_reserves_its_worst_case_and_settles_at_what_it_cost() {
    let (_dynamo, table, h) = setup().await;
    let budget = |usd: f64| Budget { nanos: (usd * 1e9) as u64, period: Period::Total };
    let spec = |name: &str, usd| KeySpec { name: name.into(), budget: Some(budget(usd)), ..KeySpec::default() };
    let rich = admin::create(&table, spec("rich", 1.0)).await.unwrap().0.key;
    let poor = admin::create(&table, spec("poor", 0.0001)).await.unwrap().0.key;
    let lines: Vec<_> = (0..3).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();

    // Three lines of at most 50 output tokens each cost far more than $0.0001 in the worst case.
    let auth = [("authorization", format!("Bearer {poor}"))];
    let file = upload(&h, &jsonl(&lines), &auth).await;
    let body =
        json!({"input_file_id": file.body["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"});
    let refused = h.http.post(h.url("/v1/batches")).bearer_auth(&poor).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let refused: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "budget_exceeded", "{refused}");
    assert_eq!(get_with(&h, "/v1/batches", &auth).await.body["data"], json!([]), "nothing was created");
    assert_eq!(key_view(&h, &poor).await["reserved_usd"], 0.0, "nothing is held");

    h.emulator().set_batch_step(std::time::Duration::from_millis(300));
    let auth = [("authorization", format!("Bearer {rich}"))];
    let file = upload(&h, &jsonl(&lines), &auth).await;
    let body =
        json!({"input_file_id": file.body["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"});
    let created: serde_json::Value =
        h.http.post(h.url("/v1/batches")).bearer_auth(&rich).json(&body).send().await.unwrap().json().await.unwrap();
    let held = key_view(&h, &rich).await;
    let reserved = held["reserved_usd"].as_f64().unwrap();
    // At least the three lines' 150 output tokens at Large 2's batch price, $6 per 1M.
    assert!(reserved >= 150.0 * 6.0 / 1e6, "the worst case is held while the batch runs: {held}");
    assert_eq!(held["spent_usd"], 0.0);

    let path = format!("/v1/batches/{}", created["id"].as_str().unwrap());
    let done = loop {
        let batch = get_with(&h, &path, &auth).await.body;
        if batch["status"] == "completed" {
            break batch;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let settled = key_view(&h, &rich).await;
    assert_eq!(settled["reserved_usd"], 0.0, "{settled}");
    let cost = done["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0 && (settled["spent_usd"].as_f64().unwrap() - cost).abs() < 1e-9, "{settled} {done}");
}

async fn key_view(h: &Harness, key: &str) -> serde_json::Value {
    get_with(h, "/v1/key", &[("authorization", format!("Bearer {key}"))]).await.body
}

/// A DynamoDB server, the keys table on it, and a dev server with keys and batch on.
async fn setup() -> (DynamoServer, KeysTable, Harness) {
    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, "gateway-keys");
    table.create().await.unwrap();
    let mut vars = vec![("KEYS_TABLE", "gateway-keys"), ("KEYS_CACHE_TTL_MS", "0")];
    vars.extend(BATCH_VARS);
    let h = Harness::with_keys(&vars, table.clone()).await;
    (dynamo, table, h)
}

//! Batch with keys on: files and batches belong to the key that made them. Another key gets a
//! 404 for them and does not see them listed; no key is a 401 before anything is read.

use serde_json::json;
use shared::keys::KeysTable;
use shared::keys::admin::{self, KeySpec};
use tests::batch::{get_with, jsonl, line, upload};
use tests::dynamo::{DynamoServer, client};
use tests::{BATCH_VARS, Harness};

#[tokio::test]
async fn another_keys_files_and_batches_are_404_and_unlisted() {
    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, "gateway-keys");
    table.create().await.unwrap();
    let mut vars = vec![("KEYS_TABLE", "gateway-keys"), ("KEYS_CACHE_TTL_MS", "0")];
    vars.extend(BATCH_VARS);
    let h = Harness::with_keys(&vars, table.clone()).await;
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

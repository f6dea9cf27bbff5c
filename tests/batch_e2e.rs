//! Batch end to end over real HTTP: files in a real S3 server through aws-sdk-s3, jobs through
//! aws-sdk-bedrock against the emulator's batch control plane, state changes delivered to the
//! finalizer as EventBridge would: OpenAI's and Mistral's APIs, invalid lines, partial
//! failures, cancel, the refusals made before anything is created, and the batch price.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::batch::BatchRecord;
use shared::batch::record::key;
use tests::Harness;
use tests::batch::{jsonl, line, lines_of, upload, wait_for};

const LARGE_2: &str = "mistral.mistral-large-2407-v1:0";
const FINAL: [&str; 4] = ["completed", "failed", "cancelled", "expired"];

async fn create(h: &Harness, lines: &[Value]) -> Value {
    let file = upload(h, &jsonl(lines), &[]).await;
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.body["purpose"], "batch");
    let body = json!({"input_file_id": file.body["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h",
                      "metadata": {"team": "search"}});
    let batch = h.post_json("/v1/batches", &body).await;
    assert_eq!(batch.status, 200, "{}", batch.body);
    batch.body
}

#[tokio::test]
async fn an_openai_batch_answers_every_line_at_half_price() {
    let h = Harness::with_batch(&[]).await;
    let lines: Vec<Value> = (0..5).map(|i| line(&format!("q{i}"), "mistral-large", &format!("Question {i}"))).collect();
    let created = create(&h, &lines).await;
    assert_eq!(created["status"], "validating");
    assert_eq!(created["request_counts"], json!({"total": 5, "completed": 0, "failed": 0}));
    let id = created["id"].as_str().unwrap();

    let done = wait_for(&h, &format!("/v1/batches/{id}"), &FINAL).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["request_counts"], json!({"total": 5, "completed": 5, "failed": 0}));
    assert_eq!(done["metadata"], json!({"team": "search"}));
    assert!(done["error_file_id"].is_null(), "{done}");
    let output = lines_of(&h, done["output_file_id"].as_str().unwrap()).await;
    assert_eq!(output.len(), 5);
    let mut total_nanos = 0.0;
    for answered in &output {
        let custom_id = answered["custom_id"].as_str().unwrap();
        let body = &answered["response"]["body"];
        assert_eq!(answered["response"]["status_code"], 200);
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], LARGE_2);
        // Matched by record id: each answer is its own line's.
        let n = custom_id.trim_start_matches('q');
        assert_eq!(body["choices"][0]["message"]["content"], format!("You said: Question {n}"), "{answered}");
        let usage = &body["usage"];
        let (input, output) = (usage["prompt_tokens"].as_f64().unwrap(), usage["completion_tokens"].as_f64().unwrap());
        // Large 2's on-demand $4/$12 per 1M tokens, halved.
        let expected = (input * 2.0 + output * 6.0) / 1e6;
        assert!((usage["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12, "{usage}");
        total_nanos += expected * 1e9;
    }
    assert!((done["cost_usd"].as_f64().unwrap() * 1e9 - total_nanos).abs() < 1.0, "{done}");
}

#[tokio::test]
async fn invalid_lines_go_to_the_error_file_with_the_sync_routes_message() {
    let h = Harness::with_batch(&[]).await;
    let bad_body = json!({"model": "mistral-large", "messages": [{"role": "wizard", "content": "hi"}]});
    let mut lines: Vec<Value> = (0..2).map(|i| line(&format!("ok{i}"), "mistral-large", "Hello")).collect();
    lines.push(json!({"custom_id": "bad", "method": "POST", "url": "/v1/chat/completions", "body": bad_body}));
    lines.push(json!({"custom_id": "tools", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "mistral-large", "messages": [{"role": "user", "content": "hi"}],
                 "tools": [{"type": "function", "function": {"name": "f"}}]}}));
    let created = create(&h, &lines).await;
    assert_eq!(created["request_counts"]["failed"], 2, "refused lines count from the start: {created}");
    let done = wait_for(&h, &format!("/v1/batches/{}", created["id"].as_str().unwrap()), &FINAL).await;
    assert_eq!(done["request_counts"], json!({"total": 4, "completed": 2, "failed": 2}));
    let errors = lines_of(&h, done["error_file_id"].as_str().unwrap()).await;
    let bad = errors.iter().find(|e| e["custom_id"] == "bad").expect("the bad line");
    let sync = h.post_json("/v1/chat/completions", &bad_body).await;
    assert_eq!(bad["response"]["status_code"], sync.status);
    assert_eq!(bad["response"]["body"], sync.body, "the same error the sync route gives");
    let tools = errors.iter().find(|e| e["custom_id"] == "tools").expect("the tools line");
    assert_eq!(tools["response"]["body"]["error"]["param"], "tools");
    assert!(tools["error"]["message"].as_str().unwrap().contains("batch"), "{tools}");
    // Refused lines never reached Bedrock: the job holds the two valid ones.
    assert_eq!(done["bedrock_jobs"][0]["records"], 2);
}

#[tokio::test]
async fn a_record_that_fails_is_an_error_line_and_the_rest_are_answered() {
    let h = Harness::with_batch(&[]).await;
    let mut lines: Vec<Value> = (0..3).map(|i| line(&format!("ok{i}"), "mistral-large", "Hello")).collect();
    lines.push(line("throttled", "mistral-large", "Hello [[fault:throttle]]"));
    let created = create(&h, &lines).await;
    let done = wait_for(&h, &format!("/v1/batches/{}", created["id"].as_str().unwrap()), &FINAL).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["request_counts"], json!({"total": 4, "completed": 3, "failed": 1}));
    assert_eq!(done["bedrock_jobs"][0]["status"], "PartiallyCompleted");
    let errors = lines_of(&h, done["error_file_id"].as_str().unwrap()).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["custom_id"], "throttled");
    assert_eq!(errors[0]["response"]["status_code"], 429, "the sync route's status for a throttled call");
    assert_eq!(lines_of(&h, done["output_file_id"].as_str().unwrap()).await.len(), 3);
}

#[tokio::test]
async fn the_state_change_event_finalizes_without_anyone_asking() {
    let h = Harness::with_batch(&[]).await;
    let lines: Vec<Value> = (0..2).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();
    let id = create(&h, &lines).await["id"].as_str().unwrap().to_owned();
    let batches = h.state.app.batch.clone().expect("batch on");
    let start = Instant::now();
    loop {
        // The record in the bucket, read without the API (whose reads would refresh it).
        let record: BatchRecord = batches.store.get_json(&key(&id)).await.unwrap().unwrap();
        if record.output_file_id.is_some() {
            assert_eq!((record.succeeded, record.failed), (2, 0));
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no event finalized {id}: {record:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_cancelled_batch_stops_its_job_and_ends_cancelled() {
    let h = Harness::with_batch(&[]).await;
    h.emulator().set_batch_step(Duration::from_millis(400));
    let lines: Vec<Value> = (0..3).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();
    let id = create(&h, &lines).await["id"].as_str().unwrap().to_owned();
    let cancelled = h.post_json(&format!("/v1/batches/{id}/cancel"), &json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert!(["cancelling", "cancelled"].contains(&cancelled.body["status"].as_str().unwrap()), "{}", cancelled.body);
    let done = wait_for(&h, &format!("/v1/batches/{id}"), &FINAL).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(done["cancelled_at"].is_u64());
    assert_eq!(done["request_counts"]["completed"], 0, "{done}");
    let again = h.post_json(&format!("/v1/batches/{id}/cancel"), &json!({})).await;
    assert_eq!(again.status, 400, "an ended batch cannot be cancelled: {}", again.body);
}

#[tokio::test]
async fn batches_that_cannot_run_are_refused_before_anything_is_created() {
    let h = Harness::with_batch(&[("BATCH_MIN_RECORDS", "3")]).await;
    let two: Vec<Value> = (0..2).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();
    let ministral: Vec<Value> = (0..3).map(|i| line(&format!("q{i}"), "ministral-8b", "Hello")).collect();
    let auto: Vec<Value> = (0..3).map(|i| line(&format!("q{i}"), "auto", "Hello")).collect();
    for (lines, says) in [(two, "at least 3 records"), (ministral, "no batch jobs"), (auto, "`auto`")] {
        let file = upload(&h, &jsonl(&lines), &[]).await;
        let body =
            json!({"input_file_id": file.body["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"});
        let refused = h.post_json("/v1/batches", &body).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.error_message().contains(says), "{says}: {}", refused.body);
    }
    let window = h
        .post_json(
            "/v1/batches",
            &json!({"input_file_id": "file-00", "endpoint": "/v1/chat/completions", "completion_window": "1h"}),
        )
        .await;
    assert_eq!((window.status, window.body["error"]["param"].as_str()), (400, Some("completion_window")));
    let listed = h.get("/v1/batches").await;
    assert_eq!(listed.body["data"], json!([]), "nothing was created: {}", listed.body);
}

#[tokio::test]
async fn a_mistral_job_runs_over_the_same_core_with_its_own_objects() {
    let h = Harness::with_batch(&[]).await;
    let lines: Vec<Value> = (0..3)
        .map(|i| json!({"custom_id": format!("{i}"), "body": {"messages": [{"role": "user", "content": format!("Q{i}")}]}}))
        .collect();
    let file = upload(&h, &jsonl(&lines), &[]).await;
    let body = json!({"input_files": [file.body["id"]], "model": "mistral-small", "endpoint": "/v1/chat/completions"});
    let job = h.post_json("/v1/batch/jobs", &body).await;
    assert_eq!(job.status, 200, "{}", job.body);
    assert_eq!((job.body["status"].as_str(), job.body["total_requests"].as_u64()), (Some("QUEUED"), Some(3)));
    let id = job.body["id"].as_str().unwrap();
    let done = wait_for(&h, &format!("/v1/batch/jobs/{id}"), &["SUCCESS", "FAILED", "CANCELLED"]).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!((done["succeeded_requests"].as_u64(), done["failed_requests"].as_u64()), (Some(3), Some(0)));
    let output = lines_of(&h, done["output_file"].as_str().unwrap()).await;
    assert!(output.iter().all(|l| l["response"]["body"]["model"] == "mistral.mistral-small-2402-v1:0"), "{output:?}");
    let listed = h.get("/v1/batch/jobs").await;
    assert_eq!(listed.body["total"], 1);
    // The same batch through OpenAI's view.
    let openai = h.get(&format!("/v1/batches/{id}")).await;
    assert_eq!(openai.body["status"], "completed");
}

#[tokio::test]
async fn files_list_read_and_delete_and_unknown_ones_are_404() {
    let h = Harness::with_batch(&[]).await;
    let file = upload(&h, &jsonl(&[line("a", "mistral-large", "Hi")]), &[]).await;
    let id = file.body["id"].as_str().unwrap();
    assert_eq!(
        (file.body["bytes"].as_u64(), file.body["num_lines"].as_u64()),
        (Some(jsonl(&[line("a", "mistral-large", "Hi")]).len() as u64), Some(1))
    );
    let listed = h.get("/v1/files").await;
    assert_eq!(listed.body["data"][0]["id"], id);
    assert_eq!(h.get(&format!("/v1/files/{id}")).await.body["filename"], "input.jsonl");
    let deleted = h.http.delete(h.url(&format!("/v1/files/{id}"))).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    for path in [
        format!("/v1/files/{id}"),
        "/v1/files/file-0123".into(),
        "/v1/files/../etc".into(),
        "/v1/batches/batch_x".into(),
    ] {
        let gone = h.get(&path).await;
        assert_eq!(gone.status, 404, "{path}: {}", gone.body);
    }
}

#[tokio::test]
async fn an_upload_above_the_limit_is_a_413_that_names_the_cli() {
    let h = Harness::with_batch(&[("BATCH_MAX_UPLOAD_BYTES", "1024")]).await;
    let lines: Vec<Value> = (0..20).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();
    let reply = upload(&h, &jsonl(&lines), &[]).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], "upload_too_large");
    assert!(reply.error_message().contains("gateway-admin files upload"), "{}", reply.body);
}

#[tokio::test]
async fn a_finalized_batch_records_its_cost_at_the_batch_price_in_the_metrics() {
    shared::metrics::capture();
    let namespace = "BatchE2E";
    let h = Harness::with_batch(&[("METRICS", "emf"), ("METRICS_NAMESPACE", namespace)]).await;
    let lines: Vec<Value> = (0..3).map(|i| line(&format!("q{i}"), "mistral-large", "Hello")).collect();
    let created = create(&h, &lines).await;
    let done = wait_for(&h, &format!("/v1/batches/{}", created["id"].as_str().unwrap()), &FINAL).await;
    let records: Vec<Value> = shared::metrics::captured(namespace)
        .into_iter()
        .filter(|r| r["Route"] == shared::batch::finalize::METRICS_ROUTE && r["BatchId"] == done["id"])
        .collect();
    assert_eq!(records.len(), 1, "one record per job: {records:?}");
    let record = &records[0];
    assert_eq!((record["Function"].as_str(), record["Model"].as_str()), (Some("batch"), Some(LARGE_2)));
    assert_eq!(record["Requests"], 3.0);
    assert!(
        (record["CostUSD"].as_f64().unwrap() - done["cost_usd"].as_f64().unwrap()).abs() < 1e-12,
        "{record} {done}"
    );
    let output = lines_of(&h, done["output_file_id"].as_str().unwrap()).await;
    let tokens: f64 = output.iter().map(|l| l["response"]["body"]["usage"]["prompt_tokens"].as_f64().unwrap()).sum();
    assert_eq!(record["InputTokens"].as_f64().unwrap(), tokens);
}

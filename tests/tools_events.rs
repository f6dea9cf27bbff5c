//! The tools function's Lambda handler with real event JSON (`events/tools/`): API Gateway
//! requests, SQS batches and EventBridge events whose results are POSTed, signed, to a local
//! callback server.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use lambda_http::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::triggers::{Handler, InvocationError};
use tests::tools::{Log, SECRET, SEED_PROMPT, ask, record};
use tests::{Harness, Served, serve};

fn sample(name: &str) -> Value {
    let path = format!("{}/../events/tools/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// A callback server (`/ok` answers 200, `/fail` 500) and a stack that may call it.
async fn callback_stack() -> (Harness, Log, String) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/{*path}",
            post(|State(log): State<Log>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
                record(&log, uri.path(), &headers, &body);
                if uri.path() == "/fail" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }),
        )
        .with_state(log.clone());
    let Served { addr, .. } = serve(app).await;
    let stack = Harness::with_config(&[
        ("TOOLS_CALLBACK_ALLOWLIST", "127.0.0.1"),
        ("TOOLS_ALLOW_LOOPBACK", "true"),
        ("TOOLS_CALLBACK_SECRET", SECRET),
    ])
    .await;
    (stack, log, format!("http://{addr}"))
}

async fn invoke(stack: &Harness, event: Value) -> Result<Value, InvocationError> {
    let answer = Handler::new(stack.state.clone()).handle(LambdaEvent::new(event, Context::default())).await?;
    Ok(serde_json::to_value(answer).expect("answers serialize"))
}

fn envelope(callback: &str, prompt: &str) -> Value {
    json!({"callback_url": callback, "reference": "ref-1", "request": ask(prompt)})
}

fn sqs_record(id: &str, body: &str) -> Value {
    json!({"messageId": id, "receiptHandle": "rh", "body": body, "eventSource": "aws:sqs",
           "attributes": {"ApproximateReceiveCount": "1"}, "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"})
}

#[tokio::test]
async fn api_gateway_rest_and_http_events_run_the_loop() {
    let (stack, _, _) = callback_stack().await;
    for name in ["rest-chat.json", "http-api-chat.json"] {
        let response = invoke(&stack, sample(name)).await.unwrap();
        assert_eq!(response["statusCode"], 200, "{name}: {response}");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert!(body["choices"][0]["message"]["content"].as_str().unwrap().contains("Paid"), "{name}: {body}");
        assert_eq!(body["tool_runs"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_sqs_batch_reports_exactly_the_failing_record() {
    let (stack, log, base) = callback_stack().await;
    let mut batch = sample("sqs-batch-malformed-record.json");
    let good_id = batch["Records"][0]["messageId"].as_str().unwrap().to_owned();
    let bad_id = batch["Records"][1]["messageId"].as_str().unwrap().to_owned();
    batch["Records"][0]["body"] = Value::String(envelope(&format!("{base}/ok"), SEED_PROMPT).to_string());

    let response = invoke(&stack, batch).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": bad_id}]}));

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "one callback, for the good record");
    let callback = &received[0];
    assert!(callback.signature_valid, "the callback is signed with TOOLS_CALLBACK_SECRET");
    assert_eq!(callback.body["status"], "completed");
    assert_eq!(callback.body["event_id"], good_id.as_str());
    assert_eq!(callback.body["reference"], "ref-1");
    let answer = callback.body["response"]["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(answer.contains("Paid"), "{answer}");
}

#[tokio::test]
async fn every_record_of_the_sqs_sample_is_answered_to_its_callback() {
    let (stack, log, base) = callback_stack().await;
    let mut batch = sample("sqs-batch.json");
    let records = batch["Records"].as_array_mut().unwrap();
    for record in records.iter_mut() {
        let mut body: Value = serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["callback_url"], "http://127.0.0.1:3000/dev/callback", "the sample calls the dev receiver");
        body["callback_url"] = Value::String(format!("{base}/ok"));
        record["body"] = Value::String(body.to_string());
    }
    let response = invoke(&stack, batch).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.signature_valid && r.body["status"] == "completed"));
}

#[tokio::test]
async fn transient_failures_are_retried_and_request_errors_are_delivered() {
    let (stack, log, base) = callback_stack().await;
    let ok = format!("{base}/ok");
    let batch = json!({"Records": [
        sqs_record("callback-down", &envelope(&format!("{base}/fail"), SEED_PROMPT).to_string()),
        sqs_record("throttled", &envelope(&ok, "Hi [[fault:throttle]]").to_string()),
        sqs_record("bad-request", &json!({"callback_url": ok, "request": {"messages": []}}).to_string()),
        sqs_record("no-callback", &json!({"request": ask(SEED_PROMPT)}).to_string()),
    ]});
    let response = invoke(&stack, batch).await.unwrap();
    let mut failed: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["callback-down", "no-callback", "throttled"]);

    // The invalid request cannot succeed on a retry: its error goes to the callback instead.
    let received = log.lock().unwrap().clone();
    let delivered = received.iter().find(|r| r.body["event_id"] == "bad-request").expect("error delivered");
    assert_eq!(delivered.body["status"], "failed");
    assert_eq!(delivered.body["error"]["type"], "invalid_request_error");
    assert!(received.iter().all(|r| r.body["event_id"] != "throttled"), "no callback for a retried record");
}

#[tokio::test]
async fn an_eventbridge_event_posts_its_result_to_the_callback() {
    let (stack, log, base) = callback_stack().await;
    let mut event = sample("eventbridge.json");
    event["detail"]["callback_url"] = Value::String(format!("{base}/ok"));
    let response = invoke(&stack, event.clone()).await.unwrap();
    assert_eq!(response["status"], "delivered");
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(received[0].signature_valid);
    assert_eq!(received[0].body["reference"], json!({"order": 42}));
    let runs = received[0].body["response"]["tool_runs"].as_array().unwrap().clone();
    assert_eq!(runs[0]["name"], "retrieve_payment_date");
    assert_eq!(runs[0]["result"], json!({"date": "2021-10-06"}));

    // A failing event is an error, so Lambda's retries and on-failure destination take over.
    event["detail"]["callback_url"] = Value::String(format!("{base}/fail"));
    assert!(invoke(&stack, event).await.is_err());
}

#[tokio::test]
async fn an_unrecognised_event_is_an_error() {
    let (stack, _, _) = callback_stack().await;
    let err = invoke(&stack, json!({"hello": "world"})).await.unwrap_err();
    assert!(err.to_string().contains("API Gateway"), "{err}");
    assert_eq!(stack.emulator().requests(), 0);
}

//! `gateway-admin files upload`: a batch input larger than the API takes, written to the batch
//! bucket (a real S3 server on loopback, `dev::s3`) as the files route writes it, and read back
//! the way the batch function reads files.

use std::process::Command;

use dev::s3::{S3Server, TEST_ACCESS_KEY, TEST_SECRET_KEY, s3_client};
use serde_json::Value;
use shared::batch::{Store, files};

// Multi-threaded: the S3 server runs on this runtime while the test waits on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_larger_than_the_api_takes_lands_in_the_bucket_as_an_upload_would() {
    let s3 = S3Server::start().await.expect("S3 server");
    let client = s3_client(&s3.url()).await;
    client.create_bucket().bucket("big-batch").send().await.expect("bucket");
    let line = r#"{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "mistral-large", "messages": [{"role": "user", "content": "hi"}]}}"#;
    let lines = (5 << 20) / line.len() + 1; // more than the API's 4 MiB
    let content = vec![line; lines].join("\n");
    let path = std::env::temp_dir().join(format!("gateway-admin-upload-{}.jsonl", std::process::id()));
    std::fs::write(&path, &content).expect("input written");

    let output = Command::new(env!("CARGO_BIN_EXE_gateway-admin"))
        .args(["files", "upload", path.to_str().unwrap(), "--owner", "0123456789abcdef", "--json"])
        .env("AWS_ENDPOINT_URL_S3", s3.url())
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("BATCH_BUCKET", "big-batch")
        .output()
        .expect("gateway-admin ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(printed["bytes"], content.len());
    assert_eq!(printed["lines"], lines);
    let id = printed["id"].as_str().unwrap();

    let store = Store::new(client, "big-batch");
    let (file, bytes) = files::content(&store, Some("0123456789abcdef"), id).await.expect("the file, for its owner");
    assert_eq!((file.purpose.as_str(), bytes.len()), ("batch", content.len()));
    assert!(files::get(&store, None, id).await.is_err(), "another caller does not see it");

    let missing = Command::new(env!("CARGO_BIN_EXE_gateway-admin"))
        .args(["files", "upload", path.to_str().unwrap()])
        .env_remove("BATCH_BUCKET")
        .output()
        .expect("gateway-admin ran");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("BATCH_BUCKET"));
    let _ = std::fs::remove_file(&path);
}

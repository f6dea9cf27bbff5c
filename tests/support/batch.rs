//! Support of the batch tests: input lines, a multipart upload as the SDKs send it, and
//! waiting for a batch to end.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Harness, Reply};

/// An OpenAI batch line asking `model` about `prompt`.
pub fn line(custom_id: &str, model: &str, prompt: &str) -> Value {
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
           "body": {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 50}})
}

/// Lines as a JSONL file.
pub fn jsonl(lines: &[Value]) -> Vec<u8> {
    lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n").into_bytes()
}

/// `POST /v1/files` of `content` as a multipart form (`file`, `purpose=batch`), with `headers`.
pub async fn upload(h: &Harness, content: &[u8], headers: &[(&str, String)]) -> Reply {
    let boundary = "----batch-test-boundary-7d2c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"input.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = h
        .http
        .post(h.url("/v1/files"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    Reply::read_response(request.send().await.expect("upload sent")).await
}

/// GETs `path` with `headers`.
pub async fn get_with(h: &Harness, path: &str, headers: &[(&str, String)]) -> Reply {
    let mut request = h.http.get(h.url(path));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    Reply::read_response(request.send().await.expect("request sent")).await
}

/// The raw bytes of a file's content.
pub async fn download(h: &Harness, file_id: &str) -> String {
    let response = h.http.get(h.url(&format!("/v1/files/{file_id}/content"))).send().await.expect("download");
    assert_eq!(response.status(), 200);
    response.text().await.expect("content")
}

/// The file's lines, parsed.
pub async fn lines_of(h: &Harness, file_id: &str) -> Vec<Value> {
    download(h, file_id).await.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// Polls `path` (a batch or a Mistral job) until its status is one of `done`.
pub async fn wait_for(h: &Harness, path: &str, done: &[&str]) -> Value {
    let start = Instant::now();
    loop {
        let reply = h.get(path).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.body["status"].as_str().is_some_and(|s| done.contains(&s)) {
            return reply.body;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{path} did not end: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

//! A Magistral answer's reasoning the way Mistral's API sends it, for Mistral's own clients that
//! ask with `x-reasoning-format: mistral`: a `thinking` chunk leading `content`, on `/v1` (JSON
//! and buffered SSE) and on `/stream/v1`; without the header, `reasoning_content` as before.

use serde_json::{Value, json};
use tests::sse::{assert_complete_stream, parse_sse};
use tests::{Harness, chat};

const HEADER: &str = "x-reasoning-format";

fn thinking_text(content: &Value) -> String {
    let chunks = content.as_array().unwrap_or_else(|| panic!("content is not a list of chunks: {content}"));
    assert_eq!(chunks[0]["type"], "thinking", "{content}");
    chunks[0]["thinking"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_json_answer_leads_its_content_with_a_thinking_chunk() {
    let h = Harness::start().await;
    let body = chat("magistral-small", "Capital of France?").to_string().into_bytes();
    let mistral = h.post_with("/v1/chat/completions", body.clone(), &[(HEADER, "mistral".into())]).await;
    assert_eq!(mistral.status, 200, "{}", mistral.body);
    let message = &mistral.body["choices"][0]["message"];
    let content = &message["content"];
    assert!(!thinking_text(content).is_empty(), "{message}");
    assert_eq!(content[1]["type"], "text");
    assert!(content[1]["text"].as_str().unwrap().contains("Capital of France"), "{message}");
    assert!(message.get("reasoning_content").is_none(), "the reasoning is sent once: {message}");

    let openai = h.post_with("/v1/chat/completions", body, &[]).await;
    let message = &openai.body["choices"][0]["message"];
    assert!(message["content"].is_string() && message["reasoning_content"].is_string(), "{message}");
    assert_eq!(message["reasoning_content"].as_str().unwrap(), thinking_text(content));
}

#[tokio::test]
async fn a_stream_sends_reasoning_deltas_as_thinking_chunks() {
    let h = Harness::start().await;
    let mut request = chat("magistral-small", "Capital of France?");
    request["stream"] = json!(true);
    let body = request.to_string().into_bytes();
    for path in ["/stream/v1/chat/completions", "/v1/chat/completions"] {
        let reply = h.post_with(path, body.clone(), &[(HEADER, "mistral".into())]).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let chunks = assert_complete_stream(&parse_sse(reply.body.as_str().unwrap().as_bytes()));
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        let thought: String =
            deltas.iter().filter(|d| d["content"].is_array()).map(|d| thinking_text(&d["content"])).collect();
        let text: String = deltas.iter().filter_map(|d| d["content"].as_str()).collect();
        assert!(!thought.is_empty(), "{path}: no thinking chunk in {deltas:?}");
        assert!(text.contains("Capital of France"), "{path}: {text}");
        assert!(deltas.iter().all(|d| d.get("reasoning_content").is_none()), "{path}");
    }
}

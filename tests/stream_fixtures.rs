//! The SSE mapping against real Bedrock traffic: the ConverseStream recordings in
//! `shared/fixtures/bedrock` are queued on the Bedrock emulator, which plays them back byte for
//! byte (real frames, real CRCs) to the real `aws-sdk-bedrockruntime` client, whose own
//! unmarshaller turns them into events; the stream module maps those to chunks and SSE frames,
//! which are checked here.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use dev::emulator::{Emulator, Reply};
use futures_util::StreamExt;
use serde_json::{Value, json};
use shared::Config;
use shared::bedrock::{ModelRequest, SdkBedrock, started};
use shared::catalog::Price;
use shared::convert::response::Envelope;
use shared::stream::{self, ChunkMapper, Deadline};
use tests::env;
use tests::sse::{Event, assert_complete_stream, content, parse_sse, tool_calls};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/bedrock");

/// One recorded reply: status, content type and raw body.
struct Recorded {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn recorded(file: &str, index: usize) -> Recorded {
    let path = PathBuf::from(FIXTURES).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let response = &yaml["interactions"][index]["response"];
    let content_type = response["headers"]["content-type"][0].as_str().unwrap().to_owned();
    let body = match response["body"]["string"].as_str() {
        // `!!binary` scalars load as their base64 text.
        Some(base64) => {
            let compact: String = base64.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD.decode(compact).unwrap()
        }
        None => serde_json::to_vec(&serde_json::to_value(&response["parsed_body"]).unwrap()).unwrap(),
    };
    Recorded { status: response["status"]["code"].as_u64().unwrap() as u16, content_type, body }
}

/// An emulator that answers its next call with the recording, and the SDK client pointed at it.
async fn replay(recorded: Recorded) -> (Emulator, SdkBedrock) {
    let Recorded { status, content_type, body } = recorded;
    let emulator = Emulator::start().await.unwrap();
    emulator.enqueue(Reply::recorded(status, &content_type, body));
    let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &Config::load(&env(&[])).unwrap());
    (emulator, bedrock)
}

fn request() -> ModelRequest {
    ModelRequest::new(
        "us.amazon.nova-micro-v1:0",
        vec![
            aws_sdk_bedrockruntime::types::Message::builder()
                .role(aws_sdk_bedrockruntime::types::ConversationRole::User)
                .content(aws_sdk_bedrockruntime::types::ContentBlock::Text("Hi".into()))
                .build()
                .unwrap(),
        ],
    )
}

/// The SSE body the stream module makes of a recording.
async fn sse_of(file: &str, index: usize) -> Vec<Event> {
    let (_emulator, bedrock) = replay(recorded(file, index)).await;
    let started = started::open(&bedrock, request()).await.expect("the recording starts a stream");
    let price = Price { input_per_million: 1.0, output_per_million: 2.0 };
    let mapper = ChunkMapper::new(Envelope::new("us.amazon.nova-micro-v1:0"), Some(price));
    let frames: Vec<u8> = stream::sse(started, mapper, Deadline::after(Duration::from_secs(10)))
        .map(|frame| frame.unwrap())
        .collect::<Vec<_>>()
        .await
        .concat();
    parse_sse(&frames)
}

/// The `delta.text` of every event of a recording, per content block, decoded independently of
/// the SDK from the frames' JSON payloads.
fn recorded_texts(file: &str, index: usize) -> Vec<String> {
    let body = recorded(file, index).body;
    let mut texts: Vec<String> = Vec::new();
    for frame in dev::emulator::frames::decode_all(&body).unwrap() {
        if frame.kind() == Some("contentBlockDelta") {
            let payload = frame.json().unwrap();
            if let Some(text) = payload["delta"]["text"].as_str() {
                texts.push(text.to_owned());
            }
        }
    }
    texts
}

#[tokio::test]
async fn recorded_text_stream_becomes_role_content_chunks_and_a_final_chunk() {
    let events = sse_of("test_bedrock_model_stream.yaml", 0).await;
    let chunks = assert_complete_stream(&events);
    let texts = recorded_texts("test_bedrock_model_stream.yaml", 0);
    assert_eq!(texts.len(), 29);
    // Role chunk, one chunk per recorded delta, the final chunk.
    assert_eq!(chunks.len(), 1 + texts.len() + 1);
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    let streamed: Vec<&str> =
        chunks[1..chunks.len() - 1].iter().map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap()).collect();
    assert_eq!(streamed, texts);
    assert!(content(&chunks).starts_with("The capital of France is Paris."));
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 13, "completion_tokens": 82, "total_tokens": 95, "cost_usd": 0.000177})
    );
    assert_eq!(last["model"], "us.amazon.nova-micro-v1:0");
}

#[tokio::test]
async fn recorded_tool_use_stream_becomes_text_then_one_tool_call() {
    let events = sse_of("test_bedrock_model_iter_stream.yaml", 0).await;
    let chunks = assert_complete_stream(&events);
    assert!(content(&chunks).starts_with("<thinking> To find the temperature"));
    let calls = tool_calls(&chunks);
    assert_eq!(
        calls,
        [("tooluse_lAG_zP8QRHmSYOwZzzaCqA".to_owned(), "get_temperature".to_owned(), r#"{"city":"Paris"}"#.to_owned())]
    );
    // Bedrock's recorded argument fragments reach the caller as one whole call.
    let entries: Vec<&Value> =
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array()).flatten().collect();
    assert_eq!(
        entries,
        [&json!({"index": 0, "id": "tooluse_lAG_zP8QRHmSYOwZzzaCqA", "type": "function",
                "function": {"name": "get_temperature", "arguments": "{\"city\":\"Paris\"}"}})]
    );
    // The tool call sits in content block 1 of the recording; it is still tool call 0.
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(last["usage"]["prompt_tokens"], 471);
    assert_eq!(last["usage"]["completion_tokens"], 91);
    assert_eq!(last["usage"]["total_tokens"], 562);

    // The second call of the recording answers with the tool result: plain text.
    let chunks = assert_complete_stream(&sse_of("test_bedrock_model_iter_stream.yaml", 1).await);
    assert_eq!(content(&chunks), "The current temperature in Paris, the capital of France, is 30°C.");
    assert!(tool_calls(&chunks).is_empty());
}

#[tokio::test]
async fn recorded_reasoning_streams_apart_from_the_content_and_empty_deltas_make_no_chunks() {
    let events = sse_of("test_bedrock_model_stream_empty_text_delta.yaml", 0).await;
    let chunks = assert_complete_stream(&events);
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    let thought = "The user just says \"Hi\". We need to respond appropriately, friendly greeting. No special instructions. Should be short.";
    assert_eq!(
        deltas,
        [
            &json!({"role": "assistant", "content": ""}),
            &json!({"reasoning_content": thought}),
            &json!({"content": "Hello! How can I help"}),
            &json!({"content": " you today?"}),
            &json!({}),
        ]
    );
    assert!(!content(&chunks).contains("The user just says"), "reasoning is not part of the answer");
}

#[tokio::test]
async fn recorded_streaming_error_is_returned_before_any_frame() {
    let recorded = recorded("test_bedrock_streaming_error.yaml", 0);
    assert_eq!(recorded.status, 400);
    let (emulator, bedrock) = replay(recorded).await;
    // The recording kept no `x-amzn-ErrorType` header, so the SDK cannot name the error; what
    // matters here is that a refused call is an error of `open`, never a started stream.
    match started::open(&bedrock, request()).await {
        Ok(_) => panic!("a refused call must not start a stream"),
        Err(error) => assert!(error.status().is_server_error() || error.status().is_client_error(), "{error}"),
    }
    assert_eq!(emulator.requests(), 1, "the recording was played to the one call");
}

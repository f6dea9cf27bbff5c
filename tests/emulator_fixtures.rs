//! The Bedrock emulator against real Bedrock traffic: the recorded replies in
//! `shared/fixtures/bedrock` are decoded with the emulator's own frame decoder, the emulator's
//! replies must have the same frames, headers, event sequence and JSON keys, and the real
//! `aws-sdk-bedrockruntime` client must parse every reply, errors and mid-stream faults included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    InferenceConfiguration, Message, StopReason, SystemContentBlock, Tool, ToolChoice, ToolConfiguration,
    ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolSpecification,
};
use base64::Engine as _;
use dev::emulator::Emulator;
use dev::emulator::frames::{self, Frame};
use serde_json::{Value, json};
use shared::bedrock::document::{to_document, to_json};
use tests::sdk::{assistant, client, client_with_attempts, converse_text, text_of, user};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/bedrock");
const MISTRAL: &str = "mistral.mistral-large-2402-v1:0";
const PROFILE: &str = "us.mistral.pixtral-large-2502-v1:0";
const EVENT_HEADERS: [&str; 3] = [":event-type", ":content-type", ":message-type"];

// ---------------------------------------------------------------------------------------------
// Fixtures

/// One recorded request/response pair.
struct Interaction {
    path: String,
    request_body: String,
    status: u16,
    stream: Option<Vec<u8>>,
    json: Option<Value>,
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .unwrap_or_else(|error| panic!("cannot read {FIXTURES}: {error}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "expected the recorded fixtures in {FIXTURES}");
    files
}

fn interactions(file: &std::path::Path) -> Vec<Interaction> {
    let text = std::fs::read_to_string(file).unwrap();
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    yaml["interactions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|interaction| {
            let request = &interaction["request"];
            let response = &interaction["response"];
            let uri = request["uri"].as_str().unwrap();
            let path = uri.strip_prefix("https://bedrock-runtime.us-east-1.amazonaws.com").unwrap().to_owned();
            // `!!binary` scalars load as their base64 text.
            let stream = response["body"]["string"].as_str().map(|base64| {
                let compact: String = base64.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD.decode(compact).unwrap()
            });
            let json = response.get("parsed_body").map(|body| serde_json::to_value(body).unwrap());
            Interaction {
                path,
                request_body: request["body"].as_str().unwrap().to_owned(),
                status: response["status"]["code"].as_u64().unwrap() as u16,
                stream,
                json,
            }
        })
        .collect()
}

fn fixture(name: &str) -> Vec<Interaction> {
    interactions(&PathBuf::from(FIXTURES).join(name))
}

fn recorded_stream(name: &str, index: usize) -> Vec<Frame> {
    let bytes = fixture(name)[index].stream.clone().unwrap();
    frames::decode_all(&bytes).unwrap()
}

/// Dotted paths of every key in `value` (`[]` for array items), the padding field `p` left out.
fn key_paths(value: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "p" && prefix.is_empty() {
                        continue;
                    }
                    let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    out.insert(path.clone());
                    walk(child, &path, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, "", &mut out);
    out
}

/// Event type → union of the key paths of its payloads.
fn keys_by_event(frames: &[Frame]) -> BTreeMap<String, BTreeSet<String>> {
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for frame in frames {
        keys.entry(frame.kind().unwrap().to_owned()).or_default().extend(key_paths(&frame.json().unwrap()));
    }
    keys
}

fn kinds(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|frame| frame.kind().unwrap()).collect()
}

/// Every frame is a JSON event with exactly the three headers of the recordings, and the
/// sequence is: messageStart, then per block [contentBlockStart] contentBlockDelta+
/// contentBlockStop (one index per block, increasing), then messageStop and metadata.
fn assert_event_stream_shape(frames: &[Frame]) {
    for frame in frames {
        let names: Vec<&str> = frame.headers.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, EVENT_HEADERS, "headers of {frame:?}");
        assert_eq!(frame.header(":content-type"), Some("application/json"));
        assert_eq!(frame.header(":message-type"), Some("event"));
        assert!(frame.json().unwrap()["p"].is_string(), "padding in {frame:?}");
    }
    let kinds = kinds(frames);
    assert!(kinds.len() >= 5, "{kinds:?}");
    assert_eq!(kinds[0], "messageStart");
    assert_eq!(kinds[kinds.len() - 2..], ["messageStop", "metadata"]);
    let mut at = 1;
    let mut expected_index = 0;
    while at < kinds.len() - 2 {
        let index_of = |i: usize| frames[i].json().unwrap()["contentBlockIndex"].as_u64();
        assert_eq!(index_of(at), Some(expected_index), "block index at frame {at}");
        if kinds[at] == "contentBlockStart" {
            at += 1;
        }
        let first_delta = at;
        while kinds[at] == "contentBlockDelta" {
            assert_eq!(index_of(at), Some(expected_index));
            at += 1;
        }
        assert!(at > first_delta, "a block without deltas: {kinds:?}");
        assert_eq!(kinds[at], "contentBlockStop", "{kinds:?}");
        assert_eq!(index_of(at), Some(expected_index));
        at += 1;
        expected_index += 1;
    }
    assert!(expected_index > 0, "no content block in {kinds:?}");
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, to see the emulator's bytes exactly as a client gets them

struct RawReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn frames(&self) -> Vec<Frame> {
        frames::decode_all(&self.body).unwrap()
    }
}

async fn post(emulator: &Emulator, path: &str, body: &str) -> RawReply {
    let mut tcp = TcpStream::connect(emulator.addr()).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        emulator.addr(),
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked =
        headers.iter().any(|(name, value)| name.eq_ignore_ascii_case("transfer-encoding") && value == "chunked");
    if chunked {
        body = dechunk(&body);
    }
    RawReply { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn model_path(model: &str, operation: &str) -> String {
    format!("/model/{}/{operation}", model.replace(':', "%3A"))
}

// ---------------------------------------------------------------------------------------------
// The real SDK

fn payment_tools(choice: Option<ToolChoice>) -> ToolConfiguration {
    let schema = json!({
        "type": "object",
        "properties": { "transaction_id": { "type": "string", "description": "The transaction id." } },
        "required": ["transaction_id"]
    });
    let tool = |name: &str| {
        Tool::ToolSpec(
            ToolSpecification::builder()
                .name(name)
                .description("Payment information for a transaction.")
                .input_schema(ToolInputSchema::Json(to_document(&schema)))
                .build()
                .unwrap(),
        )
    };
    ToolConfiguration::builder()
        .tools(tool("retrieve_payment_status"))
        .tools(tool("retrieve_payment_date"))
        .set_tool_choice(choice)
        .build()
        .unwrap()
}

/// What a ConverseStream produced: text, tool calls (id, name, argument fragments), stop reason.
#[derive(Debug, Default)]
struct Collected {
    text: String,
    text_deltas: usize,
    tools: Vec<(String, String, Vec<String>)>,
    stop_reason: Option<StopReason>,
    output_tokens: Option<i32>,
}

async fn collect(
    mut stream: aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver<
        ConverseStreamOutput,
        ConverseStreamOutputError,
    >,
) -> Result<Collected, ConverseStreamOutputError> {
    let mut collected = Collected::default();
    loop {
        let event = match stream.recv().await {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(collected),
            Err(error) => return Err(error.into_service_error()),
        };
        match event {
            ConverseStreamOutput::ContentBlockStart(start) => {
                if let Some(ContentBlockStart::ToolUse(tool)) = start.start() {
                    collected.tools.push((tool.tool_use_id().to_owned(), tool.name().to_owned(), Vec::new()));
                }
            }
            ConverseStreamOutput::ContentBlockDelta(delta) => match delta.delta() {
                Some(ContentBlockDelta::Text(text)) => {
                    collected.text.push_str(text);
                    collected.text_deltas += 1;
                }
                Some(ContentBlockDelta::ToolUse(tool)) => {
                    collected.tools.last_mut().unwrap().2.push(tool.input().to_owned());
                }
                other => panic!("unexpected delta {other:?}"),
            },
            ConverseStreamOutput::MessageStop(stop) => {
                collected.stop_reason = Some(stop.stop_reason().clone());
            }
            ConverseStreamOutput::Metadata(metadata) => {
                collected.output_tokens = metadata.usage().map(|usage| usage.output_tokens());
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Recorded traffic, decoded

#[test]
fn recorded_streams_decode_with_valid_crcs_and_the_documented_shape() {
    let mut streams = 0;
    for file in fixture_files() {
        for interaction in interactions(&file) {
            let Some(bytes) = interaction.stream else {
                continue;
            };
            let frames = frames::decode_all(&bytes).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            assert_event_stream_shape(&frames);
            streams += 1;
        }
    }
    assert_eq!(streams, 5, "streamed replies in the fixtures");
}

#[test]
fn decoder_rejects_a_recorded_frame_with_a_flipped_bit() {
    let mut bytes = fixture("test_bedrock_model_stream.yaml")[0].stream.clone().unwrap();
    let first_frame_len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[first_frame_len - 6] ^= 0x20;
    assert!(frames::decode_all(&bytes).is_err());
    assert!(frames::decode_all(&bytes[..bytes.len() - 3]).is_err());
}

#[test]
fn recorded_tool_stream_splits_arguments_and_names_the_tool_first() {
    let frames = recorded_stream("test_bedrock_model_iter_stream.yaml", 0);
    let start = frames.iter().find(|frame| frame.kind() == Some("contentBlockStart")).unwrap().json().unwrap();
    assert_eq!(start["start"]["toolUse"]["name"], "get_temperature");
    assert!(start["start"]["toolUse"]["toolUseId"].as_str().unwrap().starts_with("tooluse_"));
}

// ---------------------------------------------------------------------------------------------
// The emulator's bytes next to the recordings

#[tokio::test]
async fn text_stream_matches_the_recorded_frames() {
    let emulator = Emulator::start().await.unwrap();
    let recorded = fixture("test_bedrock_model_stream.yaml");
    let reply = post(&emulator, &model_path(PROFILE, "converse-stream"), &recorded[0].request_body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/vnd.amazon.eventstream"));
    let frames = reply.frames();
    assert_event_stream_shape(&frames);
    let expected = frames::decode_all(recorded[0].stream.as_ref().unwrap()).unwrap();
    assert_eq!(keys_by_event(&frames), keys_by_event(&expected));

    let text: String =
        frames.iter().filter_map(|frame| frame.json().unwrap()["delta"]["text"].as_str().map(str::to_owned)).collect();
    assert_eq!(text, "[system: You are a helpful chatbot.] You said: What is the capital of France?");
    let deltas: Vec<Value> = frames
        .iter()
        .filter(|frame| frame.kind() == Some("contentBlockDelta"))
        .map(|frame| frame.json().unwrap()["delta"]["text"].clone())
        .collect();
    assert_eq!(deltas[0], "[system:");
    assert_eq!(deltas[1], " You");
}

#[tokio::test]
async fn tool_stream_matches_the_recorded_frames() {
    let emulator = Emulator::start().await.unwrap();
    let recorded = fixture("test_bedrock_model_iter_stream.yaml");
    let reply = post(&emulator, &model_path(PROFILE, "converse-stream"), &recorded[0].request_body).await;
    assert_eq!(reply.status, 200);
    let frames = reply.frames();
    assert_event_stream_shape(&frames);

    let ours = keys_by_event(&frames);
    let theirs = keys_by_event(&frames::decode_all(recorded[0].stream.as_ref().unwrap()).unwrap());
    for kind in ["messageStart", "contentBlockStart", "contentBlockStop", "messageStop"] {
        assert_eq!(ours[kind], theirs[kind], "{kind} keys");
    }
    for kind in ["contentBlockDelta", "metadata"] {
        let tool_keys: BTreeSet<String> =
            theirs[kind].iter().filter(|key| !key.starts_with("delta.text")).cloned().collect();
        assert!(ours[kind].is_superset(&tool_keys), "{kind}: {:?} vs {tool_keys:?}", ours[kind]);
    }

    // Both tools of the prompt are called, each with its arguments split into fragments.
    let starts: Vec<Value> = frames
        .iter()
        .filter(|frame| frame.kind() == Some("contentBlockStart"))
        .map(|frame| frame.json().unwrap())
        .collect();
    let names: Vec<&str> = starts.iter().map(|start| start["start"]["toolUse"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["get_capital", "get_temperature"]);
    let fragments: Vec<String> = frames
        .iter()
        .filter_map(|frame| {
            let json = frame.json().unwrap();
            (json["contentBlockIndex"] == 0)
                .then(|| json["delta"]["toolUse"]["input"].as_str().map(str::to_owned))
                .flatten()
        })
        .collect();
    assert!(fragments.len() >= 2, "{fragments:?}");
    let arguments: Value = serde_json::from_str(&fragments.concat()).unwrap();
    assert_eq!(arguments, json!({ "country": "example" }));
    let stop = frames.iter().find(|frame| frame.kind() == Some("messageStop")).unwrap();
    assert_eq!(stop.json().unwrap()["stopReason"], "tool_use");
}

#[tokio::test]
async fn tool_result_turn_streams_like_the_recording() {
    let emulator = Emulator::start().await.unwrap();
    let recorded = fixture("test_bedrock_model_iter_stream.yaml");
    let reply = post(&emulator, &model_path(MISTRAL, "converse-stream"), &recorded[1].request_body).await;
    assert_eq!(reply.status, 200);
    let frames = reply.frames();
    assert_event_stream_shape(&frames);
    let theirs = keys_by_event(&frames::decode_all(recorded[1].stream.as_ref().unwrap()).unwrap());
    let ours = keys_by_event(&frames);
    assert_eq!(ours["contentBlockDelta"], theirs["contentBlockDelta"]);
    let text: String =
        frames.iter().filter_map(|frame| frame.json().unwrap()["delta"]["text"].as_str().map(str::to_owned)).collect();
    assert_eq!(text, "Tool results: name=get_temperature -> 30°C");
}

#[tokio::test]
async fn reasoning_stream_matches_the_recorded_reasoning_deltas() {
    let emulator = Emulator::start().await.unwrap();
    let recorded = fixture("test_bedrock_model_stream_empty_text_delta.yaml");
    let reply =
        post(&emulator, &model_path("mistral.magistral-small-2509", "converse-stream"), &recorded[0].request_body)
            .await;
    assert_eq!(reply.status, 200);
    let frames = reply.frames();
    assert_event_stream_shape(&frames);
    let theirs = keys_by_event(&frames::decode_all(recorded[0].stream.as_ref().unwrap()).unwrap());
    assert_eq!(keys_by_event(&frames), theirs);
    let reasoning: String = frames
        .iter()
        .filter_map(|frame| frame.json().unwrap()["delta"]["reasoningContent"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(reasoning, "Thinking about: Hi");
}

#[tokio::test]
async fn converse_replies_have_the_recorded_keys() {
    let emulator = Emulator::start().await.unwrap();

    let structured = &fixture("test_bedrock_native_output_mistral.yaml")[0];
    let reply = post(&emulator, &structured.path, &structured.request_body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(key_paths(&body), key_paths(structured.json.as_ref().unwrap()));
    let answer: Value =
        serde_json::from_str(body["output"]["message"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert!(answer["city"].is_string() && answer["country"].is_string());
    assert!(answer["population"].is_i64(), "{answer}");
    assert_eq!(body["stopReason"], "end_turn");

    let tool_turns = fixture("test_bedrock_media_kind_delivered_in_tool_resultmistral_document.yaml");
    assert!(tool_turns[0].path.contains("%3A"), "the recording's id is percent-encoded");
    let call = post(&emulator, &tool_turns[0].path, &tool_turns[0].request_body).await;
    assert_eq!(call.status, 200);
    let call = call.json();
    assert_eq!(key_paths(&call), key_paths(tool_turns[0].json.as_ref().unwrap()));
    assert_eq!(call["stopReason"], "tool_use");
    let tool_use = &call["output"]["message"]["content"][0]["toolUse"];
    assert_eq!(tool_use["name"], "get_file");
    assert_eq!(tool_use["input"], json!({}));
    let id = tool_use["toolUseId"].as_str().unwrap();
    let recorded_id = tool_turns[0].json.as_ref().unwrap()["output"]["message"]["content"][0]["toolUse"]["toolUseId"]
        .as_str()
        .unwrap();
    assert_eq!(id.len(), recorded_id.len());
    assert!(id.starts_with("tooluse_") && id[8..].chars().all(|c| c.is_ascii_alphanumeric()));

    let answer = post(&emulator, &tool_turns[1].path, &tool_turns[1].request_body).await;
    assert_eq!(answer.status, 200);
    let answer = answer.json();
    assert_eq!(key_paths(&answer), key_paths(tool_turns[1].json.as_ref().unwrap()));
    assert_eq!(answer["output"]["message"]["content"][0]["text"], "Tool results: name=get_file -> [document]");
    let last = emulator.last_request().unwrap();
    assert_eq!(last["modelId"], PROFILE);
    assert_eq!(last["operation"], "converse");
    assert_eq!(emulator.requests(), 3);
}

#[tokio::test]
async fn invalid_model_errors_match_the_recordings_on_both_operations() {
    let emulator = Emulator::start().await.unwrap();
    for name in ["test_bedrock_error.yaml", "test_bedrock_streaming_error.yaml"] {
        let recorded = &fixture(name)[0];
        let reply = post(&emulator, &recorded.path, &recorded.request_body).await;
        assert_eq!(reply.status, recorded.status, "{name}");
        assert_eq!(&reply.json(), recorded.json.as_ref().unwrap(), "{name}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("x-amzn-errortype"), Some("ValidationException"));
    }
    assert_eq!(emulator.requests(), 2);
}

#[tokio::test]
async fn http_errors_carry_status_and_error_type() {
    let emulator = Emulator::start().await.unwrap();
    let body = |text: &str| json!({ "messages": [{ "role": "user", "content": [{ "text": text }] }] }).to_string();
    for operation in ["converse", "converse-stream"] {
        let reply = post(&emulator, &model_path(MISTRAL, operation), &body("hi [[fault:not_ready]]")).await;
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("x-amzn-errortype"), Some("ModelNotReadyException"));
        assert!(reply.json()["message"].as_str().unwrap().contains("not ready"));
    }
    let reply = post(&emulator, &model_path(MISTRAL, "converse"), "{not json").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("x-amzn-errortype"), Some("ValidationException"));
    assert_eq!(emulator.last_request().unwrap()["rawBody"], "{not json");
}

#[tokio::test]
async fn midstream_exception_frames_follow_the_recorded_header_pattern() {
    let emulator = Emulator::start().await.unwrap();
    let body = json!({ "messages": [{ "role": "user", "content": [{ "text": "one two three four [[midstream:throttlingException]]" }] }] });
    let reply = post(&emulator, &model_path(MISTRAL, "converse-stream"), &body.to_string()).await;
    assert_eq!(reply.status, 200);
    let frames = reply.frames();
    assert_eq!(kinds(&frames), ["messageStart", "contentBlockDelta", "contentBlockDelta", "throttlingException"]);
    let exception = frames.last().unwrap();
    let names: Vec<&str> = exception.headers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, [":exception-type", ":content-type", ":message-type"]);
    assert_eq!(exception.header(":message-type"), Some("exception"));
    assert!(exception.json().unwrap()["message"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Through the real SDK

#[tokio::test]
async fn sdk_converses_with_text_and_system_prompt() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let output = client
        .converse()
        .model_id(MISTRAL)
        .system(SystemContentBlock::Text("Answer in French.".into()))
        .messages(user("Hello there"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        text_of(output.output().unwrap().as_message().unwrap()),
        "[system: Answer in French.] You said: Hello there"
    );
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    let usage = output.usage().unwrap();
    assert_eq!(usage.input_tokens(), 5);
    assert_eq!(usage.output_tokens(), 8);
    assert_eq!(usage.total_tokens(), 13);

    let second = converse_text(&client, MISTRAL, vec![user("Hello"), assistant("Hi"), user("Again [[slow:1]]")]).await;
    assert_eq!(second, "You said: Again (turn 2)");
}

#[tokio::test]
async fn sdk_gets_a_forced_tool_call_under_tool_choice_any() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .converse()
        .model_id(MISTRAL)
        .messages(user("Hello, can you help with T1001?"))
        .tool_config(payment_tools(Some(ToolChoice::Any(AnyToolChoice::builder().build()))))
        .send()
        .await
        .unwrap();
    assert_eq!(output.stop_reason(), &StopReason::ToolUse);
    let message = output.output().unwrap().as_message().unwrap();
    let calls: Vec<_> = message.content().iter().filter_map(|block| block.as_tool_use().ok()).collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name(), "retrieve_payment_status");
    assert_eq!(to_json(calls[0].input()), json!({ "transaction_id": "T1001" }));
}

#[tokio::test]
async fn sdk_tool_loop_reports_results_and_follows_then_chains() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let prompt = "What is the status of T1001? [[then:notify {\"channel\":\"email\"}]]";
    let first = client
        .converse()
        .model_id(MISTRAL)
        .messages(user(prompt))
        .tool_config(payment_tools(None))
        .send()
        .await
        .unwrap();
    let call_message = first.output().unwrap().as_message().unwrap().clone();
    let call = call_message.content()[0].as_tool_use().unwrap().clone();
    assert_eq!(call.name(), "retrieve_payment_status");

    let result = |id: &str, text: &str| {
        Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::ToolResult(
                ToolResultBlock::builder()
                    .tool_use_id(id)
                    .content(ToolResultContentBlock::Text(text.into()))
                    .build()
                    .unwrap(),
            ))
            .build()
            .unwrap()
    };
    let second = client
        .converse()
        .model_id(MISTRAL)
        .messages(user(prompt))
        .messages(call_message.clone())
        .messages(result(call.tool_use_id(), "paid"))
        .tool_config(payment_tools(None))
        .send()
        .await
        .unwrap();
    let chained_message = second.output().unwrap().as_message().unwrap().clone();
    let chained = chained_message.content()[0].as_tool_use().unwrap().clone();
    assert_eq!(chained.name(), "notify");
    assert_eq!(to_json(chained.input()), json!({ "channel": "email" }));
    assert_ne!(chained.tool_use_id(), call.tool_use_id());

    let third = client
        .converse()
        .model_id(MISTRAL)
        .messages(user(prompt))
        .messages(call_message)
        .messages(result(call.tool_use_id(), "paid"))
        .messages(chained_message)
        .messages(result(chained.tool_use_id(), "sent"))
        .tool_config(payment_tools(None))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(third.output().unwrap().as_message().unwrap()), "Tool results: name=notify -> sent");
}

#[tokio::test]
async fn sdk_collects_a_streamed_text_reply() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let output = client
        .converse_stream()
        .model_id(PROFILE)
        .messages(user("Tell me about streaming [[words:40]]"))
        .send()
        .await
        .unwrap();
    let collected = collect(output.stream).await.unwrap();
    let expected: Vec<String> = (1..=40).map(|i| format!("word{i}")).collect();
    assert_eq!(collected.text, expected.join(" "));
    assert_eq!(collected.text_deltas, 40);
    assert_eq!(collected.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(collected.output_tokens, Some(40));
    assert_eq!(emulator.last_request().unwrap()["operation"], "converse-stream");

    let streamed =
        client.converse_stream().model_id(MISTRAL).messages(user("same answer both ways")).send().await.unwrap();
    let streamed = collect(streamed.stream).await.unwrap().text;
    assert_eq!(streamed, converse_text(&client, MISTRAL, vec![user("same answer both ways")]).await);
}

#[tokio::test]
async fn sdk_streams_tool_arguments_in_fragments() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .converse_stream()
        .model_id(MISTRAL)
        .messages(user("Status and date of transaction T1001, please."))
        .tool_config(payment_tools(None))
        .send()
        .await
        .unwrap();
    let collected = collect(output.stream).await.unwrap();
    assert_eq!(collected.stop_reason, Some(StopReason::ToolUse));
    let names: Vec<&str> = collected.tools.iter().map(|(_, name, _)| name.as_str()).collect();
    assert_eq!(names, ["retrieve_payment_status", "retrieve_payment_date"]);
    for (id, _, fragments) in &collected.tools {
        assert!(id.starts_with("tooluse_"));
        assert!(fragments.len() > 2, "{fragments:?}");
        let arguments: Value = serde_json::from_str(&fragments.concat()).unwrap();
        assert_eq!(arguments, json!({ "transaction_id": "T1001" }));
    }
    assert_ne!(collected.tools[0].0, collected.tools[1].0);
}

#[tokio::test]
async fn sdk_maps_every_fault_to_its_error() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let faults = [
        ("throttle", "ThrottlingException"),
        ("validation", "ValidationException"),
        ("access_denied", "AccessDeniedException"),
        ("not_found", "ResourceNotFoundException"),
        ("model_timeout", "ModelTimeoutException"),
        ("model_error", "ModelErrorException"),
        ("not_ready", "ModelNotReadyException"),
        ("quota", "ServiceQuotaExceededException"),
        ("internal", "InternalServerException"),
        ("unavailable", "ServiceUnavailableException"),
    ];
    for (fault, code) in faults {
        let prompt = format!("hello [[fault:{fault}]]");
        let error =
            client.converse().model_id(MISTRAL).messages(user(&prompt)).send().await.unwrap_err().into_service_error();
        assert_eq!(error.code(), Some(code), "{fault}: {error:?}");
        assert!(error.message().is_some_and(|m| !m.is_empty()), "{fault}");
        let expected_variant = match &error {
            ConverseError::ThrottlingException(_) => "ThrottlingException",
            ConverseError::ValidationException(_) => "ValidationException",
            ConverseError::AccessDeniedException(_) => "AccessDeniedException",
            ConverseError::ResourceNotFoundException(_) => "ResourceNotFoundException",
            ConverseError::ModelTimeoutException(_) => "ModelTimeoutException",
            ConverseError::ModelErrorException(_) => "ModelErrorException",
            ConverseError::ModelNotReadyException(_) => "ModelNotReadyException",
            ConverseError::InternalServerException(_) => "InternalServerException",
            ConverseError::ServiceUnavailableException(_) => "ServiceUnavailableException",
            // Not modelled as a Converse error by the SDK: it arrives unhandled, code intact.
            _ => "ServiceQuotaExceededException",
        };
        assert_eq!(expected_variant, code);

        let stream_error = client
            .converse_stream()
            .model_id(MISTRAL)
            .messages(user(&prompt))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(stream_error.code(), Some(code), "stream {fault}");
    }
    let throttled = client
        .converse_stream()
        .model_id(MISTRAL)
        .messages(user("[[fault:throttle]]"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(throttled, ConverseStreamError::ThrottlingException(_)));
    assert_eq!(emulator.requests(), 21);
}

#[tokio::test]
async fn sdk_retry_gets_through_a_one_time_throttle() {
    let emulator = Emulator::start().await.unwrap();
    let text =
        converse_text(&client_with_attempts(&emulator, 2), MISTRAL, vec![user("retry me [[fault:throttle_once]]")])
            .await;
    assert_eq!(text, "You said: retry me");
    assert_eq!(emulator.requests(), 2);

    let error = client(&emulator)
        .converse()
        .model_id(MISTRAL)
        .messages(user("no retry [[fault:throttle_once]]"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(error, ConverseError::ThrottlingException(_)));
}

/// Whether a stream error is the variant a case expects.
type IsExpected = fn(&ConverseStreamOutputError) -> bool;

#[tokio::test]
async fn sdk_surfaces_midstream_exceptions_from_recv() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let cases: [(&str, IsExpected); 5] = [
        ("throttlingException", |e| matches!(e, ConverseStreamOutputError::ThrottlingException(_))),
        ("modelStreamErrorException", |e| matches!(e, ConverseStreamOutputError::ModelStreamErrorException(_))),
        ("internalServerException", |e| matches!(e, ConverseStreamOutputError::InternalServerException(_))),
        ("serviceUnavailableException", |e| matches!(e, ConverseStreamOutputError::ServiceUnavailableException(_))),
        ("validationException", |e| matches!(e, ConverseStreamOutputError::ValidationException(_))),
    ];
    for (kind, expected) in cases {
        let output = client
            .converse_stream()
            .model_id(MISTRAL)
            .messages(user(&format!("a b c d e f [[midstream:{kind}]]")))
            .send()
            .await
            .unwrap();
        let mut stream = output.stream;
        let mut events = 0;
        let error = loop {
            match stream.recv().await {
                Ok(Some(_)) => events += 1,
                Ok(None) => panic!("{kind}: the stream ended without the exception"),
                Err(error) => break error.into_service_error(),
            }
        };
        assert_eq!(events, 3, "{kind}: messageStart and two deltas come first");
        assert!(expected(&error), "{kind}: {error:?}");
        assert!(error.message().is_some_and(|m| !m.is_empty()));
    }

    // Converse ignores the directive.
    let text = converse_text(&client, MISTRAL, vec![user("calm [[midstream:throttle]]")]).await;
    assert_eq!(text, "You said: calm");
}

#[tokio::test]
async fn sdk_sees_the_first_events_before_a_slow_stream_ends() {
    let emulator = Emulator::start().await.unwrap();
    let started = Instant::now();
    let output = client(&emulator)
        .converse_stream()
        .model_id(MISTRAL)
        .messages(user("[[words:6]] [[delay:150]]"))
        .send()
        .await
        .unwrap();
    let mut stream = output.stream;
    stream.recv().await.unwrap().unwrap();
    stream.recv().await.unwrap().unwrap();
    let first_events = started.elapsed();
    let rest = collect(stream).await.unwrap();
    let total = started.elapsed();
    assert_eq!(rest.text, " word2 word3 word4 word5 word6");
    // 10 events, 150 ms apart: the whole stream takes 1.35 s, the first delta comes at 150 ms.
    assert!(first_events < Duration::from_millis(700), "{first_events:?}");
    assert!(total >= Duration::from_millis(1300), "{total:?}");
}

#[tokio::test]
async fn sdk_waits_for_a_slow_first_byte() {
    let emulator = Emulator::start().await.unwrap();
    let started = Instant::now();
    let text = converse_text(&client(&emulator), MISTRAL, vec![user("hi [[slow:300]]")]).await;
    assert_eq!(text, "You said: hi");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn sdk_accepts_profiles_and_arns_and_rejects_other_models() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    assert_eq!(converse_text(&client, PROFILE, vec![user("hi")]).await, "You said: hi");
    assert_eq!(emulator.last_request().unwrap()["modelId"], PROFILE);

    let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.mistral.pixtral-large-2502-v1:0";
    assert_eq!(converse_text(&client, arn, vec![user("hi")]).await, "You said: hi");
    assert_eq!(emulator.last_request().unwrap()["modelId"], arn);

    for model in ["us.does-not-exist-model-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"] {
        let error =
            client.converse().model_id(model).messages(user("hi")).send().await.unwrap_err().into_service_error();
        let ConverseError::ValidationException(error) = error else {
            panic!("{model}: expected a ValidationException, got {error:?}");
        };
        assert_eq!(error.message(), Some("The provided model identifier is invalid."));
    }
}

#[tokio::test]
async fn sdk_gets_validation_errors_for_malformed_conversations() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let error = client
        .converse()
        .model_id(MISTRAL)
        .messages(assistant("I start"))
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let ConverseError::ValidationException(error) = error else {
        panic!("expected a ValidationException, got {error:?}");
    };
    assert_eq!(
        error.message(),
        Some(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message."
        )
    );

    let error = client
        .converse_stream()
        .model_id(MISTRAL)
        .messages(user("hi"))
        .inference_config(InferenceConfiguration::builder().temperature(1.5).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(error, ConverseStreamError::ValidationException(_)), "{error:?}");
    assert!(error.message().unwrap().contains("inferenceConfig.temperature"));
}

#[tokio::test]
async fn sdk_sees_max_tokens_truncation() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .converse()
        .model_id(MISTRAL)
        .messages(user("one two three four five"))
        .inference_config(InferenceConfiguration::builder().max_tokens(3).build())
        .send()
        .await
        .unwrap();
    assert_eq!(output.stop_reason(), &StopReason::MaxTokens);
    assert_eq!(text_of(output.output().unwrap().as_message().unwrap()), "You said: one");
}

#[tokio::test]
async fn dropping_the_emulator_stops_it() {
    let emulator = Emulator::start().await.unwrap();
    let addr = emulator.addr();
    drop(emulator);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

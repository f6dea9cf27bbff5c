//! The real `aws-sdk-bedrockruntime` client pointed at an emulator, as the emulator's SDK tests
//! (`emulator_*.rs`) use it: message builders, a ConverseStream reader that keeps every kind of
//! delta apart, and InvokeModel helpers. JSON ⇄ `Document` is `shared::bedrock::document`.

use std::time::Duration;

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::{Credentials, Region};
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::operation::invoke_model::builders::InvokeModelFluentBuilder;
use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput, ConverseStreamTrace,
    Message, ReasoningContentBlockDelta, StopReason, TokenUsage,
};
use dev::emulator::Emulator;
use serde_json::Value;

/// The SDK client, one attempt per call so a fault surfaces as is.
pub fn client(emulator: &Emulator) -> Client {
    client_with_attempts(emulator, 1)
}

/// The SDK client with standard retries: `attempts` per call, 10 ms initial backoff.
pub fn client_with_attempts(emulator: &Emulator, attempts: u32) -> Client {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.url())
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(
            RetryConfig::standard().with_max_attempts(attempts).with_initial_backoff(Duration::from_millis(10)),
        )
        .build();
    Client::from_conf(config)
}

pub fn user(text: &str) -> Message {
    message(ConversationRole::User, text)
}

pub fn assistant(text: &str) -> Message {
    message(ConversationRole::Assistant, text)
}

fn message(role: ConversationRole, text: &str) -> Message {
    Message::builder().role(role).content(ContentBlock::Text(text.to_owned())).build().unwrap()
}

/// A user message of several text blocks.
pub fn user_blocks(texts: &[&str]) -> Message {
    let mut message = Message::builder().role(ConversationRole::User);
    for text in texts {
        message = message.content(ContentBlock::Text((*text).to_owned()));
    }
    message.build().unwrap()
}

/// The text blocks of a message, concatenated.
pub fn text_of(message: &Message) -> String {
    message.content().iter().filter_map(|block| block.as_text().ok().cloned()).collect()
}

/// A Converse call's text answer.
pub async fn converse_text(client: &Client, model: &str, messages: Vec<Message>) -> String {
    let output = client.converse().model_id(model).set_messages(Some(messages)).send().await.unwrap();
    text_of(output.output().unwrap().as_message().unwrap())
}

/// What a ConverseStream produced, delta kinds kept apart.
#[derive(Debug, Default)]
pub struct Streamed {
    /// (content block index, delta kind: `text`, `reasoning` or `tool`) of every delta, in order.
    pub deltas: Vec<(i32, &'static str)>,
    pub text: String,
    pub reasoning: String,
    pub tools: Vec<(String, String, String)>,
    pub stop_reason: Option<StopReason>,
    pub usage: Option<TokenUsage>,
    pub trace: Option<ConverseStreamTrace>,
}

pub async fn read_stream(
    mut stream: EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
) -> Result<Streamed, ConverseStreamOutputError> {
    let mut streamed = Streamed::default();
    while let Some(event) = stream.recv().await.map_err(|error| error.into_service_error())? {
        match event {
            ConverseStreamOutput::ContentBlockStart(start) => {
                if let Some(ContentBlockStart::ToolUse(tool)) = start.start() {
                    streamed.tools.push((tool.tool_use_id().to_owned(), tool.name().to_owned(), String::new()));
                }
            }
            ConverseStreamOutput::ContentBlockDelta(delta) => {
                let index = delta.content_block_index();
                match delta.delta() {
                    Some(ContentBlockDelta::Text(text)) => {
                        streamed.text.push_str(text);
                        streamed.deltas.push((index, "text"));
                    }
                    Some(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(text))) => {
                        streamed.reasoning.push_str(text);
                        streamed.deltas.push((index, "reasoning"));
                    }
                    Some(ContentBlockDelta::ToolUse(tool)) => {
                        streamed.tools.last_mut().unwrap().2.push_str(tool.input());
                        streamed.deltas.push((index, "tool"));
                    }
                    other => panic!("unexpected delta {other:?}"),
                }
            }
            ConverseStreamOutput::MessageStop(stop) => streamed.stop_reason = Some(stop.stop_reason().clone()),
            ConverseStreamOutput::Metadata(metadata) => {
                streamed.usage = metadata.usage().cloned();
                streamed.trace = metadata.trace().cloned();
            }
            _ => {}
        }
    }
    Ok(streamed)
}

/// An InvokeModel call's decoded JSON body.
pub async fn invoke(client: &Client, model: &str, body: &Value) -> Value {
    let output = invoke_call(client, model, body)
        .content_type("application/json")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{model}: {:?}", error.into_service_error()));
    assert_eq!(output.content_type(), "application/json");
    serde_json::from_slice(output.body().as_ref()).unwrap()
}

/// An InvokeModel call that must fail: its service error.
pub async fn invoke_error(client: &Client, model: &str, body: &Value) -> InvokeModelError {
    invoke_call(client, model, body).send().await.expect_err("the call fails").into_service_error()
}

fn invoke_call(client: &Client, model: &str, body: &Value) -> InvokeModelFluentBuilder {
    client.invoke_model().model_id(model).body(aws_smithy_types::Blob::new(body.to_string()))
}

/// The decoded JSON of every `chunk` of an InvokeModelWithResponseStream, or the error that
/// ended the stream (with the chunks before it).
pub async fn invoke_stream(
    client: &Client,
    model: &str,
    body: &Value,
) -> (Vec<Value>, Option<aws_sdk_bedrockruntime::types::error::ResponseStreamError>) {
    let output = client
        .invoke_model_with_response_stream()
        .model_id(model)
        .body(aws_smithy_types::Blob::new(body.to_string()))
        .send()
        .await
        .unwrap_or_else(|error| panic!("{model}: {:?}", error.into_service_error()));
    let mut stream = output.body;
    let mut chunks = Vec::new();
    loop {
        match stream.recv().await {
            Ok(Some(aws_sdk_bedrockruntime::types::ResponseStream::Chunk(part))) => {
                chunks.push(serde_json::from_slice(part.bytes().unwrap().as_ref()).unwrap());
            }
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) => return (chunks, None),
            Err(error) => return (chunks, Some(error.into_service_error())),
        }
    }
}

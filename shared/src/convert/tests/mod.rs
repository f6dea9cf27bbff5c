//! Conversion tests: requests (`request.rs`, `tools.rs`, `output_tool.rs`) and answers (`response.rs`), with the shared
//! configuration they run against.

mod output_tool;
mod request;
mod response;
mod tools;

use aws_sdk_bedrockruntime::types::Message;
use serde_json::Value;

use crate::api::request::ChatRequest;
use crate::config::{Config, Env};
use crate::convert::{Prepared, prepare};
use crate::error::ApiError;

fn config() -> Config {
    Config::load(&Env::from_pairs([
        (
            "BEDROCK_MODEL_IDS",
            "mistral.mistral-large-2407-v1:0,mistral.mistral-7b-instruct-v0:2,mistral.mistral-large-3-675b-instruct,us.mistral.pixtral-large-2502-v1:0",
        ),
        ("MAX_OUTPUT_TOKENS", "4096"),
    ]))
    .unwrap()
}

pub(super) fn run(body: Value) -> Result<Prepared, ApiError> {
    let config = config();
    let request = ChatRequest::from_slice(body.to_string().as_bytes())?;
    let planned = crate::chat::plan(&config, &request, crate::model_choice::RouteKind::Chat, None)?;
    prepare(&request, planned.plan.first(), &config)
}

pub(super) fn ok(body: Value) -> Prepared {
    run(body).unwrap_or_else(|e| panic!("expected success, got {e}"))
}

pub(super) fn err(body: Value) -> ApiError {
    run(body).expect_err("expected an error")
}

pub(super) fn texts(message: &Message) -> Vec<&str> {
    message.content().iter().filter_map(|b| b.as_text().ok().map(String::as_str)).collect()
}

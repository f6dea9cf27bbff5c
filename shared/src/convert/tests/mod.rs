//! Conversion tests: requests (`request.rs`) and answers (`response.rs`), with the shared
//! configuration they run against.

mod request;
mod response;

use crate::config::{Config, Env};

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

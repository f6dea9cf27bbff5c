//! Mapping between the chat-completions API and Bedrock's Converse API, both ways.

pub mod request;
pub mod response;

pub use request::{Conversation, Prepared, prepare};
pub use response::{completion_from_converse, finish_reason, usage_from_tokens};

#[cfg(test)]
mod tests;

//! The OpenAI Responses API (`POST /v1/responses`, `/stream/v1/responses`) as a second wire
//! format of the one chat use case: a Responses request is translated into a chat-completions
//! request ([`request`]), answered by [`crate::chat`] exactly as chat completions are (routing,
//! fallbacks, guardrails, keys, metrics), and the answer is translated back: a whole
//! `chat.completion` into a response object ([`output`]), a chat chunk stream into the Responses
//! event sequence ([`events`]).
//!
//! Stateless: nothing is stored, so `store: true`, `previous_response_id` and `conversation`
//! are refused with a 400 that says to send the whole conversation in `input`.

pub mod events;
mod input;
pub mod output;
pub mod request;
mod tools;

pub use request::{Translated, in_responses_terms, translate};

/// The header that lists the request's tools the gateway dropped (hosted tools it cannot run),
/// comma-separated, when there were any.
pub const DROPPED_TOOLS: &str = "x-dropped-tools";

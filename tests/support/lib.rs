//! Test support for every test and bench of this crate, in one place: the settings every test
//! starts from ([`env`]), the dev server over the Bedrock emulator driven over real HTTP
//! ([`Harness`]), a function's state over an emulator ([`app_state`]), the sample Lambda events
//! ([`sample_events`]), local servers ([`serve`]), the one Lambda Runtime API stub
//! ([`runtime_api`]) and functions on it under `AWS_LAMBDA_MAX_CONCURRENCY` ([`concurrent`]), the real SDK against the emulator ([`sdk`]), ConverseStream frames to queue
//! on it ([`frames`]), the caller's side of server-sent events ([`sse`]), the tool-loop tests'
//! helpers ([`tools`]), the routing report's arithmetic ([`accounts`]), `template.yaml` for the drift tests ([`template`]), and for the benches: what they send ([`workload`]), the release binaries
//! as processes ([`processes`]) and what they measure with ([`measure`]).
//! The keys tests' DynamoDB, moto's server as a process with the real SDK client on it: [`dynamo`].

pub mod accounts;
pub mod batch;
pub mod concurrent;
pub mod dynamo;
mod events;
pub mod frames;
mod harness;
pub mod measure;
pub mod processes;
pub mod responses;
pub mod runtime_api;
pub mod sdk;
mod serve;
pub mod sse;
pub mod template;
pub mod tools;
pub mod workload;

pub use events::{sample_event, sample_events, sample_requests};
pub use harness::{BATCH_VARS, Harness, Reply, app_state, chat, env, stream_request};
pub use serve::{Served, serve, serve_stream_routes};

//! Everything about Bedrock and the chat-completions HTTP API, shared by every function.
//!
//! Handlers stay thin: a function's `main` builds an [`AppState`] once and serves one of the
//! routers in [`routes`].

pub mod api;
pub mod batch;
pub mod bedrock;
pub mod catalog;
pub mod chat;
pub mod config;
pub mod convert;
pub mod cost;
pub mod error;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod model_choice;
pub mod responses;
pub mod routes;
pub mod runtime;
pub mod schema;
pub mod state;
pub mod stream;
pub mod tools;
pub mod triggers;

pub use config::Config;
pub use error::ApiError;
pub use state::{AppState, ToolsState};

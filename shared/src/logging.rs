//! Structured JSON logs via `tracing`, level from `RUST_LOG` (default `info`).
//!
//! What we log is metadata (model, status, tokens, latency); prompts, answers, tool arguments
//! and secrets are never logged at info level.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init`: the dev server and tests may call this more than once.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .flatten_event(true)
        .try_init();
}

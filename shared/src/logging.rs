//! Structured JSON logs via `tracing`, level from `RUST_LOG` (default `info`).
//!
//! What we log is metadata (model, status, tokens, latency); prompts, answers, tool arguments
//! and secrets are never logged at info level.
//!
//! Each line costs CPU time the function is billed for, so nothing is formatted that nobody
//! reads: on Lambda (`AWS_LAMBDA_RUNTIME_API` set) CloudWatch stamps every line, so there is no
//! timestamp of our own; and lambda_runtime's per-invocation span (request id, X-Ray id) is
//! filtered out unless `RUST_LOG` names `lambda_runtime`, since the lines do not print spans.

use tracing_subscriber::EnvFilter;

/// The span lambda_runtime opens around every invocation, at info level.
const RUNTIME_SPANS: &str = "lambda_runtime=warn";

pub fn init() {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    // `try_init`: the dev server and tests may call this more than once.
    let builder = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter(&rust_log))
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .flatten_event(true);
    let _ = if on_lambda { builder.without_time().try_init() } else { builder.try_init() };
}

/// `RUST_LOG` (default `info`), with lambda_runtime's spans off unless it names them.
fn filter(rust_log: &str) -> EnvFilter {
    let directives = if rust_log.trim().is_empty() { "info" } else { rust_log };
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    if rust_log.contains("lambda_runtime") {
        return filter;
    }
    filter.add_directive(RUNTIME_SPANS.parse().expect("a valid directive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_spans_are_off_unless_rust_log_names_them() {
        assert_eq!(filter("").to_string(), "lambda_runtime=warn,info");
        assert_eq!(filter("debug").to_string(), "lambda_runtime=warn,debug");
        assert_eq!(filter("info,lambda_runtime=info").to_string(), "lambda_runtime=info,info");
    }
}

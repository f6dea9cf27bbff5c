//! One CloudWatch Embedded Metric Format record per request: tokens, cost, latency, time to first
//! token, tool calls, escalations and the error class, never prompt or answer text.
//!
//! EMF is a JSON log line with an `_aws` block that CloudWatch turns into metrics, so the
//! functions need no metrics API call (and no IAM for one). The names here are a contract with
//! `template.yaml`: its dashboard and alarms use exactly these metrics and dimensions (a test
//! reads the template and checks both directions).

mod observation;
mod record;

pub use observation::Observation;
pub use record::{Record, capture, captured};

/// CloudWatch namespace of the metrics (`METRICS_NAMESPACE`, default [`DEFAULT_NAMESPACE`]).
pub const DEFAULT_NAMESPACE: &str = "MistralBedrock";

/// Dimension names: which function, which model answered, which route.
pub const FUNCTION: &str = "Function";
pub const MODEL: &str = "Model";
pub const ROUTE: &str = "Route";

/// The dimension sets every record declares: per model and route (cost per model, tokens,
/// latency), and per function alone (alarms and by-function views need a fixed dimension set).
/// The property that names the caller's API key (its public id) when keys are on.
pub const KEY_ID: &str = "KeyId";

pub const DIMENSION_SETS: [&[&str]; 2] = [&[FUNCTION, MODEL, ROUTE], &[FUNCTION]];

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    /// Dollars: CloudWatch has no currency unit.
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// One metric of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
}

const fn metric(name: &'static str, unit: Unit) -> Metric {
    Metric { name, unit }
}

/// 1 per request.
pub const REQUESTS: Metric = metric("Requests", Unit::Count);
/// Input tokens over every Bedrock call of the request (triage and escalations included).
pub const INPUT_TOKENS: Metric = metric("InputTokens", Unit::Count);
pub const OUTPUT_TOKENS: Metric = metric("OutputTokens", Unit::Count);
/// What the request cost in USD, where the prices are known.
pub const COST: Metric = metric("CostUSD", Unit::None);
/// What routing saved against the top tier (can be negative).
pub const SAVINGS: Metric = metric("SavingsUSD", Unit::None);
/// From the request to the last byte of the answer.
pub const LATENCY: Metric = metric("Latency", Unit::Milliseconds);
/// Time spent waiting on Bedrock, summed over the request's calls.
pub const BEDROCK_LATENCY: Metric = metric("BedrockLatency", Unit::Milliseconds);
/// `Latency` minus `BedrockLatency`: the gateway's own share.
pub const OVERHEAD: Metric = metric("GatewayOverhead", Unit::Milliseconds);
/// Streams only: from the request to the first token sent.
pub const TIME_TO_FIRST_TOKEN: Metric = metric("TimeToFirstToken", Unit::Milliseconds);
pub const TOOL_CALLS: Metric = metric("ToolCalls", Unit::Count);
/// Attempts that routing escalated or fell back from.
pub const ESCALATIONS: Metric = metric("Escalations", Unit::Count);
/// 1 when the answer was a 5xx (or a stream ended by an error event).
pub const SERVER_ERRORS: Metric = metric("ServerErrors", Unit::Count);
/// 1 when the answer was a 429 (Bedrock throttling or quota).
pub const THROTTLES: Metric = metric("Throttles", Unit::Count);
/// 1 when the answer was another 4xx.
pub const CLIENT_ERRORS: Metric = metric("ClientErrors", Unit::Count);

/// Every metric a record may carry.
pub const ALL: &[Metric] = &[
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    COST,
    SAVINGS,
    LATENCY,
    BEDROCK_LATENCY,
    OVERHEAD,
    TIME_TO_FIRST_TOKEN,
    TOOL_CALLS,
    ESCALATIONS,
    SERVER_ERRORS,
    THROTTLES,
    CLIENT_ERRORS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
        }
    }
}

//! One CloudWatch Embedded Metric Format record per request: tokens, cost, latency, time to first
//! token, tool calls, escalations and the error class, never prompt or answer text.
//!
//! EMF is a JSON log line with an `_aws` block that CloudWatch turns into metrics, so the
//! functions need no metrics API call (and no IAM for one). The names here are a contract with
//! `template.yaml`: its dashboard and alarms use exactly these metrics and dimensions (a test
//! reads the template and checks both directions).

use std::io::Write;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::api::response::Usage;
use crate::api::routing::{Outcome, RoutingReport};

/// CloudWatch namespace of the metrics (`METRICS_NAMESPACE`, default [`DEFAULT_NAMESPACE`]).
pub const DEFAULT_NAMESPACE: &str = "MistralBedrock";

/// Dimension names: which function, which model answered, which route.
pub const FUNCTION: &str = "Function";
pub const MODEL: &str = "Model";
pub const ROUTE: &str = "Route";

/// The dimension sets every record declares: per model and route (cost per model, tokens,
/// latency), and per function alone (alarms and by-function views need a fixed dimension set).
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

/// The metrics of one request, with its dimensions and a few non-metric properties
/// (`ErrorClass`, `RoutingPolicy`) that Logs Insights can query.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub function: String,
    pub model: String,
    pub route: String,
    values: Vec<(Metric, f64)>,
    properties: Map<String, Value>,
}

impl Record {
    pub fn new(function: impl Into<String>, model: impl Into<String>, route: impl Into<String>) -> Self {
        Record {
            function: function.into(),
            model: model.into(),
            route: route.into(),
            values: vec![(REQUESTS, 1.0)],
            properties: Map::new(),
        }
    }

    /// Sets `metric` (a second call replaces the value).
    pub fn set(&mut self, metric: Metric, value: f64) -> &mut Self {
        match self.values.iter_mut().find(|(m, _)| *m == metric) {
            Some(slot) => slot.1 = value,
            None => self.values.push((metric, value)),
        }
        self
    }

    /// A property that is not a metric (no prompt or answer text belongs here).
    pub fn property(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.values.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v)
    }

    /// The EMF JSON object, stamped `timestamp_ms`.
    pub fn to_emf(&self, namespace: &str, timestamp_ms: u64) -> Value {
        let definitions: Vec<Value> =
            self.values.iter().map(|(m, _)| json!({"Name": m.name, "Unit": m.unit.as_str()})).collect();
        let mut root = self.properties.clone();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": DIMENSION_SETS,
                    "Metrics": definitions,
                }],
            }),
        );
        root.insert(FUNCTION.into(), self.function.clone().into());
        root.insert(MODEL.into(), self.model.clone().into());
        root.insert(ROUTE.into(), self.route.clone().into());
        for (metric, value) in &self.values {
            root.insert(metric.name.into(), json!(value));
        }
        Value::Object(root)
    }

    /// Writes the record as one line on stdout, where Lambda sends it to CloudWatch Logs (or
    /// keeps it, after [`capture`]).
    pub fn emit(&self, namespace: &str) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let emf = self.to_emf(namespace, now as u64);
        if let Some(kept) = CAPTURED.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            kept.push(emf);
            return;
        }
        let mut line = serde_json::to_vec(&emf).unwrap_or_default();
        line.push(b'\n');
        // One write of the whole line, so concurrent requests never interleave their records.
        let _ = std::io::stdout().lock().write_all(&line);
    }
}

static CAPTURED: std::sync::Mutex<Option<Vec<Value>>> = std::sync::Mutex::new(None);

/// Keeps the records of this process in memory instead of writing them, so end-to-end tests can
/// read what each request recorded.
pub fn capture() {
    CAPTURED.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Vec::new);
}

/// The records kept since [`capture`] whose namespace is `namespace`.
pub fn captured(namespace: &str) -> Vec<Value> {
    let kept = CAPTURED.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter().flatten().filter(|emf| emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace).cloned().collect()
}

/// What one request did, as its handler saw it; the HTTP layer adds status and latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The model that answered (or was asked, when none did).
    pub model: Option<String>,
    /// Every Bedrock call of the request, summed.
    pub usage: Option<Usage>,
    pub savings_usd: Option<f64>,
    pub escalations: usize,
    pub bedrock_time: Duration,
    pub time_to_first_token: Option<Duration>,
    pub tool_calls: usize,
    pub policy: Option<&'static str>,
}

impl Observation {
    /// An answered request: the answering model, the summed usage and the routing report.
    pub fn answered(
        model: &str,
        usage: Usage,
        routing: Option<&RoutingReport>,
        bedrock_time: Duration,
        tool_calls: usize,
    ) -> Self {
        Observation {
            model: Some(model.to_owned()),
            usage: Some(usage),
            savings_usd: routing.and_then(|r| r.savings_usd),
            escalations: routing.map_or(0, |r| r.attempts.iter().filter(|a| a.outcome != Outcome::Answered).count()),
            bedrock_time,
            time_to_first_token: None,
            tool_calls,
            policy: routing.map(|r| r.policy),
        }
    }

    /// The record of a request that ended with `status` (and the error `code` when it failed)
    /// after `latency`.
    pub fn record(&self, function: &str, route: &str, status: u16, code: Option<&str>, latency: Duration) -> Record {
        let mut record = Record::new(function, self.model.as_deref().unwrap_or("none"), route);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        record.set(LATENCY, ms(latency));
        if let Some(usage) = self.usage {
            record.set(INPUT_TOKENS, usage.prompt_tokens as f64).set(OUTPUT_TOKENS, usage.completion_tokens as f64);
            if let Some(cost) = usage.cost_usd {
                record.set(COST, cost);
            }
        }
        if let Some(savings) = self.savings_usd {
            record.set(SAVINGS, savings);
        }
        if self.bedrock_time > Duration::ZERO {
            record.set(BEDROCK_LATENCY, ms(self.bedrock_time));
            record.set(OVERHEAD, ms(latency.saturating_sub(self.bedrock_time)));
        }
        if let Some(ttft) = self.time_to_first_token {
            record.set(TIME_TO_FIRST_TOKEN, ms(ttft));
        }
        record.set(TOOL_CALLS, self.tool_calls as f64).set(ESCALATIONS, self.escalations as f64);
        record
            .set(SERVER_ERRORS, f64::from(u8::from(status >= 500)))
            .set(THROTTLES, f64::from(u8::from(status == 429)))
            .set(CLIENT_ERRORS, f64::from(u8::from((400..500).contains(&status) && status != 429)));
        record.property("StatusCode", status).property("ErrorClass", code.unwrap_or("none"));
        if let Some(policy) = self.policy {
            record.property("RoutingPolicy", policy);
        }
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_valid_emf_with_definitions_matching_values() {
        let mut record = Record::new("converse", "mistral.mistral-large-2407-v1:0", "/v1/chat/completions");
        record.set(INPUT_TOKENS, 12.0).set(COST, 0.0001).property("ErrorClass", "none");
        let emf = record.to_emf("Test", 1_700_000_000_000);
        let aws = &emf["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000_u64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Test");
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                assert!(emf[dimension.as_str().unwrap()].is_string(), "dimension {dimension} has a value");
            }
        }
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Requests", "InputTokens", "CostUSD"]);
        for name in names {
            assert!(emf[name].is_number(), "{name} has a value");
        }
        assert_eq!(emf["ErrorClass"], "none");
    }

    #[test]
    fn an_observation_becomes_counts_latencies_and_error_flags() {
        let observation = Observation {
            model: Some("mistral.m".into()),
            usage: Some(Usage { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost_usd: Some(0.25) }),
            bedrock_time: Duration::from_millis(80),
            time_to_first_token: Some(Duration::from_millis(30)),
            escalations: 2,
            ..Observation::default()
        };
        let record = observation.record(
            "stream",
            "/stream/v1/chat/completions",
            429,
            Some("throttled"),
            Duration::from_millis(100),
        );
        assert_eq!(record.value(INPUT_TOKENS), Some(10.0));
        assert_eq!(record.value(COST), Some(0.25));
        assert_eq!(record.value(OVERHEAD), Some(20.0));
        assert_eq!(record.value(TIME_TO_FIRST_TOKEN), Some(30.0));
        assert_eq!(record.value(ESCALATIONS), Some(2.0));
        assert_eq!(
            (record.value(THROTTLES), record.value(SERVER_ERRORS), record.value(CLIENT_ERRORS)),
            (Some(1.0), Some(0.0), Some(0.0))
        );
        let emf = record.to_emf("N", 0);
        assert_eq!(emf["ErrorClass"], "throttled");
        assert_eq!(emf["Model"], "mistral.m");
    }

    #[test]
    fn metric_names_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
        }
    }
}

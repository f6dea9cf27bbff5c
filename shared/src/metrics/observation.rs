//! What one request did (model, tokens, cost, time on Bedrock, escalations) and the record it
//! becomes once its status and latency are known.

use std::time::Duration;

use super::*;
use crate::api::routing::{Outcome, RoutingReport};
use crate::api::usage::Usage;

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
    /// The caller's key (its public id), when keys are on: a property, not a dimension, so
    /// cost per key costs no custom metrics (the dashboard sums it with Logs Insights).
    pub key_id: Option<String>,
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
            escalations: routing.map_or(0, |r| {
                r.attempts.iter().filter(|a| a.outcome.is_call() && a.outcome != Outcome::Answered).count()
            }),
            bedrock_time,
            time_to_first_token: None,
            tool_calls,
            policy: routing.map(|r| r.policy),
            key_id: None,
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
        if let Some(key_id) = &self.key_id {
            record.property(KEY_ID, key_id.as_str());
        }
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! The `routing` object of an answer: which models were asked, what became of each attempt,
//! what it cost, and what routing saved against the top tier.

use serde::Serialize;

use super::usage::Usage;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoutingReport {
    /// `cascade`, `triage`, `rules`, or `fixed` when the caller named the model.
    pub policy: &'static str,
    /// Every model call that could have answered, in order.
    pub attempts: Vec<AttemptReport>,
    /// The triage call, under `triage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageReport>,
    /// What the answer's tokens would have cost on the top tier minus what every call of the
    /// request cost; negative when routing cost more. Absent when a price is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savings_usd: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttemptReport {
    pub model: String,
    pub outcome: Outcome,
    /// Why the attempt escalated, failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// This attempt's answer is the answer.
    Answered,
    /// It answered, a check failed, and the next tier was asked.
    Escalated,
    /// Bedrock failed before any answer (throttled, not ready, unavailable, timed out).
    Failed,
    /// Not called: the model cannot take this request (the reason says what it lacks).
    Skipped,
}

impl Outcome {
    /// True when the model was called (and may have cost something).
    pub fn is_call(self) -> bool {
        self != Outcome::Skipped
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TriageReport {
    pub model: String,
    /// `easy`, `medium` or `hard`; absent when triage failed (then the cheapest tier answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

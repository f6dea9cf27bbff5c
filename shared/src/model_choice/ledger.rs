//! The honest accounting of one request's model calls: each attempt with its outcome, tokens and
//! cost, the triage call, the sums the answer's `usage` shows, and the saving against the top
//! tier.

use aws_sdk_bedrockruntime::types::TokenUsage;

use super::protocol::Difficulty;
use crate::api::routing::{AttemptReport, Outcome, RoutingReport, TriageReport};
use crate::api::usage::Usage;
use crate::catalog::Price;
use crate::config::AllowedModel;
use crate::config::routing::Policy;
use crate::convert::usage_from_tokens;
use crate::cost;

#[derive(Debug, Clone)]
pub struct Ledger {
    policy: Policy,
    /// The price savings are measured against: the top capable tier's.
    baseline: Option<Price>,
    attempts: Vec<AttemptReport>,
    triage: Option<TriageReport>,
}

impl Ledger {
    pub fn new(policy: Policy, baseline: Option<Price>) -> Self {
        Ledger { policy, baseline, attempts: Vec::new(), triage: None }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Records a call of `model` that produced `tokens` (none for a call that failed).
    pub fn record(
        &mut self,
        model: &AllowedModel,
        outcome: Outcome,
        reason: Option<String>,
        tokens: Option<&TokenUsage>,
    ) {
        let usage = usage_of(model, tokens);
        self.attempts.push(AttemptReport { model: model.id.clone(), outcome, reason, cost_usd: usage.cost_usd, usage });
    }

    /// Records a model that was not called because it cannot take the request, and why.
    pub fn record_skipped(&mut self, model: &AllowedModel, reason: String) {
        self.record(model, Outcome::Skipped, Some(reason), None);
    }

    /// Records the answer of a stream, once its usage is known.
    pub fn record_answered(&mut self, model_id: &str, usage: Usage) {
        self.attempts.push(AttemptReport {
            model: model_id.to_owned(),
            outcome: Outcome::Answered,
            reason: None,
            cost_usd: usage.cost_usd,
            usage,
        });
    }

    /// Records the triage call: what it answered, or why it gave nothing usable.
    pub fn record_triage(
        &mut self,
        model: &AllowedModel,
        difficulty: Result<Difficulty, String>,
        tokens: Option<&TokenUsage>,
    ) {
        let usage = usage_of(model, tokens);
        let (difficulty, reason) = match difficulty {
            Ok(d) => (Some(d.label()), None),
            Err(why) => (None, Some(why)),
        };
        self.triage =
            Some(TriageReport { model: model.id.clone(), difficulty, reason, cost_usd: usage.cost_usd, usage });
    }

    /// The sum over every call, triage included; no cost when any call's price is unknown.
    pub fn usage(&self) -> Usage {
        let mut total = Usage { cost_usd: Some(0.0), ..Usage::default() };
        for usage in self.attempts.iter().map(|a| a.usage).chain(self.triage.as_ref().map(|t| t.usage)) {
            total += usage;
        }
        total.cost_usd = total.cost_usd.map(round);
        total
    }

    /// True once an attempt has answered.
    pub fn has_answer(&self) -> bool {
        self.attempts.iter().any(|a| a.outcome == Outcome::Answered)
    }

    /// Calls that did not give the answer: escalations and failures (skipped models were not
    /// called).
    pub fn escalations(&self) -> usize {
        self.attempts.iter().filter(|a| a.outcome.is_call() && a.outcome != Outcome::Answered).count()
    }

    pub fn attempts(&self) -> &[AttemptReport] {
        &self.attempts
    }

    /// What the answer's tokens would have cost on the top tier, minus what every call cost.
    /// The answer's tokens are those of every answered call: a tool loop answers once per step,
    /// and the top tier would have had to make each of those steps too.
    pub fn savings(&self) -> Option<f64> {
        let baseline = self.baseline.as_ref()?;
        let answered: Vec<&AttemptReport> = self.attempts.iter().filter(|a| a.outcome == Outcome::Answered).collect();
        if answered.is_empty() {
            return None;
        }
        let on_top: f64 =
            answered.iter().map(|a| cost::usd(a.usage.prompt_tokens, a.usage.completion_tokens, baseline)).sum();
        Some(round(on_top - self.usage().cost_usd?))
    }

    pub fn report(&self) -> RoutingReport {
        RoutingReport {
            policy: self.policy.name(),
            attempts: self.attempts.clone(),
            triage: self.triage.clone(),
            savings_usd: self.savings(),
        }
    }
}

/// Tokens and cost of one call. A call that failed before answering used no tokens and costs
/// nothing, whether or not its price is known.
fn usage_of(model: &AllowedModel, tokens: Option<&TokenUsage>) -> Usage {
    match tokens {
        Some(tokens) => usage_from_tokens(Some(tokens), model.price.as_ref()),
        None => Usage { cost_usd: Some(0.0), ..Usage::default() },
    }
}

/// Dollar amounts to 1e-9, like each call's cost, so sums read cleanly.
fn round(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Env};

    fn tokens(input: i32, output: i32) -> TokenUsage {
        TokenUsage::builder().input_tokens(input).output_tokens(output).total_tokens(input + output).build().unwrap()
    }

    #[test]
    fn sums_every_call_and_measures_the_saving_against_the_top_tier() {
        let config = Config::load(&Env::from_pairs([(
            "BEDROCK_MODEL_IDS",
            "mistral.ministral-3-3b-instruct,mistral.mistral-large-2407-v1:0",
        )]))
        .unwrap();
        let (small, large) = (&config.models[0], &config.models[1]);
        let mut ledger = Ledger::new(Policy::Triage, large.price);
        ledger.record_triage(small, Ok(Difficulty::Easy), Some(&tokens(100, 5)));
        ledger.record(small, Outcome::Failed, Some("throttled".into()), None);
        ledger.record(small, Outcome::Answered, None, Some(&tokens(1000, 500)));
        let usage = ledger.usage();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1100, 505, 1605));
        // Ministral 3B: $0.10/$0.10 per 1M; Mistral Large 2: $4/$12.
        let paid = (1100.0 * 0.10 + 505.0 * 0.10) / 1e6;
        assert!((usage.cost_usd.unwrap() - paid).abs() < 1e-12, "{usage:?}");
        let on_top = (1000.0 * 4.0 + 500.0 * 12.0) / 1e6;
        assert!((ledger.savings().unwrap() - (on_top - paid)).abs() < 1e-9);
        assert_eq!(ledger.escalations(), 1);
        let report = ledger.report();
        assert_eq!(report.policy, "triage");
        assert_eq!(report.triage.unwrap().difficulty, Some("easy"));
        assert_eq!(report.attempts[0].cost_usd, Some(0.0), "a failed call costs nothing");
    }

    #[test]
    fn an_unknown_price_gives_no_cost_and_no_saving() {
        let config = Config::load(&Env::from_pairs([(
            "BEDROCK_MODEL_IDS",
            "mistral.future-v1:0,mistral.mistral-large-2407-v1:0",
        )]))
        .unwrap();
        let mut ledger = Ledger::new(Policy::Cascade, config.models[1].price);
        ledger.record(&config.models[0], Outcome::Answered, None, Some(&tokens(10, 10)));
        assert_eq!(ledger.usage().cost_usd, None);
        assert_eq!(ledger.savings(), None);
    }

    #[test]
    fn a_tool_loop_saves_against_every_answered_step_on_the_top_tier() {
        let config = Config::load(&Env::from_pairs([(
            "BEDROCK_MODEL_IDS",
            "mistral.ministral-3-3b-instruct,mistral.mistral-large-2407-v1:0",
        )]))
        .unwrap();
        let (small, large) = (&config.models[0], &config.models[1]);
        // Three steps answered by the top tier itself: routing saved nothing, and lost nothing.
        let mut top_only = Ledger::new(Policy::Fixed, large.price);
        for _ in 0..3 {
            top_only.record(large, Outcome::Answered, None, Some(&tokens(1000, 100)));
        }
        assert_eq!(top_only.savings(), Some(0.0));
        // Two steps on the small tier, a skipped fallback: the saving is both steps' top-tier price
        // less what they cost.
        let mut cheap = Ledger::new(Policy::Cascade, large.price);
        cheap.record(small, Outcome::Answered, None, Some(&tokens(1000, 100)));
        cheap.record_skipped(large, "cannot take it".into());
        cheap.record(small, Outcome::Answered, None, Some(&tokens(2000, 100)));
        let on_top = (3000.0 * 4.0 + 200.0 * 12.0) / 1e6;
        let paid = (3000.0 * 0.10 + 200.0 * 0.10) / 1e6;
        assert!((cheap.savings().unwrap() - (on_top - paid)).abs() < 1e-9, "{:?}", cheap.savings());
        assert_eq!(cheap.escalations(), 0, "a skipped model was not called");
        assert_eq!(cheap.report().attempts[1].outcome, Outcome::Skipped);
    }
}

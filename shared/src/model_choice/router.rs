//! Runs a [`Plan`]: asks the models in order, falls back on faults, escalates on failed checks,
//! and keeps the ledger of every call, within the request's time budget.
//!
//! A tier's model is tried first, then its fallbacks (`MODEL_FALLBACKS`) when Bedrock throttles,
//! is not ready, is unavailable or times out before answering; when all of them fault, `auto`
//! moves up to the next tier. Under `cascade` an answer that fails a check escalates to the next
//! tier; the top tier's answer is taken as it is. The position is kept across calls, so a tool
//! loop that escalated once stays at the stronger tier for its later steps.

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};
use tokio::time::{Instant, timeout_at};

use super::checks::Expectations;
use super::ledger::Ledger;
use super::plan::Plan;
use super::protocol::ESCALATION_INSTRUCTION;
use super::settings::Policy;
use super::triage;
use crate::api::request::ChatRequest;
use crate::api::routing::Outcome;
use crate::bedrock::{Bedrock, ModelRequest};
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;
use crate::stream::{self, Started, fallback};

pub struct Router<'c> {
    config: &'c Config,
    bedrock: &'c dyn Bedrock,
    plan: Plan<'c>,
    ledger: Ledger,
    deadline: Instant,
    /// Where in the ladder the next call starts.
    position: usize,
    /// Time spent waiting on Bedrock, for the metrics.
    bedrock_time: Duration,
}

impl<'c> Router<'c> {
    pub fn new(config: &'c Config, bedrock: &'c dyn Bedrock, plan: Plan<'c>, deadline: Instant) -> Self {
        let ledger = Ledger::new(plan.policy, plan.top.and_then(|m| m.price));
        Router { config, bedrock, plan, ledger, deadline, position: 0, bedrock_time: Duration::ZERO }
    }

    pub fn plan(&self) -> &Plan<'c> {
        &self.plan
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn into_ledger(self) -> Ledger {
        self.ledger
    }

    pub fn bedrock_time(&self) -> Duration {
        self.bedrock_time
    }

    /// Under `triage`, classifies the request and starts at the tier it names; a triage that
    /// fails leaves the start at the cheapest capable tier.
    pub async fn triage(&mut self, request: &ChatRequest) {
        if self.plan.policy != Policy::Triage || self.plan.ladder.len() < 2 {
            return;
        }
        let Some(model) = triage::triage_model(self.config) else { return };
        let started = Instant::now();
        let difficulty = triage::classify(self.bedrock, model, request, &mut self.ledger, self.deadline).await;
        self.bedrock_time += started.elapsed();
        if let Some(difficulty) = difficulty {
            self.position = self.plan.position_for(difficulty);
        }
    }

    /// One answer: `build` makes the request for a model; `expect` checks answers under `cascade`.
    pub async fn complete(
        &mut self,
        build: impl Fn(&'c AllowedModel) -> Result<ModelRequest, ApiError>,
        expect: &Expectations,
    ) -> Result<(ConverseOutput, &'c AllowedModel), ApiError> {
        let mut last_fault = None;
        while self.position < self.plan.ladder.len() {
            let may_escalate = self.plan.policy == Policy::Cascade && self.position + 1 < self.plan.ladder.len();
            let mut escalated = false;
            for model in self.candidates() {
                let mut request = build(model)?;
                if may_escalate {
                    ask_for_signal(&mut request);
                }
                let started = Instant::now();
                let result = timeout_at(self.deadline, self.bedrock.complete(request)).await;
                self.bedrock_time += started.elapsed();
                let output = match result {
                    Err(_) => return Err(self.out_of_time()),
                    Ok(Err(error)) if is_fault(&error) => {
                        self.ledger.record(model, Outcome::Failed, Some(fault_reason(&error)), None);
                        last_fault = Some(error);
                        continue;
                    }
                    Ok(Err(error)) => {
                        self.ledger.record(model, Outcome::Failed, Some(fault_reason(&error)), None);
                        return Err(error);
                    }
                    Ok(Ok(output)) => output,
                };
                if may_escalate && let Err(reason) = expect.check(&output) {
                    tracing::info!(model = %model.id, %reason, "escalating to the next tier");
                    self.ledger.record(model, Outcome::Escalated, Some(reason.to_string()), output.usage());
                    escalated = true;
                    break;
                }
                self.ledger.record(model, Outcome::Answered, None, output.usage());
                return Ok((output, model));
            }
            if !escalated && !self.plan.climbs_on_faults() {
                break;
            }
            self.position += 1;
        }
        Err(last_fault.unwrap_or_else(|| ApiError::Internal("no model was asked".into())))
    }

    /// A started stream: the same order and fallbacks, faults only (tokens already sent cannot
    /// be taken back, so nothing is checked). The answering attempt is recorded by whoever reads
    /// the stream to its end ([`Ledger::record_answered`]).
    pub async fn open_stream(
        &mut self,
        build: impl Fn(&'c AllowedModel) -> Result<ModelRequest, ApiError>,
    ) -> Result<(Started, &'c AllowedModel), ApiError> {
        let mut last_fault = None;
        while self.position < self.plan.ladder.len() {
            for model in self.candidates() {
                let request = build(model)?;
                let open = async {
                    if request.tool_config.is_some() && !model.capabilities.streaming_tools {
                        tracing::info!(model = %model.id, "model cannot stream tool use; answering from one call as SSE");
                        fallback::start(self.bedrock, request).await
                    } else {
                        stream::open(self.bedrock, request).await
                    }
                };
                let started = Instant::now();
                let result = timeout_at(self.deadline, open).await;
                self.bedrock_time += started.elapsed();
                match result {
                    Err(_) => return Err(self.out_of_time()),
                    Ok(Ok(stream)) => return Ok((stream, model)),
                    Ok(Err(error)) => {
                        self.ledger.record(model, Outcome::Failed, Some(fault_reason(&error)), None);
                        if !is_fault(&error) {
                            return Err(error);
                        }
                        last_fault = Some(error);
                    }
                }
            }
            if !self.plan.climbs_on_faults() {
                break;
            }
            self.position += 1;
        }
        Err(last_fault.unwrap_or_else(|| ApiError::Internal("no model was asked".into())))
    }

    /// The current tier's model, then its fallbacks that can serve the request.
    fn candidates(&self) -> Vec<&'c AllowedModel> {
        let tier = self.plan.ladder[self.position];
        std::iter::once(tier).chain(self.config.fallbacks(tier).filter(|m| self.plan.needs.served_by(m))).collect()
    }

    fn out_of_time(&self) -> ApiError {
        ApiError::Timeout(format!(
            "no model answered within the request's time budget of {} ms (ROUTING_DEADLINE_MS). Retry, or shorten the prompt.",
            self.config.routing.deadline.as_millis()
        ))
    }
}

/// Faults another model may not meet: throttling and quotas, a model not ready, Bedrock
/// unavailable, a model timeout.
fn is_fault(error: &ApiError) -> bool {
    matches!(error, ApiError::Throttled { .. } | ApiError::Unavailable { .. } | ApiError::Timeout(_))
}

fn fault_reason(error: &ApiError) -> String {
    format!("{} ({})", error.code(), error.status().as_u16())
}

/// Appends the escalation instruction to the last user message, when it holds text (a turn of
/// tool results alone is left as it is).
fn ask_for_signal(request: &mut ModelRequest) {
    let Some(last) = request.messages.iter_mut().rev().find(|m| *m.role() == ConversationRole::User) else { return };
    if !last.content().iter().any(ContentBlock::is_text) {
        return;
    }
    let mut content = last.content().to_vec();
    content.push(ContentBlock::Text(ESCALATION_INSTRUCTION.to_owned()));
    if let Ok(message) = Message::builder().role(ConversationRole::User).set_content(Some(content)).build() {
        *last = message;
    }
}

//! The one owner of every model call: runs a [`Plan`], asks the models in order, falls back on
//! faults, escalates on failed checks, and keeps the ledger of every call, within the request's
//! time budget.
//!
//! Each call's request is made for the model being called ([`Conversation::finish`]), whatever
//! was asked before it: a fallback or a stronger tier gets its own operation, body, output
//! config and tool choice, never another model's. A model that cannot take the request is
//! skipped and recorded as such, not called. A tier's model is tried first, then its fallbacks
//! (`MODEL_FALLBACKS`) when Bedrock throttles, is not ready, is unavailable or times out before
//! answering; when all of them fault, `auto` moves up to the next tier, and past the top back
//! down to the tiers below where it started. Under `cascade` an answer that fails a check
//! escalates to the next tier; the top tier's answer is taken as it is. The position is kept
//! across calls, so a tool loop that escalated once stays at the stronger tier for its later
//! steps.

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use tokio::time::{Instant, timeout_at};

use super::checks::Expectations;
use super::faults::{Misses, fault_reason, is_fault};
use super::ledger::Ledger;
use super::plan::Plan;
use super::protocol::{ask_for_signal, without_marker};
use super::triage;
use crate::api::request::ChatRequest;
use crate::api::routing::Outcome;
use crate::bedrock::{Bedrock, ModelRequest, Started, output_tool, started};
use crate::config::routing::Policy;
use crate::config::{AllowedModel, Config};
use crate::convert::Conversation;
use crate::error::ApiError;
use crate::keys::{Budgeter, Reservation};

pub struct ModelRouter<'c> {
    config: &'c Config,
    bedrock: &'c dyn Bedrock,
    plan: Plan<'c>,
    ledger: Ledger,
    deadline: Instant,
    /// Where in the ladder the next call starts.
    position: usize,
    /// Time spent waiting on Bedrock, for the metrics.
    bedrock_time: Duration,
    /// The caller's key: every call reserves its worst case before it is made and settles its
    /// real cost after, and only models the key may use are called.
    budget: Option<Budgeter>,
}

/// A started stream's open reservation, settled when the stream ends.
pub struct StreamCharge {
    pub budget: Budgeter,
    pub reservation: Reservation,
}

impl<'c> ModelRouter<'c> {
    pub fn new(config: &'c Config, bedrock: &'c dyn Bedrock, plan: Plan<'c>, deadline: Instant) -> Self {
        let ledger = Ledger::new(plan.policy, plan.top.and_then(|m| m.price));
        ModelRouter { config, bedrock, plan, ledger, deadline, position: 0, bedrock_time: Duration::ZERO, budget: None }
    }

    /// Every call of this router is reserved and settled through `budget`.
    pub fn with_budget(mut self, budget: Option<Budgeter>) -> Self {
        self.budget = budget;
        self
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
        let Ok(call) = triage::conversation(request) else { return };
        let allowed = |m: &AllowedModel| self.budget.as_ref().is_none_or(|b| b.key().allows(m));
        let Some(model) = triage::triage_model(self.config, &call, allowed) else { return };
        let outcome = match call.finish(model) {
            Err(why) => Err((format!("the triage call could not be made: {why}"), None)),
            Ok(request) => match self.call(model, request).await {
                Err(_) => Err(("the triage call ran out of time".to_owned(), None)),
                Ok(Err(error @ ApiError::BudgetExceeded { .. })) => {
                    Err((format!("the triage call was not made: {error}"), None))
                }
                Ok(Err(error)) => Err((format!("the triage call failed: {}", error.code()), None)),
                Ok(Ok(output)) => match triage::read(&output) {
                    Ok(difficulty) => Ok((difficulty, output)),
                    Err(why) => Err((why, Some(output))),
                },
            },
        };
        match outcome {
            Ok((difficulty, output)) => {
                tracing::info!(model = %model.id, difficulty = difficulty.label(), "triage");
                self.ledger.record_triage(model, Ok(difficulty), output.usage());
                self.position = self.plan.position_for(difficulty);
            }
            Err((why, output)) => {
                tracing::info!(model = %model.id, reason = %why, "triage gave no difficulty");
                self.ledger.record_triage(model, Err(why), output.as_ref().and_then(ConverseOutput::usage));
            }
        }
    }

    /// One whole answer to `conversation`; `expect` checks answers under `cascade`. The answer
    /// comes without the escalation marker.
    pub async fn answer(
        &mut self,
        conversation: &Conversation,
        expect: &Expectations,
    ) -> Result<(ConverseOutput, &'c AllowedModel), ApiError> {
        let mut misses = Misses::default();
        let start = self.position;
        for position in self.climb() {
            self.position = position;
            // Below the start (every tier above it faulted) nothing is left to escalate to.
            let may_escalate =
                self.plan.policy == Policy::Cascade && position >= start && position + 1 < self.plan.ladder.len();
            for model in self.candidates() {
                let Some(request) = self.request_for(conversation, model, may_escalate, &mut misses) else { continue };
                let output = match self.call(model, request).await {
                    Err(_) => return Err(self.out_of_time()),
                    Ok(Err(error @ ApiError::BudgetExceeded { .. })) => return Err(error),
                    Ok(Err(error)) => {
                        self.ledger.record(model, Outcome::Failed, Some(fault_reason(&error)), None);
                        if !is_fault(&error) {
                            return Err(error);
                        }
                        misses.fault = Some(error);
                        continue;
                    }
                    Ok(Ok(output)) => output,
                };
                if may_escalate && let Err(reason) = expect.check(&output) {
                    tracing::info!(model = %model.id, %reason, "escalating to the next tier");
                    self.ledger.record(model, Outcome::Escalated, Some(reason.to_string()), output.usage());
                    break;
                }
                self.ledger.record(model, Outcome::Answered, None, output.usage());
                return Ok((without_marker(output), model));
            }
        }
        Err(misses.into_error())
    }

    /// A started stream: the same order and fallbacks, faults only (tokens already sent cannot
    /// be taken back, so nothing is checked and no escalation is asked for). The answering
    /// attempt is recorded by whoever reads the stream to its end ([`Ledger::record_answered`]).
    pub async fn open_stream(
        &mut self,
        conversation: &Conversation,
    ) -> Result<(Started, &'c AllowedModel, Option<StreamCharge>), ApiError> {
        let mut misses = Misses::default();
        for position in self.climb() {
            self.position = position;
            for model in self.candidates() {
                let Some(mut request) = self.request_for(conversation, model, false, &mut misses) else { continue };
                let reservation = self.reserve(model, &mut request).await?;
                let whole = (request.tool_config.is_some() && !model.capabilities.streaming_tools)
                    || request.output_tool.is_some();
                let bedrock = self.bedrock;
                let open = async move {
                    if whole {
                        tracing::info!(model = %model.id, "tool use or the output tool cannot be streamed; answering from one call as SSE");
                        started::open_as_one_answer(bedrock, request).await
                    } else {
                        started::open(bedrock, request).await
                    }
                };
                let opened = self.timed(open).await;
                let charge = match (self.budget.clone(), reservation) {
                    (Some(budget), Some(reservation)) => Some(StreamCharge { budget, reservation }),
                    _ => None,
                };
                match opened {
                    Err(_) => {
                        settle(charge, None).await;
                        return Err(self.out_of_time());
                    }
                    Ok(Ok(stream)) => return Ok((stream, model, charge)),
                    Ok(Err(error)) => {
                        settle(charge, Some((0, 0))).await;
                        self.ledger.record(model, Outcome::Failed, Some(fault_reason(&error)), None);
                        if !is_fault(&error) {
                            return Err(error);
                        }
                        misses.fault = Some(error);
                    }
                }
            }
        }
        Err(misses.into_error())
    }

    /// The tiers one answer may be asked of, in order: the current one, then (when `auto` chose
    /// the ladder) each one above it, then, when every tier from the current one up has faulted
    /// (triage may start at the top), the ones below it, nearest first: a cheaper answer beats
    /// none. A named model, or the `rules` choice, is its one tier.
    fn climb(&self) -> Vec<usize> {
        let start = self.position.min(self.plan.ladder.len() - 1);
        if !self.plan.climbs_on_faults() {
            return vec![start];
        }
        (start..self.plan.ladder.len()).chain((0..start).rev()).collect()
    }

    /// The request `model` is called with, with the escalation note when the model may
    /// escalate; `None` (recorded as skipped) when the model cannot take the request.
    fn request_for(
        &mut self,
        conversation: &Conversation,
        model: &AllowedModel,
        escalate: bool,
        misses: &mut Misses,
    ) -> Option<ModelRequest> {
        if let Some(budget) = self.budget.as_ref().filter(|b| !b.key().allows(model)) {
            let why = format!("API key {} may not use {}", budget.key().id, model.id);
            tracing::info!(model = %model.id, "model skipped: the caller's key may not use it");
            self.ledger.record_skipped(model, why);
            return None;
        }
        match conversation.finish(model) {
            Ok(mut request) => {
                if escalate {
                    ask_for_signal(&mut request);
                }
                Some(request)
            }
            Err(why) => {
                tracing::info!(model = %model.id, reason = %why, "model skipped: it cannot take this request");
                self.ledger.record_skipped(model, why.to_string());
                misses.unfit = Some(why);
                None
            }
        }
    }

    /// One whole answer from Bedrock, bounded by the deadline (`Err` when it passed): the one
    /// place a whole answer is asked for, reserved before and settled after under a key.
    async fn call(
        &mut self,
        model: &AllowedModel,
        mut request: ModelRequest,
    ) -> Result<Result<ConverseOutput, ApiError>, tokio::time::error::Elapsed> {
        let reservation = match self.reserve(model, &mut request).await {
            Ok(reservation) => reservation,
            Err(error) => return Ok(Err(error)),
        };
        let bedrock = self.bedrock;
        let result = self.timed(output_tool::answer(bedrock, request)).await;
        if let (Some(budget), Some(reservation)) = (&self.budget, reservation) {
            let tokens = match &result {
                Ok(Ok(output)) => Some(output.usage().map_or((0, 0), |u| {
                    (
                        u64::try_from(u.input_tokens).unwrap_or_default(),
                        u64::try_from(u.output_tokens).unwrap_or_default(),
                    )
                })),
                Ok(Err(_)) => Some((0, 0)),
                Err(_) => None,
            };
            // Boxed: the DynamoDB client's futures are deep, and every route's future holds this one.
            Box::pin(budget.settle(reservation, tokens)).await;
        }
        result
    }

    /// The call's reservation under a key (none without one).
    async fn reserve(&self, model: &AllowedModel, request: &mut ModelRequest) -> Result<Option<Reservation>, ApiError> {
        match &self.budget {
            Some(budget) => Box::pin(budget.reserve(model, request)).await.map(Some),
            None => Ok(None),
        }
    }

    /// Runs a Bedrock call within the deadline, counting the time spent.
    async fn timed<T>(
        &mut self,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<Result<T, ApiError>, tokio::time::error::Elapsed> {
        let started = Instant::now();
        let result = timeout_at(self.deadline, work).await;
        self.bedrock_time += started.elapsed();
        result
    }

    /// The current tier's model, then its fallbacks.
    fn candidates(&self) -> Vec<&'c AllowedModel> {
        let tier = self.plan.ladder[self.position];
        std::iter::once(tier).chain(self.config.fallbacks(tier)).collect()
    }

    fn out_of_time(&self) -> ApiError {
        ApiError::Timeout(format!(
            "no model answered within the request's time budget of {} ms (ROUTING_DEADLINE_MS). Retry, or shorten the prompt.",
            self.config.routing.deadline.as_millis()
        ))
    }
}

/// Settles a stream's reservation that will not be read to its end.
async fn settle(charge: Option<StreamCharge>, tokens: Option<(u64, u64)>) {
    if let Some(StreamCharge { budget, reservation }) = charge {
        Box::pin(budget.settle(reservation, tokens)).await;
    }
}

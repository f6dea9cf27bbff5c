//! The chat use case shared by every route, with two outputs: a whole answer ([`answer`]) or a
//! started stream ([`stream`]). Both plan which models may answer, call them through the
//! router, and keep the accounts (`usage` summed over every call, the `routing` report); the
//! routes only turn the result into JSON or server-sent events.

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use tokio::time::Instant;

use crate::api::request::ChatRequest;
use crate::api::response::{ChatCompletion, NoExtras};
use crate::bedrock::{Bedrock, Started, started};
use crate::config::routing::{Policy, RouteKind};
use crate::config::{AllowedModel, Config};
use crate::convert::Conversation;
use crate::convert::response::{Envelope, ToolCalls, message_from_converse};
use crate::error::ApiError;
use crate::keys::{Budgeter, Caller};
use crate::model_choice::router::StreamCharge;
use crate::model_choice::{Expectations, Ledger, ModelRouter, Plan};

/// A request checked once for every model, the models that may answer it, and (under a key)
/// what every call is reserved and settled through.
pub struct Planned<'c> {
    pub conversation: Conversation,
    pub plan: Plan<'c>,
    pub budget: Option<Budgeter>,
}

/// Checks `request` and plans it among the models the caller's key may use: a request no model
/// could take is refused here, before any Bedrock call (triage included).
pub fn plan<'c>(
    config: &'c Config,
    request: &ChatRequest,
    route: RouteKind,
    caller: Option<&Caller>,
) -> Result<Planned<'c>, ApiError> {
    let conversation = Conversation::from_chat(request, config)?;
    let plan = Plan::new(config, request, &conversation, route, caller.map(|c| c.key.as_ref()))?;
    Ok(Planned { conversation, plan, budget: caller.map(Caller::budgeter) })
}

/// A routed answer, with what the metrics need.
pub struct Answer<'c> {
    pub completion: ChatCompletion,
    /// The answering call's output, for routes that send it on as a stream.
    pub output: ConverseOutput,
    pub model: &'c AllowedModel,
    pub ledger: Ledger,
    pub bedrock_time: Duration,
}

/// One routed answer as a `chat.completion`. With `parallel_tool_calls: false` the answer keeps
/// the model's first tool call only ([`ToolCalls::limit`]), in the completion and in `output`.
pub async fn answer<'c>(
    config: &'c Config,
    bedrock: &'c dyn Bedrock,
    request: &ChatRequest,
    planned: Planned<'c>,
) -> Result<Answer<'c>, ApiError> {
    let Planned { conversation, plan, budget } = planned;
    let expect = if plan.policy == Policy::Cascade { Expectations::of(request) } else { Expectations::default() };
    let mut router =
        ModelRouter::new(config, bedrock, plan, Instant::now() + config.routing.deadline).with_budget(budget);
    router.triage(request).await;
    let (mut output, model) = router.answer(&conversation, &expect).await?;
    ToolCalls::of(request.parallel_tool_calls).limit(&mut output);
    let (mut message, finish_reason) = message_from_converse(&output);
    message.reasoning_format = request.reasoning_format;
    let bedrock_time = router.bedrock_time();
    let ledger = router.into_ledger();
    let mut completion = Envelope::new(&model.id).completion(message, finish_reason, ledger.usage(), NoExtras {});
    completion.routing = Some(ledger.report());
    Ok(Answer { completion, output, model, ledger, bedrock_time })
}

/// A routed answer as a stream that has produced its first event, with the accounts so far
/// (the streamed answer joins them when it ends).
pub struct Streamed<'c> {
    pub started: Started,
    pub model: &'c AllowedModel,
    pub ledger: Ledger,
    pub bedrock_time: Duration,
    /// Under a key, the streamed call's reservation, settled when the stream ends.
    pub charge: Option<StreamCharge>,
}

/// One routed answer as a stream. Under `cascade` the answer is checked before anything is
/// sent, so it is the whole answer replayed as a stream; otherwise the stream is Bedrock's,
/// opened on the first model that does not fault before its first event.
pub async fn stream<'c>(
    config: &'c Config,
    bedrock: &'c dyn Bedrock,
    request: &ChatRequest,
    planned: Planned<'c>,
    deadline: Instant,
) -> Result<Streamed<'c>, ApiError> {
    if planned.plan.policy == Policy::Cascade {
        let answer = answer(config, bedrock, request, planned).await?;
        let started = started::replayed(&answer.output)?;
        let Answer { model, ledger, bedrock_time, .. } = answer;
        return Ok(Streamed { started, model, ledger, bedrock_time, charge: None });
    }
    let Planned { conversation, plan, budget } = planned;
    let mut router = ModelRouter::new(config, bedrock, plan, deadline).with_budget(budget);
    router.triage(request).await;
    let (started, model, charge) = router.open_stream(&conversation).await?;
    let bedrock_time = router.bedrock_time();
    Ok(Streamed { started, model, ledger: router.into_ledger(), bedrock_time, charge })
}

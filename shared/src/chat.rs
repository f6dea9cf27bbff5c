//! The chat use case shared by every route: plan which models may answer, call them through the
//! router, answer with the accounts (`usage` summed over every call, the `routing` report).

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use tokio::time::Instant;

use crate::api::request::ChatRequest;
use crate::api::response::{ChatCompletion, NoExtras};
use crate::bedrock::Bedrock;
use crate::config::{AllowedModel, Config};
use crate::convert::prepare;
use crate::convert::response::{Envelope, message_from_converse};
use crate::error::ApiError;
use crate::model_choice::{Expectations, Ledger, Plan, Policy, RouteKind, Router};

/// A routed answer, with what the metrics need.
pub struct Answer<'c> {
    pub completion: ChatCompletion,
    /// The answering call's output, for routes that send it on as a stream.
    pub output: ConverseOutput,
    pub model: &'c AllowedModel,
    pub ledger: Ledger,
    pub bedrock_time: Duration,
}

/// Plans the request and validates it for the first model to be asked, so a request no model
/// could take is refused before any Bedrock call (triage included).
pub fn plan<'c>(config: &'c Config, request: &ChatRequest, route: RouteKind) -> Result<Plan<'c>, ApiError> {
    let plan = Plan::new(config, request, route)?;
    prepare(request, plan.first(), config)?;
    Ok(plan)
}

/// One routed answer as a `chat.completion`.
pub async fn complete<'c>(
    config: &'c Config,
    bedrock: &'c dyn Bedrock,
    request: &ChatRequest,
    plan: Plan<'c>,
) -> Result<Answer<'c>, ApiError> {
    let expect = if plan.policy == Policy::Cascade { Expectations::of(request) } else { Expectations::default() };
    let mut router = Router::new(config, bedrock, plan, Instant::now() + config.routing.deadline);
    router.triage(request).await;
    let (output, model) = router.complete(|m| Ok(prepare(request, m, config)?.request), &expect).await?;
    let (message, finish_reason) = message_from_converse(&output);
    let bedrock_time = router.bedrock_time();
    let ledger = router.into_ledger();
    let mut completion = Envelope::new(&model.id).completion(message, finish_reason, ledger.usage(), NoExtras {});
    completion.routing = Some(ledger.report());
    Ok(Answer { completion, output, model, ledger, bedrock_time })
}

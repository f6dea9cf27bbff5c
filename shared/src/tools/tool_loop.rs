//! The tool loop: Converse with the tool specs, run every `toolUse` of the answer concurrently,
//! send all results back in one user turn, and repeat until the model answers, within a step
//! bound and an overall deadline. With `parallel_tool_calls: false` each step keeps the model's
//! first tool call only: that one runs, the assistant turn sent back holds it alone, and the
//! model asks for the next call, if any, in the next step (one call per turn, in order).
//!
//! Nothing a tool does can stall or break the loop: an unknown tool, arguments failing the
//! schema, a failure, a timeout, a non-JSON or oversized reply each become an error
//! `toolResult` the model can react to. Hitting a bound returns the last answer with
//! `finish_reason` `max_steps` or `deadline`, or a 504 when the model never answered at all.

use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, Message, StopReason, ToolResultBlock, ToolResultContentBlock, ToolResultStatus,
    ToolUseBlock,
};
use futures_util::future::join_all;
use serde_json::Value;
use tokio::time::{Instant, timeout_at};

use super::registry::Entry;
use super::request::ToolsCall;
use super::runs::{Bound, LoopFinish, ToolRun, ToolStatus, ToolsCompletion, ToolsExtras};
use super::{Invocation, ToolError, Toolbox};
use crate::bedrock::Bedrock;
use crate::bedrock::document::{to_document, to_json};
use crate::config::Config;
use crate::config::routing::Policy;
use crate::convert::response::{Envelope, ToolCalls, message_from_converse};
use crate::error::ApiError;
use crate::model_choice::{Expectations, ModelRouter};

/// The loop's answer and the time it spent waiting on Bedrock.
pub struct ToolsAnswer {
    pub completion: ToolsCompletion,
    pub bedrock_time: Duration,
}

/// Runs the loop for a checked request; every model call goes through the router, which makes
/// each step's request for the model it calls, so a step may escalate (and the later steps then
/// stay at the stronger tier) or fall back.
pub async fn run(
    config: &Config,
    bedrock: &dyn Bedrock,
    toolbox: &Toolbox,
    call: ToolsCall<'_, '_>,
) -> Result<ToolsAnswer, ApiError> {
    let started = Instant::now();
    let deadline = started + toolbox.settings.deadline;
    let ToolsCall { plan, mut conversation, tools, chat, budget } = call;
    let expect = match plan.policy {
        Policy::Cascade => {
            Expectations::of(&chat).with_tools(tools.iter().map(|e| (e.name().to_owned(), Some(e.schema.clone()))))
        }
        _ => Expectations::default(),
    };
    let limit = ToolCalls::of(chat.parallel_tool_calls);
    let mut envelope = Envelope::new(&plan.first().id);
    let mut router = ModelRouter::new(config, bedrock, plan, deadline).with_budget(budget);
    router.triage(&chat).await;
    let mut runs: Vec<ToolRun> = Vec::new();
    let mut last: Option<ConverseOutput> = None;
    let mut steps = 0u32;

    let stopped = |router: ModelRouter<'_>,
                   envelope: Envelope,
                   last: Option<ConverseOutput>,
                   bound: Bound,
                   steps: u32,
                   runs: Vec<ToolRun>| {
        let detail = match bound {
            Bound::MaxSteps => format!(
                "the model still asked for tools after {steps} model calls (TOOLS_MAX_STEPS); its last tool calls were not run"
            ),
            Bound::Deadline => format!(
                "the tool loop ran out of time after {} ms (TOOLS_DEADLINE_MS) and {steps} model calls",
                toolbox.settings.deadline.as_millis()
            ),
        };
        tracing::warn!(steps, bound = ?bound, "tool loop stopped by a bound");
        match last {
            Some(output) => Ok(answer(router, envelope, &output, LoopFinish::Bound(bound), steps, runs, Some(detail))),
            None => Err(ApiError::Timeout(format!(
                "{detail}, before the model answered. Retry, or raise TOOLS_DEADLINE_MS within the API Gateway timeout."
            ))),
        }
    };

    loop {
        if Instant::now() >= deadline {
            return stopped(router, envelope, last, Bound::Deadline, steps, runs);
        }
        steps += 1;
        let (mut output, model) = match router.answer(&conversation, &expect).await {
            Ok(answered) => answered,
            Err(_) if Instant::now() >= deadline => {
                return stopped(router, envelope, last, Bound::Deadline, steps, runs);
            }
            Err(error) => return Err(error),
        };
        envelope.model = model.id.clone();
        limit.limit(&mut output);
        let calls: Vec<ToolUseBlock> = output
            .output()
            .and_then(|o| o.as_message().ok())
            .map(|m| {
                m.content()
                    .iter()
                    .filter_map(|b| match b {
                        ContentBlock::ToolUse(call) => Some(call.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if calls.is_empty() || *output.stop_reason() != StopReason::ToolUse {
            let (_, finish) = message_from_converse(&output);
            tracing::info!(steps, tool_calls = runs.len(), "tool loop finished");
            return Ok(answer(router, envelope, &output, LoopFinish::Model(finish), steps, runs, None));
        }
        if steps >= toolbox.settings.max_steps {
            return stopped(router, envelope, Some(output), Bound::MaxSteps, steps, runs);
        }

        let context = Context { toolbox, tools: &tools, request_id: &envelope.id, started, deadline, step: steps };
        let outcomes = join_all(calls.iter().map(|call| run_one(&context, call))).await;
        let mut results = Vec::with_capacity(outcomes.len());
        for (run, result) in outcomes {
            runs.push(run);
            results.push(ContentBlock::ToolResult(result));
        }

        let assistant = output.output().and_then(|o| o.as_message().ok()).ok_or_else(|| {
            ApiError::Upstream("Bedrock asked for tools without an assistant message. Retry the request.".into())
        })?;
        conversation.messages.push(without_reasoning(assistant)?);
        conversation.messages.push(
            Message::builder().role(ConversationRole::User).set_content(Some(results)).build().map_err(internal)?,
        );
        conversation.has_tool_blocks = true;
        conversation.relax_tool_choice();
        last = Some(output);
    }
}

/// The assistant turn as it goes back to the model: reasoning stays out of the conversation
/// (Mistral's models on Bedrock do not need their reasoning back, and it costs input tokens).
fn without_reasoning(message: &Message) -> Result<Message, ApiError> {
    let content: Vec<ContentBlock> =
        message.content().iter().filter(|b| !matches!(b, ContentBlock::ReasoningContent(_))).cloned().collect();
    Message::builder().role(ConversationRole::Assistant).set_content(Some(content)).build().map_err(internal)
}

struct Context<'a> {
    toolbox: &'a Toolbox,
    tools: &'a [&'a Entry],
    request_id: &'a str,
    started: Instant,
    deadline: Instant,
    step: u32,
}

/// Runs one `toolUse` and returns its trace entry and the `toolResult` for the model.
async fn run_one(context: &Context<'_>, call: &ToolUseBlock) -> (ToolRun, ToolResultBlock) {
    let begun = Instant::now();
    let name = call.name();
    let arguments = to_json(call.input());
    let outcome = execute(context, name, call.tool_use_id(), &arguments).await;
    let duration = begun.elapsed();
    let (status, code) = match &outcome {
        Ok(_) => (ToolStatus::Ok, None),
        Err(e) => (ToolStatus::Error, Some(e.code())),
    };
    tracing::info!(
        tool = name,
        call_id = call.tool_use_id(),
        status = ?status,
        error_code = code,
        duration_ms = millis(duration),
        "tool call"
    );
    tracing::debug!(tool = name, %arguments, outcome = ?outcome, "tool call detail");

    let content = match &outcome {
        Ok(object @ Value::Object(_)) => ToolResultContentBlock::Json(to_document(object)),
        Ok(Value::String(text)) if !text.trim().is_empty() => ToolResultContentBlock::Text(text.clone()),
        Ok(Value::String(_)) => ToolResultContentBlock::Text("(empty result)".into()),
        Ok(other) => ToolResultContentBlock::Text(other.to_string()),
        Err(e) => ToolResultContentBlock::Text(e.to_string()),
    };
    let result = ToolResultBlock::builder()
        .tool_use_id(call.tool_use_id())
        .content(content)
        .status(if outcome.is_ok() { ToolResultStatus::Success } else { ToolResultStatus::Error })
        .build()
        .expect("tool_use_id and content are set");
    let (result_value, error) = match outcome {
        Ok(value) => (Some(value), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let run = ToolRun {
        id: call.tool_use_id().to_owned(),
        name: name.to_owned(),
        arguments,
        status,
        result: result_value,
        error,
        error_code: code,
        step: context.step,
        started_ms: millis(begun.duration_since(context.started)),
        duration_ms: millis(duration),
    };
    (run, result)
}

async fn execute(context: &Context<'_>, name: &str, call_id: &str, arguments: &Value) -> Result<Value, ToolError> {
    let entry = context.tools.iter().find(|e| e.name() == name).ok_or_else(|| ToolError::Unknown {
        name: name.chars().take(64).collect(),
        available: context.tools.iter().map(|e| e.name()).collect::<Vec<_>>().join(", "),
    })?;
    entry.schema.check(arguments).map_err(|v| ToolError::InvalidArguments(v.to_string()))?;
    let budget = entry.tool.timeout().unwrap_or(context.toolbox.settings.tool_timeout);
    let called = Instant::now();
    let deadline = context.deadline.min(called + budget);
    let invocation = Invocation { arguments, call_id, request_id: context.request_id, deadline };
    let allowed = deadline.saturating_duration_since(called);
    let value = match timeout_at(deadline, entry.tool.call(invocation)).await {
        Ok(Ok(value)) => value,
        // A tool that enforces the deadline itself reports what it had left when it started;
        // the trace and the model hear the time the call was given.
        Ok(Err(ToolError::TimedOut(_))) | Err(_) => return Err(ToolError::TimedOut(allowed)),
        Ok(Err(e)) => return Err(e),
    };
    let limit = context.toolbox.settings.max_result_bytes;
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size > limit {
        return Err(ToolError::TooLarge { limit });
    }
    Ok(value)
}

fn answer(
    router: ModelRouter<'_>,
    envelope: Envelope,
    output: &ConverseOutput,
    finish: LoopFinish,
    steps: u32,
    tool_runs: Vec<ToolRun>,
    stop_detail: Option<String>,
) -> ToolsAnswer {
    let (message, _) = message_from_converse(output);
    let bedrock_time = router.bedrock_time();
    let ledger = router.into_ledger();
    let mut completion =
        envelope.completion(message, finish, ledger.usage(), ToolsExtras { tool_runs, steps, stop_detail });
    completion.routing = Some(ledger.report());
    ToolsAnswer { completion, bedrock_time }
}

/// Milliseconds with microsecond precision.
fn millis(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("could not build the Bedrock request: {e}"))
}

//! Converse and ConverseStream: a valid request runs the scripted model, a configured guardrail
//! assesses the answer, and the answer goes out as one JSON body or as stream events.

use std::time::Instant;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::faults::BedrockError;
use super::script::{self, Answer};
use super::server::{self, Operation, Shared};
use super::streaming::{self, Frame, Step};
use super::{guardrail, models, validate};

pub(crate) async fn respond(
    shared: &Shared,
    model: &str,
    operation: Operation,
    parsed: serde_json::Result<Value>,
    raw: &[u8],
    started: Instant,
) -> Result<Response, BedrockError> {
    let model = models::resolve(model, &shared.profiles)?;
    let body = server::json_body(parsed)?;
    validate::request(&body)?;
    let guardrail = guardrail::from_converse(&body, operation.streams())?;
    let controls = script::controls(&body, &model);
    server::apply_controls(shared, &controls, raw).await?;

    let mut answer = script::answer(&body, &model);
    if let Some(guardrail) = &guardrail {
        guardrail.apply(&mut answer, &script::prompt(&body), controls.intervene);
    }
    Ok(if operation.streams() {
        streaming::respond(steps(answer), &controls, started)
    } else {
        Json(answer.converse_json(streaming::millis(started.elapsed()))).into_response()
    })
}

/// The ConverseStream events of `answer`, `metadata` last.
fn steps(answer: Answer) -> Vec<Step> {
    let mut steps: Vec<Step> = answer
        .stream_events()
        .into_iter()
        .map(|(kind, payload)| {
            let frame = Frame::Event(kind, payload);
            match kind {
                "contentBlockDelta" => Step::delta(frame),
                "messageStop" => Step::closing(frame),
                _ => Step::other(frame),
            }
        })
        .collect();
    let metadata =
        move |timing: &streaming::Timing| Frame::Event("metadata", answer.metadata_json(timing.latency_ms()));
    steps.push(Step::other(Frame::Late(Box::new(metadata))));
    steps
}

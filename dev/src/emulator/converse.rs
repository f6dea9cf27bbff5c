//! Converse and ConverseStream: a valid request runs the scripted model, a configured guardrail
//! assesses the answer, and the answer goes out as one JSON body or as stream events.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::faults::BedrockError;
use super::handling::{self, Call};
use super::models::ModelTraits;
use super::script::Answer;
use super::streaming::{self, Frame, Step};
use super::{guardrail, validate};

pub(crate) async fn respond(call: &Call<'_>, parsed: serde_json::Result<Value>) -> Result<Response, BedrockError> {
    let model = call.model()?;
    let body = handling::json_body(parsed)?;
    validate::request(&body)?;
    validate::for_model(&body, &model)?;
    let streams = call.operation.streams();
    let guardrail = guardrail::from_converse(&body, streams)?;
    let (answer, controls) = call.answer(&body, &model, guardrail.as_ref()).await?;
    Ok(if streams {
        streaming::respond(steps(answer), &controls, call.started)
    } else {
        Json(answer.converse_json(streaming::millis(call.started.elapsed()))).into_response()
    })
}

/// A batch record's answer in a `Converse` job: the Converse response body, with the checks
/// and the scripted model of [`respond`], and the token counts.
pub(crate) async fn answer_record(
    call: &Call<'_>,
    model: &ModelTraits,
    body: &Value,
) -> Result<(Value, u64, u64), BedrockError> {
    validate::request(body)?;
    validate::for_model(body, model)?;
    let (answer, _) = call.answer(body, model, None).await?;
    let json = answer.converse_json(streaming::millis(call.started.elapsed()));
    Ok((json, answer.input_tokens, answer.output_tokens))
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

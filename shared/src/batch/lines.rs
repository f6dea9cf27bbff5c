//! The input file's lines, each checked as its own chat-completions request (the same parsing,
//! conversion and model names as `/v1/chat/completions`) and made into a Bedrock batch record;
//! a line that the sync route would refuse goes to the error file with that route's message,
//! and is never sent to Bedrock.

use std::collections::HashSet;

use serde_json::Value;

use super::catalog;
use super::record::Api;
use crate::api::request::ChatRequest;
use crate::bedrock::converse_json;
use crate::config::batch::BatchSettings;
use crate::config::{AllowedModel, Config};
use crate::convert::Conversation;
use crate::error::ApiError;
use crate::keys::{KeyRecord, budget};
use crate::model_choice::{self, Choice};

/// The lines of one model: one Bedrock job.
pub struct Group<'c> {
    pub model: &'c AllowedModel,
    /// (custom id, `modelInput`) in file order.
    pub records: Vec<(String, Value)>,
    /// With keys: the most input and output tokens the lines may take (each line's output
    /// bounded by its `max_tokens`, or sent with `KEYS_OUTPUT_BOUND` as its `max_tokens`).
    pub worst: (u64, u64),
}

/// A line refused before any job: its place, its custom id if it had one, and why.
pub struct Refused {
    pub line: usize,
    pub custom_id: Option<String>,
    pub error: ApiError,
}

pub struct Lines<'c> {
    pub groups: Vec<Group<'c>>,
    pub refused: Vec<Refused>,
    pub total: usize,
}

/// What a batch's lines are checked against.
pub struct Context<'a> {
    pub config: &'a Config,
    pub settings: &'a BatchSettings,
    pub api: Api,
    pub endpoint: &'a str,
    /// Mistral's job-level model, for lines that name none.
    pub model: Option<&'a str>,
    pub key: Option<&'a KeyRecord>,
    /// `KEYS_OUTPUT_BOUND`, when keys are on: the `max_tokens` of lines that set none.
    pub output_bound: Option<u32>,
}

/// Checks every line of `input`. Errors that concern the whole batch (`auto`, a model without
/// batch) are a 400 for the batch; errors of one line refuse that line.
pub fn read<'c>(input: &[u8], cx: &Context<'c>) -> Result<Lines<'c>, ApiError> {
    let text = std::str::from_utf8(input).map_err(|_| {
        ApiError::invalid("input_file_id", "the input file is not UTF-8 text (one JSON request per line)")
    })?;
    let mut lines = Lines { groups: Vec::new(), refused: Vec::new(), total: 0 };
    let mut seen = HashSet::new();
    for (index, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        lines.total += 1;
        let number = index + 1;
        let parsed = serde_json::from_str::<Value>(raw).map_err(|e| {
            ApiError::bad_request(format!("line {number} is not a JSON object ({e}); each line is one request"))
        });
        let value = match parsed {
            Ok(value) => value,
            Err(error) => {
                lines.refused.push(Refused { line: number, custom_id: None, error });
                continue;
            }
        };
        let custom_id = value["custom_id"].as_str().map(str::to_owned);
        let outcome = match &custom_id {
            None => Err(ApiError::invalid("custom_id", format!("line {number}: a string `custom_id` is required"))),
            Some(id) if !seen.insert(id.clone()) => Err(ApiError::invalid(
                "custom_id",
                format!("line {number}: `{id}` is used by an earlier line; custom_id must be unique"),
            )),
            Some(_) => record(&value, number, cx),
        };
        match outcome? {
            Ok((model, input, (tokens_in, tokens_out))) => {
                let id = custom_id.unwrap_or_default();
                let group = match lines.groups.iter().position(|g| std::ptr::eq(g.model, model)) {
                    Some(at) => &mut lines.groups[at],
                    None => {
                        lines.groups.push(Group { model, records: Vec::new(), worst: (0, 0) });
                        lines.groups.last_mut().expect("just pushed")
                    }
                };
                group.records.push((id, input));
                group.worst = (group.worst.0 + tokens_in, group.worst.1 + tokens_out);
            }
            Err(error) => lines.refused.push(Refused { line: number, custom_id, error }),
        }
    }
    Ok(lines)
}

/// A line's model, its `modelInput`, and its worst case in input and output tokens.
type Made<'c> = (&'c AllowedModel, Value, (u64, u64));

/// One line: `Err` refuses the batch, `Ok(Err)` the line.
fn record<'c>(line: &Value, number: usize, cx: &Context<'c>) -> Result<Result<Made<'c>, ApiError>, ApiError> {
    let body = match envelope(line, number, cx) {
        Ok(body) => body,
        Err(error) => return Ok(Err(error)),
    };
    let request = match ChatRequest::from_value(body) {
        Ok(request) => request,
        Err(error) => return Ok(Err(error)),
    };
    let model = match model_choice::resolve(cx.config, &request) {
        Ok(Choice::Named(model)) => model,
        Ok(Choice::Auto) => {
            return Err(ApiError::invalid(
                "model",
                format!(
                    "line {number} asks for `auto`: its tiers escalate on answers they check and fall back on faults, which a batch answered hours later cannot do; name a model"
                ),
            ));
        }
        Err(error) => return Ok(Err(error)),
    };
    if !catalog::supports(model, cx.settings) {
        return Err(ApiError::invalid(
            "model",
            format!(
                "line {number}: Bedrock runs no batch jobs for {}; batch models here: {} (BATCH_MODELS adds others)",
                model.id,
                catalog::BATCH_MODELS.join(", ")
            ),
        ));
    }
    if let Some(key) = cx.key.filter(|key| !key.allows(model)) {
        return Ok(Err(ApiError::ModelNotAllowed(format!("API key {} may not use {}", key.id, model.id))));
    }
    if let Some(field) = batch_unsupported(&request) {
        return Ok(Err(ApiError::unsupported(
            field,
            "Bedrock's batch jobs take no tools and no structured output; send this request to /v1/chat/completions",
        )));
    }
    let made = Conversation::from_chat(&request, cx.config).and_then(|conversation| conversation.finish(model));
    let mut request = match made {
        Ok(request) => request,
        Err(error) => return Ok(Err(error)),
    };
    // Under a key the worst case must be known: a line without max_tokens is sent with the bound.
    let output = match (request.inference.max_tokens(), cx.output_bound) {
        (Some(max), _) => u64::try_from(max).unwrap_or_default(),
        (None, Some(bound)) => {
            request.inference = budget::bounded(&request.inference, bound);
            u64::from(bound)
        }
        (None, None) => 0,
    };
    let worst = (budget::input_bound(&request), output);
    Ok(converse_json::model_input(&request).map(|input| (model, input, worst)))
}

/// The request body of a line, with Mistral's job-level model filled in.
fn envelope(line: &Value, number: usize, cx: &Context<'_>) -> Result<Value, ApiError> {
    if cx.api == Api::OpenAi {
        if line["method"].as_str() != Some("POST") {
            return Err(ApiError::invalid("method", format!("line {number}: `method` must be \"POST\"")));
        }
        if line["url"].as_str() != Some(cx.endpoint) {
            return Err(ApiError::invalid(
                "url",
                format!("line {number}: `url` must be the batch's endpoint, {}", cx.endpoint),
            ));
        }
    }
    let mut body = line["body"].clone();
    let Some(fields) = body.as_object_mut() else {
        return Err(ApiError::invalid(
            "body",
            format!("line {number}: `body` must be a chat-completions request object"),
        ));
    };
    if let Some(model) = cx.model.filter(|_| !fields.contains_key("model")) {
        fields.insert("model".into(), Value::String(model.to_owned()));
    }
    Ok(body)
}

/// The first field of `request` that a batch job cannot carry.
fn batch_unsupported(request: &ChatRequest) -> Option<&'static str> {
    if request.tools.as_ref().is_some_and(|t| !t.is_empty()) {
        Some("tools")
    } else if request.tool_choice.is_some() {
        Some("tool_choice")
    } else if request.response_format.as_ref().is_some_and(|f| !matches!(f, crate::api::request::ResponseFormat::Text))
    {
        Some("response_format")
    } else {
        None
    }
}

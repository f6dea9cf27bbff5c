//! Sampling and limit parameters → `inferenceConfig`, and the fields Bedrock cannot honour,
//! refused by name.

use aws_sdk_bedrockruntime::types::InferenceConfiguration;

use crate::api::request::ChatRequest;
use crate::catalog::NativeBody;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

/// Bedrock's limit on stop sequences for Mistral models.
const MAX_STOP_SEQUENCES: usize = 10;

pub(super) fn refuse_unsupported_fields(req: &ChatRequest) -> Result<(), ApiError> {
    for (field, value) in [("random_seed", &req.random_seed), ("seed", &req.seed)] {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::unsupported(
                field,
                "Bedrock's Converse API offers no sampling seed for Mistral models, so a seeded (repeatable) answer cannot be honoured; remove the field, and use temperature 0 for the most stable answers",
            ));
        }
    }
    if let Some(n) = req.n
        && n != 1
    {
        return Err(ApiError::unsupported("n", "only one choice per request is supported (n = 1)"));
    }
    for (field, value) in [("presence_penalty", req.presence_penalty), ("frequency_penalty", req.frequency_penalty)] {
        if value.is_some_and(|v| v != 0.0) {
            return Err(ApiError::unsupported(
                field,
                "Bedrock's Converse API has no penalty parameters; remove it or set it to 0",
            ));
        }
    }
    if req.safe_prompt == Some(true) {
        return Err(ApiError::unsupported(
            "safe_prompt",
            "Mistral's safety prompt is not available on Bedrock; use a Bedrock guardrail or your own system prompt",
        ));
    }
    if req.logprobs == Some(true) {
        return Err(ApiError::unsupported("logprobs", "Bedrock does not return log probabilities"));
    }
    // `parallel_tool_calls: false` is honoured on the answer, not sent: Bedrock cannot be told,
    // so the gateway keeps the first tool call of each turn (`convert::response::ToolCalls`).
    Ok(())
}

/// Bedrock takes no reasoning budget for Mistral's models: Magistral reasons on its own, the
/// others do not reason at all. Either way the field is refused, not silently dropped. Mistral's
/// own API does the same for models without adjustable reasoning (a 400, as clients that probed
/// it report; it takes the field from Mistral Small 4 and Medium 3.5, which the catalog does not
/// hold). Clients send it when told the model thinks: mistral-vibe does for a model with
/// `thinking` set, and leaves it out with `thinking = "off"`.
pub(super) fn refuse_reasoning_budget(asked: bool, model: &AllowedModel) -> Result<(), ApiError> {
    if !asked {
        return Ok(());
    }
    let why = if model.capabilities.reasoning {
        format!("{} reasons on its own and Bedrock takes no reasoning budget for it; remove the field", model.id)
    } else {
        format!(
            "{} does not reason: Bedrock takes no reasoning effort for it, and Mistral's own API refuses one for models without adjustable reasoning too; remove the field (in mistral-vibe: thinking = \"off\" for this model), or choose a reasoning model (see GET /v1/models, `reasoning`) such as magistral-small",
            model.id
        )
    };
    Err(ApiError::unsupported("reasoning_effort", why))
}

/// True when the caller asked for a reasoning budget.
pub(super) fn asks_reasoning_budget(req: &ChatRequest) -> bool {
    req.reasoning_effort.as_ref().is_some_and(|v| !v.is_null())
}

pub(super) fn inference_config(req: &ChatRequest, config: &Config) -> Result<InferenceConfiguration, ApiError> {
    let mut inference = InferenceConfiguration::builder();
    if let Some(t) = req.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(ApiError::invalid(
                "temperature",
                format!("{t} is outside 0..=1, the range Bedrock accepts for Mistral models"),
            ));
        }
        inference = inference.temperature(t as f32);
    }
    if let Some(p) = req.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(ApiError::invalid("top_p", format!("{p} is outside (0, 1]")));
        }
        inference = inference.top_p(p as f32);
    }
    if let Some(max) = req.max_tokens {
        if max < 1 {
            return Err(ApiError::invalid("max_tokens", format!("{max} is not a positive number of tokens")));
        }
        let limit = config.max_output_tokens.map_or(i32::MAX as i64, i64::from);
        if max > limit {
            return Err(ApiError::invalid("max_tokens", format!("{max} is above this deployment's limit of {limit}")));
        }
        inference = inference.max_tokens(max as i32);
    }
    if let Some(stop) = req.stop.clone() {
        let stop = stop.into_vec();
        if stop.len() > MAX_STOP_SEQUENCES {
            return Err(ApiError::invalid(
                "stop",
                format!("{} stop sequences given; Bedrock accepts at most {MAX_STOP_SEQUENCES}", stop.len()),
            ));
        }
        if stop.iter().any(String::is_empty) {
            return Err(ApiError::invalid("stop", "stop sequences must not be empty"));
        }
        inference = inference.set_stop_sequences((!stop.is_empty()).then_some(stop));
    }
    Ok(inference.build())
}

/// Mistral's native chat body takes no stop sequences on Bedrock.
pub(super) fn refuse_stop_sequences(inference: &InferenceConfiguration, model: &AllowedModel) -> Result<(), ApiError> {
    if model.native == Some(NativeBody::Chat) && !inference.stop_sequences().is_empty() {
        return Err(ApiError::unsupported(
            "stop",
            format!(
                "{} is called through Mistral's native chat body (BEDROCK_INVOKE_MODELS), which takes no stop sequences on Bedrock; remove them, or call the model through Converse",
                model.id
            ),
        ));
    }
    Ok(())
}

//! Budgets that hold under concurrency: before a model call the router reserves the call's
//! worst-case cost, and settles its real cost when the call ends. Settled spend never exceeds
//! the budget, because no call starts without a reservation that fits beside everything else
//! committed, and no call can cost more than its reservation:
//!
//! - input: at most one token per byte of what is sent (text, tool specs, tool calls and
//!   results), plus a few per message for the prompt template, plus [`IMAGE_TOKENS`] per image;
//! - output: the call's `max_tokens`, and a call without one is sent with `KEYS_OUTPUT_BOUND`
//!   as its `max_tokens`, so Bedrock enforces the bound the reservation assumed.
//!
//! A call that fails is settled at zero (Bedrock charges nothing for it); a call the deadline
//! cut, or a stream the caller left, at its reservation (Bedrock's usage never arrived, and a
//! budget must err on the side of the budget). A settle that cannot be written is retried for
//! about two seconds; after that the reservation expires (`KEYS_RESERVATION_TTL_SECS`) and holds nothing.

use std::sync::Arc;

use aws_sdk_bedrockruntime::types::{ContentBlock, InferenceConfiguration, ToolResultContentBlock};
use time::OffsetDateTime;

use super::record::KeyRecord;
use super::table::Settlement;
use super::{Keys, dollars, period};
use crate::bedrock::ModelRequest;
use crate::bedrock::document::to_json;
use crate::catalog::Price;
use crate::config::AllowedModel;
use crate::cost;
use crate::error::ApiError;

/// Input tokens assumed per image (a bound: Pixtral's tiles of a large image stay below it).
pub const IMAGE_TOKENS: u64 = 8192;
/// Prompt-template tokens assumed per message, and per request.
const TEMPLATE_TOKENS_PER_MESSAGE: u64 = 16;
const TEMPLATE_TOKENS: u64 = 64;
/// The pause after each failed settle before the next try: about two seconds in all.
const SETTLE_RETRIES: [std::time::Duration; 5] = [
    std::time::Duration::from_millis(50),
    std::time::Duration::from_millis(150),
    std::time::Duration::from_millis(400),
    std::time::Duration::from_millis(1200),
    std::time::Duration::ZERO,
];

/// Reserves and settles one request's model calls against its key's budget.
#[derive(Clone)]
pub struct Budgeter {
    keys: Arc<Keys>,
    key: Arc<KeyRecord>,
}

/// An open reservation: what one call may cost at most, held until it settles. A batch job's
/// is kept in its batch's record until the batch is finalized, by another function.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Reservation {
    id: String,
    window: String,
    amount: u64,
    model: String,
    price: Price,
}

impl std::fmt::Debug for Budgeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budgeter").field("key_id", &self.key.id).finish_non_exhaustive()
    }
}

impl Reservation {
    /// The most the call may cost, nano-dollars.
    pub fn amount(&self) -> u64 {
        self.amount
    }
}

impl Budgeter {
    pub fn new(keys: Arc<Keys>, key: Arc<KeyRecord>) -> Self {
        Budgeter { keys, key }
    }

    pub fn key(&self) -> &KeyRecord {
        &self.key
    }

    /// Bounds `request`'s output when it has no bound, and reserves its worst-case cost.
    pub async fn reserve(&self, model: &AllowedModel, request: &mut ModelRequest) -> Result<Reservation, ApiError> {
        let key = &self.key;
        let price = model.price.ok_or_else(|| {
            ApiError::ModelNotAllowed(format!(
                "{} has no known price, so API key {} cannot be charged for it; set its price (MODEL_PRICES) or use another model",
                model.id, key.id
            ))
        })?;
        let output = match request.inference.max_tokens() {
            Some(max) => u64::try_from(max).unwrap_or_default(),
            None => {
                let bound = self.keys.settings.output_bound;
                request.inference = bounded(&request.inference, bound);
                u64::from(bound)
            }
        };
        let amount = cost::nanos(input_bound(request), output, &price);
        self.hold(&model.id, price, amount, self.keys.settings.reservation_ttl).await
    }

    /// Reserves `amount` for `model_id` at `price` for `ttl` (a batch job's worst case, held
    /// until the batch is finalized).
    pub async fn hold(
        &self,
        model_id: &str,
        price: Price,
        amount: u64,
        ttl: std::time::Duration,
    ) -> Result<Reservation, ApiError> {
        let key = &self.key;
        let now = OffsetDateTime::now_utc();
        let period = key.budget.map_or(period::Period::Total, |b| b.period);
        let window = period.window(now);
        let limit = key.budget.map(|b| b.nanos);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let expires = now.unix_timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let table = &self.keys.table;
        let fail = |e| self.keys.unavailable(&e);
        let mut reserved = table.reserve(&key.id, &window, limit, &id, amount, expires).await.map_err(fail)?;
        if !reserved && table.release_expired(&key.id, &window, now.unix_timestamp()).await.map_err(fail)? > 0 {
            reserved = table.reserve(&key.id, &window, limit, &id, amount, expires).await.map_err(fail)?;
        }
        if !reserved {
            let state = table.window(&key.id, &window).await.map_err(fail)?;
            return Err(self.exceeded(amount, state, period, now));
        }
        tracing::debug!(key_id = %key.id, model = model_id, amount, "reserved");
        Ok(Reservation { id, window, amount, model: model_id.to_owned(), price })
    }

    fn exceeded(
        &self,
        amount: u64,
        state: super::table::WindowState,
        period: period::Period,
        now: OffsetDateTime,
    ) -> ApiError {
        let key = &self.key;
        let budget = key.budget.map_or(0, |b| b.nanos);
        let reset = period.reset(now);
        let resets = match reset {
            Some(at) => format!("it resets at {}", period::rfc3339(at)),
            None => "it is a total budget and does not reset; ask for a higher one".to_owned(),
        };
        ApiError::BudgetExceeded {
            message: format!(
                "API key {} ({}) has spent {} of its {} {} budget ({} more held by calls in flight), and this call could cost up to {}; {resets}",
                key.id,
                key.name,
                dollars(state.spent),
                dollars(budget),
                period.name(),
                dollars(state.reserved),
                dollars(amount),
            ),
            retry_after: reset.map(|at| u32::try_from((at - now).whole_seconds().max(1)).unwrap_or(u32::MAX)),
        }
    }

    /// Settles a reservation: at the call's real cost when its tokens are known, at zero for a
    /// call that failed (`Some((0, 0))`), at the reservation when they are unknown (`None`).
    pub async fn settle(&self, reservation: Reservation, tokens: Option<(u64, u64)>) {
        settle(&self.keys, &self.key.id, reservation, tokens).await
    }
}

/// [`Budgeter::settle`] for the key `key_id`, by whoever holds the reservation (the batch
/// finalizer, in another function than the one that reserved).
pub async fn settle(keys: &Keys, key_id: &str, reservation: Reservation, tokens: Option<(u64, u64)>) {
    let (input, output, cost) = match tokens {
        Some((input, output)) => (input, output, cost::nanos(input, output, &reservation.price)),
        None => (0, 0, reservation.amount),
    };
    if cost > reservation.amount {
        tracing::warn!(key_id = key_id, cost, reserved = reservation.amount, "a call cost more than its reservation");
    }
    let now = OffsetDateTime::now_utc();
    let settlement = Settlement {
        key_id: key_id.to_owned(),
        window: reservation.window,
        reservation: reservation.id,
        reserved: reservation.amount,
        cost,
        day: period::day(now),
        minute: period::minute(now),
        model: reservation.model,
        input_tokens: input,
        output_tokens: output,
        rate_ttl: now.unix_timestamp() + 120,
    };
    // A settle that finds its reservation gone changes nothing, so retrying is safe: a
    // store that blinks (a restart, a throttle) still gets the charge.
    for (attempt, pause) in SETTLE_RETRIES.iter().enumerate() {
        match keys.table.settle(&settlement).await {
            Ok(_) => return,
            Err(e) if attempt + 1 < SETTLE_RETRIES.len() => {
                tracing::warn!(key_id = key_id, error = %e, "settle failed; retrying");
                tokio::time::sleep(*pause).await;
            }
            Err(e) => {
                tracing::error!(key_id = key_id, error = %e, "settle failed; the reservation will expire")
            }
        }
    }
}

/// `inference` with `max_tokens` set.
pub fn bounded(inference: &InferenceConfiguration, max_tokens: u32) -> InferenceConfiguration {
    InferenceConfiguration::builder()
        .max_tokens(i32::try_from(max_tokens).unwrap_or(i32::MAX))
        .set_temperature(inference.temperature())
        .set_top_p(inference.top_p())
        .set_stop_sequences((!inference.stop_sequences().is_empty()).then(|| inference.stop_sequences().to_vec()))
        .build()
}

/// At most how many input tokens `request` is: a token is at least one byte of what is sent.
pub fn input_bound(request: &ModelRequest) -> u64 {
    let mut bytes = 0u64;
    let mut images = 0u64;
    let mut add = |n: usize| bytes += n as u64;
    for block in &request.system {
        if let Ok(text) = block.as_text() {
            add(text.len());
        }
    }
    for message in &request.messages {
        for block in message.content() {
            match block {
                ContentBlock::Text(text) => add(text.len()),
                ContentBlock::ToolUse(call) => add(call.name().len() + to_json(call.input()).to_string().len()),
                ContentBlock::ToolResult(result) => {
                    for part in result.content() {
                        match part {
                            ToolResultContentBlock::Text(text) => add(text.len()),
                            ToolResultContentBlock::Json(json) => add(to_json(json).to_string().len()),
                            _ => add(4096),
                        }
                    }
                }
                ContentBlock::Image(_) => images += 1,
                ContentBlock::ReasoningContent(_) => add(4096),
                _ => add(4096),
            }
        }
    }
    if let Some(tools) = &request.tool_config {
        for tool in tools.tools() {
            if let Ok(spec) = tool.as_tool_spec() {
                add(spec.name().len() + spec.description().map_or(0, str::len));
                if let Some(Ok(schema)) = spec.input_schema().map(|s| s.as_json()) {
                    add(to_json(schema).to_string().len());
                }
            }
        }
    }
    if let Some(format) = request.output_config.as_ref().and_then(|o| o.text_format())
        && let Some(Ok(schema)) = format.structure().map(|s| s.as_json_schema())
    {
        add(schema.schema().len());
    }
    bytes + images * IMAGE_TOKENS + TEMPLATE_TOKENS + TEMPLATE_TOKENS_PER_MESSAGE * request.messages.len() as u64
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::types::{ConversationRole, Message};

    use super::*;

    #[test]
    fn the_input_bound_is_at_least_a_token_per_byte() {
        let message = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text("漢字 and ASCII".into()))
            .build()
            .unwrap();
        let request = ModelRequest::new("mistral.x", vec![message]);
        assert_eq!(
            input_bound(&request),
            "漢字 and ASCII".len() as u64 + TEMPLATE_TOKENS + TEMPLATE_TOKENS_PER_MESSAGE
        );
    }

    #[test]
    fn an_unbounded_call_gets_the_output_bound_and_keeps_its_sampling() {
        let inference = InferenceConfiguration::builder().temperature(0.2).stop_sequences("END").build();
        let bounded = bounded(&inference, 512);
        assert_eq!(bounded.max_tokens(), Some(512));
        assert_eq!(bounded.temperature(), Some(0.2));
        assert_eq!(bounded.stop_sequences(), ["END"]);
    }
}

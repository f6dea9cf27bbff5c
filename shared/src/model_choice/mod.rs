//! Model choice, the cost lever: which allowed model answers a request, and what happens when it
//! cannot. One router serves every route.
//!
//! - A named model (an id or alias) is that model, with its fallbacks (`MODEL_FALLBACKS`) when
//!   Bedrock throttles or fails before answering; anything else is refused before Bedrock is
//!   called, with the names the caller may use.
//! - `auto` climbs the routing tiers (`ROUTING_TIERS`, cheapest first) by a policy
//!   ([`Policy`], read by `config::routing`): `cascade` checks each answer ([`checks`]) and escalates the ones
//!   that fail, `triage` asks the cheapest tier how hard the request is first ([`triage`]),
//!   `rules` is the static choice ([`rules`]).
//! - [`ModelRouter`] runs the plan ([`plan`]), makes every model call (each with the request
//!   made for that model) and keeps the accounts ([`ledger`]); the protocols it speaks with
//!   models are in [`protocol`].

pub mod checks;
mod faults;
pub mod ledger;
pub mod needs;
pub mod plan;
pub mod protocol;
pub mod router;
pub mod rules;
pub mod triage;

#[cfg(test)]
mod tests;

use crate::api::request::ChatRequest;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

pub use crate::config::routing::{Policy, RouteKind};
pub use checks::Expectations;
pub use ledger::Ledger;
pub use plan::Plan;
pub use router::ModelRouter;

/// What a request's `model` asks for.
#[derive(Debug, Clone, Copy)]
pub enum Choice<'c> {
    Named(&'c AllowedModel),
    Auto,
}

/// The model name that asks for tiered routing.
pub const AUTO: &str = "auto";

/// The model `request` names (the default model when it names none), or `auto`.
pub fn resolve<'c>(config: &'c Config, request: &ChatRequest) -> Result<Choice<'c>, ApiError> {
    let Some(name) = request.model.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(Choice::Named(config.default_model()));
    };
    if name == AUTO {
        return Ok(Choice::Auto);
    }
    if let Some(model) = config.models.iter().find(|m| m.id == name) {
        return Ok(Choice::Named(model));
    }
    if let Some(&index) = config.aliases.get(name) {
        return Ok(Choice::Named(&config.models[index]));
    }
    let allowed: Vec<&str> =
        config.models.iter().map(|m| m.id.as_str()).chain(config.aliases.keys().map(String::as_str)).collect();
    let shown: String = name.chars().take(100).collect();
    Err(ApiError::ModelNotFound(format!(
        "model `{shown}` is not available here; use `auto`, one of the aliases or ids this deployment allows ({}), or GET /v1/models",
        allowed.join(", ")
    )))
}

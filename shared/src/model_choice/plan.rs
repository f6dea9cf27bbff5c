//! Which models a request may go to, in which order, under which policy: the caller's named
//! model alone, the `rules` choice, or the routing tiers that can take the request, cheapest
//! first, that `cascade` and `triage` climb.
//!
//! A model is on the ladder only if the request can be made for it
//! ([`Conversation::fit`]: the same refusals as the request builder), so climbing never meets a
//! model that would answer 400 after paid calls. A request no model can take is refused here,
//! before any call.

use super::needs::Needs;
use super::protocol::Difficulty;
use super::{Choice, resolve, rules};
use crate::api::request::ChatRequest;
use crate::config::routing::{Policy, RouteKind};
use crate::config::{AllowedModel, Config};
use crate::convert::Conversation;
use crate::error::ApiError;
use crate::keys::KeyRecord;

#[derive(Debug, Clone)]
pub struct Plan<'c> {
    pub policy: Policy,
    /// The models escalation climbs, cheapest first; one model when nothing is chosen.
    pub ladder: Vec<&'c AllowedModel>,
    /// The top tier that can take the request, the baseline of the savings figure.
    pub top: Option<&'c AllowedModel>,
}

impl<'c> Plan<'c> {
    /// The plan for `request`; with a `key`, only among the models the key may use.
    pub fn new(
        config: &'c Config,
        request: &ChatRequest,
        conversation: &Conversation,
        route: RouteKind,
        key: Option<&KeyRecord>,
    ) -> Result<Self, ApiError> {
        let mut capable = Vec::new();
        let mut unfit = Vec::new();
        for model in config.tiers().filter(|m| key.is_none_or(|k| k.allows(m))) {
            match conversation.fit(model) {
                Ok(()) => capable.push(model),
                Err(why) => unfit.push(why),
            }
        }
        let top = capable.last().copied();
        let asked = match request.routing.as_ref().and_then(|r| r.policy.as_deref()) {
            None => None,
            Some(name) => Some(Policy::parse(name).ok_or_else(|| {
                ApiError::invalid("routing.policy", format!("`{name}` is not one of {}", Policy::CHOOSABLE.join(", ")))
            })?),
        };
        match resolve(config, request)? {
            Choice::Named(model) => {
                if asked.is_some() {
                    return Err(ApiError::invalid(
                        "routing.policy",
                        "chooses among models for `model: \"auto\"`; with a named model there is nothing to choose, so remove it or send model auto",
                    ));
                }
                if let Some(key) = key.filter(|k| !k.allows(model)) {
                    return Err(not_allowed(key, &model.id));
                }
                conversation.fit(model)?;
                Ok(Plan { policy: Policy::Fixed, ladder: vec![model], top })
            }
            Choice::Auto => {
                if let Some(key) = key.filter(|k| !k.allows_auto()) {
                    return Err(not_allowed(key, "auto"));
                }
                if capable.is_empty() {
                    return Err(no_tier_fits(unfit));
                }
                let policy = asked.or(config.routing.policy).unwrap_or(route.default_policy());
                let ladder = match policy {
                    Policy::Rules => vec![rules::choose(config, &capable, &Needs::of(request))],
                    _ => capable,
                };
                Ok(Plan { policy, ladder, top })
            }
        }
    }

    /// The first model asked: the cheapest capable tier, the rules choice or the named model.
    pub fn first(&self) -> &'c AllowedModel {
        self.ladder[0]
    }

    /// Where triage's answer starts the climb: easy at the cheapest capable tier, hard at the
    /// top, medium in the middle.
    pub fn position_for(&self, difficulty: Difficulty) -> usize {
        let last = self.ladder.len() - 1;
        match difficulty {
            Difficulty::Easy => 0,
            Difficulty::Medium => last / 2,
            Difficulty::Hard => last,
        }
    }

    /// Whether a fault moves the request up the ladder (only when `auto` chose the ladder;
    /// a named model keeps to its own fallbacks).
    pub fn climbs_on_faults(&self) -> bool {
        matches!(self.policy, Policy::Cascade | Policy::Triage)
    }
}

/// The 403 for a model the caller's key may not use.
fn not_allowed(key: &KeyRecord, model: &str) -> ApiError {
    ApiError::ModelNotAllowed(format!(
        "API key {} ({}) may not use `{model}`; it may use {}",
        key.id,
        key.name,
        key.models_text()
    ))
}

/// The 400 for `auto` when no tier can take the request: what each tier lacks, so the caller
/// sees what to change.
fn no_tier_fits(unfit: Vec<ApiError>) -> ApiError {
    let mut reasons: Vec<String> = unfit.iter().map(ToString::to_string).collect();
    reasons.dedup();
    ApiError::unsupported(
        "model",
        format!(
            "`auto` found no routing tier (ROUTING_TIERS) that can take this request: {}",
            if reasons.is_empty() { "no tiers are configured".to_owned() } else { reasons.join("; ") }
        ),
    )
}

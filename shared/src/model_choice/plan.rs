//! Which models a request may go to, in which order, under which policy: the caller's named
//! model alone, the `rules` choice, or the capable routing tiers, cheapest first, that
//! `cascade` and `triage` climb.

use super::needs::Needs;
use super::protocol::Difficulty;
use super::settings::{Policy, RouteKind};
use super::{Choice, resolve, rules};
use crate::api::request::ChatRequest;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Plan<'c> {
    pub policy: Policy,
    /// The models escalation climbs, cheapest first; one model when nothing is chosen.
    pub ladder: Vec<&'c AllowedModel>,
    pub needs: Needs,
    /// The top capable tier, the baseline of the savings figure.
    pub top: Option<&'c AllowedModel>,
}

impl<'c> Plan<'c> {
    pub fn new(config: &'c Config, request: &ChatRequest, route: RouteKind) -> Result<Self, ApiError> {
        let needs = Needs::of(request);
        let capable: Vec<&AllowedModel> = config.tiers().filter(|m| needs.served_by(m)).collect();
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
                Ok(Plan { policy: Policy::Fixed, ladder: vec![model], needs, top })
            }
            Choice::Auto => {
                let policy = asked.or(config.routing.policy).unwrap_or(route.default_policy());
                let ladder = match policy {
                    Policy::Rules => vec![rules::choose(config, &needs)?],
                    _ if capable.is_empty() => {
                        return Err(ApiError::unsupported(
                            "model",
                            "`auto` found no routing tier (ROUTING_TIERS) that supports everything this request uses (tools, images, system prompt, JSON schema)",
                        ));
                    }
                    _ => capable,
                };
                Ok(Plan { policy, ladder, needs, top })
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

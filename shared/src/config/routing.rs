//! Routing settings, read once at cold start: the tiers `auto` climbs (`ROUTING_TIERS`), the
//! policy (`ROUTING_POLICY`), the fallbacks of each model (`MODEL_FALLBACKS`) and the time one
//! request may spend on all its attempts (`ROUTING_DEADLINE_MS`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::models::Models;
use super::{ConfigError, Env, bad};
use crate::catalog::Tier;

/// How `auto` chooses among the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// The cheapest capable tier answers unless a check fails, then the next one is asked.
    Cascade,
    /// The cheapest tier classifies the request first; the tier it names answers.
    Triage,
    /// A static rule, no extra calls.
    Rules,
    /// The caller named a model: no choice, fallbacks only.
    Fixed,
}

impl Policy {
    /// The policies a caller or `ROUTING_POLICY` may ask for.
    pub const CHOOSABLE: [&str; 3] = ["cascade", "triage", "rules"];

    pub fn parse(name: &str) -> Option<Policy> {
        match name {
            "cascade" => Some(Policy::Cascade),
            "triage" => Some(Policy::Triage),
            "rules" => Some(Policy::Rules),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Cascade => "cascade",
            Policy::Triage => "triage",
            Policy::Rules => "rules",
            Policy::Fixed => "fixed",
        }
    }
}

/// Which route asks for a model: streams default to triage, since tokens already sent cannot be
/// taken back, the others to cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Chat,
    Stream,
    Tools,
}

impl RouteKind {
    pub fn default_policy(self) -> Policy {
        match self {
            RouteKind::Stream => Policy::Triage,
            RouteKind::Chat | RouteKind::Tools => Policy::Cascade,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingSettings {
    /// Indexes into `Config::models`, cheapest first; the last is the top tier.
    pub tiers: Vec<usize>,
    /// `ROUTING_POLICY`: the policy of every route when set, else each route's default.
    pub policy: Option<Policy>,
    /// Model index → the models tried, in order, when it is throttled, not ready, unavailable or
    /// times out before answering.
    pub fallbacks: BTreeMap<usize, Vec<usize>>,
    /// Time one request may spend on all its attempts (API Gateway stops at 29 s).
    pub deadline: Duration,
}

impl RoutingSettings {
    pub fn load(env: &Env, models: &Models) -> Result<Self, ConfigError> {
        let tiers = match env.get("ROUTING_TIERS") {
            Some(_) => named(models, "ROUTING_TIERS", &env.list("ROUTING_TIERS"))?,
            None => default_tiers(models),
        };
        if tiers.is_empty() {
            return Err(bad("ROUTING_TIERS", "lists no model"));
        }
        let policy = match env.get("ROUTING_POLICY") {
            None => None,
            Some(name) => Some(Policy::parse(&name).ok_or_else(|| {
                bad("ROUTING_POLICY", format!("`{name}` is not one of {}", Policy::CHOOSABLE.join(", ")))
            })?),
        };
        let mut fallbacks = BTreeMap::new();
        for pair in env.list("MODEL_FALLBACKS") {
            let (model, list) = pair.split_once('=').ok_or_else(|| {
                bad("MODEL_FALLBACKS", format!("`{pair}` is not of the form model=fallback1|fallback2"))
            })?;
            let [model] = named(models, "MODEL_FALLBACKS", &[model.to_owned()])?[..] else { unreachable!() };
            let list: Vec<String> =
                list.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            let chain = named(models, "MODEL_FALLBACKS", &list)?;
            if chain.is_empty() || chain.contains(&model) {
                return Err(bad("MODEL_FALLBACKS", format!("`{pair}` must name other models to fall back to")));
            }
            if fallbacks.insert(model, chain).is_some() {
                return Err(bad("MODEL_FALLBACKS", format!("`{}` has fallbacks twice", models.allowed[model].id)));
            }
        }
        Ok(RoutingSettings {
            tiers,
            policy,
            fallbacks,
            deadline: Duration::from_millis(env.number("ROUTING_DEADLINE_MS", 27_000, 100..=900_000)?),
        })
    }
}

/// The allowed models `names` designate, each once, in order.
fn named(models: &Models, var: &'static str, names: &[String]) -> Result<Vec<usize>, ConfigError> {
    let mut found: Vec<usize> = Vec::with_capacity(names.len());
    for name in names {
        let index = models.find(name).ok_or_else(|| {
            bad(var, format!("`{name}` is not an id or alias of the allowed models (BEDROCK_MODEL_IDS)"))
        })?;
        if found.contains(&index) {
            return Err(bad(var, format!("`{name}` is listed twice")));
        }
        found.push(index);
    }
    Ok(found)
}

/// The allowed models with a known price, cheapest first (input price, then output price, then
/// catalog tier; between equals the model listed first ranks higher). With no prices at all,
/// every model by catalog tier.
fn default_tiers(models: &Models) -> Vec<usize> {
    let tier = |i: usize| models.allowed[i].catalog.map_or(Tier::Medium, |c| c.tier);
    let mut priced: Vec<usize> = (0..models.allowed.len()).filter(|&i| models.allowed[i].price.is_some()).collect();
    if priced.is_empty() {
        let mut all: Vec<usize> = (0..models.allowed.len()).collect();
        all.sort_by_key(|&i| (tier(i), std::cmp::Reverse(i)));
        return all;
    }
    let price = |i: usize| {
        models.allowed[i].price.map_or((f64::MAX, f64::MAX), |p| (p.input_per_million, p.output_per_million))
    };
    priced.sort_by(|&a, &b| {
        let (pa, pb) = (price(a), price(b));
        pa.0.total_cmp(&pb.0).then(pa.1.total_cmp(&pb.1)).then(tier(a).cmp(&tier(b))).then(b.cmp(&a))
    });
    priced
}

//! Settings from the environment, read and validated once at cold start.
//!
//! A bad value fails startup with a message naming the variable, so a misconfigured deployment
//! shows up in the first cold start's log instead of as odd 4xx/5xx answers later.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::catalog::{self, Capabilities, Model, Price};

/// A startup error: which variable is wrong and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

pub(crate) fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// A model this deployment may call: the id sent to Bedrock and what the catalog knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowedModel {
    /// Foundation-model or inference-profile id, exactly as Bedrock expects it.
    pub id: String,
    pub catalog: Option<&'static Model>,
    pub capabilities: Capabilities,
    pub price: Option<Price>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Allowed models, in the order configured.
    pub models: Vec<AllowedModel>,
    /// Index into `models` of the model used when a request names none.
    pub default_model: usize,
    /// Short names (alias → index into `models`).
    pub aliases: BTreeMap<String, usize>,
    /// Prompt size (characters) from which `auto` picks a large model.
    pub auto_large_from_chars: usize,
    /// Total time allowed for one Bedrock call, retries included (API Gateway stops at 29 s).
    pub bedrock_timeout: Duration,
    pub connect_timeout: Duration,
    /// Total time allowed for one streamed answer, from the request to the last event. Longer
    /// than `bedrock_timeout`: a streaming integration may run minutes. Kept below the stream
    /// function's Lambda timeout, so the caller gets a timeout event rather than a cut stream.
    pub stream_timeout: Duration,
    /// Attempts per Bedrock call (1 = no retry). Kept low so throttling surfaces quickly.
    pub max_attempts: u32,
    /// `adaptive` (default) also slows this client's own request rate after throttling, which
    /// eases pressure on a shared Bedrock quota; `standard` only backs off per call.
    pub adaptive_retries: bool,
    /// Seconds suggested to the caller in `Retry-After` when Bedrock throttles.
    pub retry_after_secs: u32,
    pub max_body_bytes: usize,
    pub max_messages: usize,
    /// Upper bound for `max_tokens`; `None` leaves it to the model.
    pub max_output_tokens: Option<u32>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests can pass a map instead of mutating the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let ids: Vec<String> = match get("BEDROCK_MODEL_IDS") {
            Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            None => catalog::MODELS.iter().map(|m| m.id.to_owned()).collect(),
        };
        if ids.is_empty() {
            return Err(bad("BEDROCK_MODEL_IDS", "lists no model id"));
        }
        let prices = match get("MODEL_PRICES") {
            Some(raw) => parse_prices(&raw)?,
            None => BTreeMap::new(),
        };
        let mut models = Vec::with_capacity(ids.len());
        for id in ids {
            if !valid_model_id(&id) {
                return Err(bad("BEDROCK_MODEL_IDS", format!("`{id}` is not a Bedrock model or inference-profile id")));
            }
            if models.iter().any(|m: &AllowedModel| m.id == id) {
                return Err(bad("BEDROCK_MODEL_IDS", format!("`{id}` is listed twice")));
            }
            let entry = catalog::lookup(&id);
            let price = prices
                .get(&id)
                .or_else(|| prices.get(catalog::base_id(&id)))
                .copied()
                .or_else(|| entry.and_then(|m| m.price));
            models.push(AllowedModel {
                capabilities: entry.map_or(catalog::UNKNOWN_CAPABILITIES, |m| m.capabilities),
                catalog: entry,
                price,
                id,
            });
        }
        for key in prices.keys() {
            if !models.iter().any(|m| &m.id == key || catalog::base_id(&m.id) == key) {
                return Err(bad("MODEL_PRICES", format!("`{key}` is not in BEDROCK_MODEL_IDS")));
            }
        }

        let mut aliases = BTreeMap::new();
        for (i, m) in models.iter().enumerate() {
            if let Some(entry) = m.catalog {
                // The first allowed model of an alias wins (a plain id before its profiles, in list order).
                aliases.entry(entry.alias.to_owned()).or_insert(i);
                aliases.entry(format!("{}-latest", entry.alias)).or_insert(i);
            }
        }
        if let Some(raw) = get("BEDROCK_MODEL_ALIASES") {
            for pair in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (alias, target) = pair.split_once('=').ok_or_else(|| {
                    bad("BEDROCK_MODEL_ALIASES", format!("`{pair}` is not of the form alias=model-id"))
                })?;
                let index = models.iter().position(|m| m.id == target.trim()).ok_or_else(|| {
                    bad("BEDROCK_MODEL_ALIASES", format!("`{}` is not in BEDROCK_MODEL_IDS", target.trim()))
                })?;
                aliases.insert(alias.trim().to_owned(), index);
            }
        }

        let default_model = match get("BEDROCK_DEFAULT_MODEL") {
            Some(name) => {
                models.iter().position(|m| m.id == name).or_else(|| aliases.get(&name).copied()).ok_or_else(|| {
                    bad("BEDROCK_DEFAULT_MODEL", format!("`{name}` is neither in BEDROCK_MODEL_IDS nor an alias"))
                })?
            }
            None => 0,
        };

        let config = Config {
            models,
            default_model,
            aliases,
            auto_large_from_chars: number(&get, "AUTO_LARGE_FROM_CHARS", 4000, 0..=usize::MAX)?,
            bedrock_timeout: Duration::from_millis(number(&get, "BEDROCK_TIMEOUT_MS", 25_000, 100..=900_000)?),
            connect_timeout: Duration::from_millis(number(&get, "BEDROCK_CONNECT_TIMEOUT_MS", 3_000, 10..=60_000)?),
            stream_timeout: Duration::from_millis(number(&get, "STREAM_TIMEOUT_MS", 290_000, 100..=900_000)?),
            max_attempts: number(&get, "BEDROCK_MAX_ATTEMPTS", 3, 1..=10)?,
            adaptive_retries: match get("BEDROCK_RETRY_MODE").as_deref() {
                None | Some("adaptive") => true,
                Some("standard") => false,
                Some(other) => {
                    return Err(bad("BEDROCK_RETRY_MODE", format!("`{other}` is neither `adaptive` nor `standard`")));
                }
            },
            retry_after_secs: number(&get, "RETRY_AFTER_SECONDS", 2, 1..=3600)?,
            max_body_bytes: number(&get, "MAX_BODY_BYTES", 1 << 20, 1024..=(6 << 20))?,
            max_messages: number(&get, "MAX_MESSAGES", 512, 1..=100_000)?,
            max_output_tokens: match get("MAX_OUTPUT_TOKENS") {
                Some(_) => Some(number(&get, "MAX_OUTPUT_TOKENS", 0, 1..=1_000_000)?),
                None => None,
            },
        };
        Ok(config)
    }

    pub fn default_model(&self) -> &AllowedModel {
        &self.models[self.default_model]
    }
}

/// A whole number from `var`, `default` when unset, refused outside `range`.
pub(crate) fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(var) else { return Ok(default) };
    let value: T = raw.parse().map_err(|_| bad(var, format!("`{raw}` is not a whole number")))?;
    if !range.contains(&value) {
        return Err(bad(var, format!("{value} is outside {}..={}", range.start(), range.end())));
    }
    Ok(value)
}

/// Model and inference-profile ids: `[profile.]provider.name[:version]`, or an ARN.
fn valid_model_id(id: &str) -> bool {
    id.len() <= 2048
        && !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:/".contains(c))
        && (id.contains('.') || id.starts_with("arn:"))
}

/// `MODEL_PRICES`: `{"<model id>": {"input": 1.0, "output": 3.0}, ...}` in USD per 1M tokens.
fn parse_prices(raw: &str) -> Result<BTreeMap<String, Price>, ConfigError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        input: f64,
        output: f64,
    }
    let map: BTreeMap<String, Entry> = serde_json::from_str(raw).map_err(|e| {
        bad("MODEL_PRICES", format!("{e}; expected {{\"model-id\": {{\"input\": 1.0, \"output\": 3.0}}}}"))
    })?;
    map.into_iter()
        .map(|(id, e)| {
            if !(e.input.is_finite() && e.output.is_finite() && e.input >= 0.0 && e.output >= 0.0) {
                return Err(bad("MODEL_PRICES", format!("prices of `{id}` must be finite and not negative")));
            }
            Ok((id, Price { input_per_million: e.input, output_per_million: e.output }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_allow_the_catalog_and_pick_the_first_model() {
        let c = config(&[]).unwrap();
        assert_eq!(c.models.len(), catalog::MODELS.len());
        assert_eq!(c.default_model().id, catalog::MODELS[0].id);
        assert_eq!(c.bedrock_timeout, Duration::from_secs(25));
        assert_eq!(c.stream_timeout, Duration::from_secs(290));
    }

    #[test]
    fn aliases_follow_the_allowlist_including_profiles() {
        let c = config(&[("BEDROCK_MODEL_IDS", "mistral.mistral-small-2402-v1:0, us.mistral.pixtral-large-2502-v1:0")])
            .unwrap();
        assert_eq!(c.models[c.aliases["pixtral-large"]].id, "us.mistral.pixtral-large-2502-v1:0");
        assert_eq!(c.models[c.aliases["mistral-small-latest"]].id, "mistral.mistral-small-2402-v1:0");
        assert!(!c.aliases.contains_key("mistral-large"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("BEDROCK_MODEL_IDS", " , ")], "BEDROCK_MODEL_IDS"),
            (&[("BEDROCK_MODEL_IDS", "not a model")], "BEDROCK_MODEL_IDS"),
            (&[("BEDROCK_DEFAULT_MODEL", "gpt-4")], "BEDROCK_DEFAULT_MODEL"),
            (&[("BEDROCK_TIMEOUT_MS", "soon")], "BEDROCK_TIMEOUT_MS"),
            (&[("STREAM_TIMEOUT_MS", "99")], "STREAM_TIMEOUT_MS"),
            (&[("BEDROCK_MAX_ATTEMPTS", "0")], "BEDROCK_MAX_ATTEMPTS"),
            (&[("BEDROCK_RETRY_MODE", "eager")], "BEDROCK_RETRY_MODE"),
            (&[("MODEL_PRICES", "{\"mistral.x\": 3}")], "MODEL_PRICES"),
            (&[("MODEL_PRICES", "{\"mistral.other\": {\"input\": 1, \"output\": 2}}")], "MODEL_PRICES"),
            (&[("BEDROCK_MODEL_ALIASES", "fast")], "BEDROCK_MODEL_ALIASES"),
        ];
        for (vars, var) in cases {
            let err = config(vars).unwrap_err();
            assert_eq!(err.var, *var, "{err}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn price_overrides_apply_to_profiles_through_their_base_id() {
        let c = config(&[
            ("BEDROCK_MODEL_IDS", "us.mistral.pixtral-large-2502-v1:0"),
            ("MODEL_PRICES", r#"{"mistral.pixtral-large-2502-v1:0": {"input": 2, "output": 6}}"#),
        ])
        .unwrap();
        assert_eq!(c.models[0].price, Some(Price { input_per_million: 2.0, output_per_million: 6.0 }));
    }

    #[test]
    fn unknown_models_get_cautious_capabilities_and_no_price() {
        let c = config(&[
            ("BEDROCK_MODEL_IDS", "mistral.future-model-v1:0"),
            ("BEDROCK_MODEL_ALIASES", "future=mistral.future-model-v1:0"),
        ])
        .unwrap();
        assert_eq!(c.models[0].capabilities, catalog::UNKNOWN_CAPABILITIES);
        assert_eq!(c.models[0].price, None);
        assert_eq!(c.aliases["future"], 0);
    }
}

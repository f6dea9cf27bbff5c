//! The models a deployment may call (`BEDROCK_MODEL_IDS`), what each is (catalog entry, price,
//! Bedrock operation), their short names and the default one.
//!
//! An application inference profile ARN names no model, so the catalog cannot know what is
//! behind it: it is listed as `ARN#MODEL`, MODEL being a catalog alias or a foundation-model id
//! (`arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3#mistral-large-3`).
//! The ARN alone is what Bedrock is sent.

use std::collections::BTreeMap;

use super::AllowedModel;
use super::env::{ConfigError, Env, bad};
use crate::catalog::{self, Capabilities, NativeBody, Price};

/// The allowlist as read from the environment, before the rest of the configuration.
pub struct Models {
    pub allowed: Vec<AllowedModel>,
    pub aliases: BTreeMap<String, usize>,
    pub default_model: usize,
}

const APPLICATION_PROFILE: &str = ":application-inference-profile/";

impl Models {
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let listed = match env.get("BEDROCK_MODEL_IDS") {
            Some(_) => env.list("BEDROCK_MODEL_IDS"),
            None => catalog::MODELS.iter().map(|m| m.id.to_owned()).collect(),
        };
        if listed.is_empty() {
            return Err(bad("BEDROCK_MODEL_IDS", "lists no model id"));
        }
        let prices = match env.get("MODEL_PRICES") {
            Some(raw) => parse_prices(&raw)?,
            None => BTreeMap::new(),
        };
        let mut allowed: Vec<AllowedModel> = Vec::with_capacity(listed.len());
        for item in listed {
            let (id, entry) = identify(&item)?;
            if allowed.iter().any(|m| m.id == id) {
                return Err(bad("BEDROCK_MODEL_IDS", format!("`{id}` is listed twice")));
            }
            let price = prices
                .get(&id)
                .or_else(|| prices.get(catalog::base_id(&id)))
                .or_else(|| entry.and_then(|m| prices.get(m.id)))
                .copied()
                .or_else(|| entry.and_then(|m| m.price));
            allowed.push(AllowedModel {
                capabilities: entry.map_or(catalog::UNKNOWN_CAPABILITIES, |m| m.capabilities),
                catalog: entry,
                price,
                native: None,
                id,
            });
        }
        for key in prices.keys() {
            let known = allowed
                .iter()
                .any(|m| &m.id == key || catalog::base_id(&m.id) == key || m.catalog.is_some_and(|c| c.id == key));
            if !known {
                return Err(bad("MODEL_PRICES", format!("`{key}` is not in BEDROCK_MODEL_IDS")));
            }
        }
        for name in env.list("BEDROCK_INVOKE_MODELS") {
            let index = position(&allowed, &name).ok_or_else(|| {
                bad("BEDROCK_INVOKE_MODELS", format!("`{name}` is not an id or catalog alias of BEDROCK_MODEL_IDS"))
            })?;
            let model = &mut allowed[index];
            let body = model.catalog.and_then(|c| c.native).ok_or_else(|| {
                bad(
                    "BEDROCK_INVOKE_MODELS",
                    format!("`{name}` has no native InvokeModel body this gateway knows (AWS documents Mistral's chat and text bodies for Mistral Large, Small, 7B and Mixtral); call it through Converse"),
                )
            })?;
            model.native = Some(body);
            model.capabilities = native_capabilities(body);
        }

        let mut aliases = BTreeMap::new();
        for (i, m) in allowed.iter().enumerate() {
            if let Some(entry) = m.catalog {
                // The first allowed model of a name wins (a plain id before its profiles, in list
                // order). A name only ever designates its catalog model: with that model not
                // allowed, `mistral-large-latest` is a 404, not another Large.
                for name in entry.all_names() {
                    aliases.entry(name.to_owned()).or_insert(i);
                }
            }
        }
        if let Some(raw) = env.get("BEDROCK_MODEL_ALIASES") {
            for pair in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (alias, target) = pair.split_once('=').ok_or_else(|| {
                    bad("BEDROCK_MODEL_ALIASES", format!("`{pair}` is not of the form alias=model-id"))
                })?;
                let index = allowed.iter().position(|m| m.id == target.trim()).ok_or_else(|| {
                    bad("BEDROCK_MODEL_ALIASES", format!("`{}` is not in BEDROCK_MODEL_IDS", target.trim()))
                })?;
                aliases.insert(alias.trim().to_owned(), index);
            }
        }

        let default_model = match env.get("BEDROCK_DEFAULT_MODEL") {
            Some(name) => {
                allowed.iter().position(|m| m.id == name).or_else(|| aliases.get(&name).copied()).ok_or_else(|| {
                    bad("BEDROCK_DEFAULT_MODEL", format!("`{name}` is neither in BEDROCK_MODEL_IDS nor an alias"))
                })?
            }
            None => 0,
        };
        Ok(Models { allowed, aliases, default_model })
    }
}

impl Models {
    /// The allowed model a setting names: an id, an alias of this deployment, or the catalog
    /// alias or id of the model behind an allowed profile.
    pub fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.allowed
            .iter()
            .position(|m| m.id == name)
            .or_else(|| self.aliases.get(name).copied())
            .or_else(|| position(&self.allowed, name))
    }
}

/// The id Bedrock is sent and the catalog entry of one `BEDROCK_MODEL_IDS` item.
fn identify(item: &str) -> Result<(String, Option<&'static catalog::Model>), ConfigError> {
    let var = "BEDROCK_MODEL_IDS";
    if item.contains(APPLICATION_PROFILE) {
        let (arn, behind) = item.split_once('#').ok_or_else(|| {
            bad(var, format!("`{item}` is an application inference profile: say which model is behind it, as `{item}#mistral-large-3` (a catalog alias or foundation-model id)"))
        })?;
        if !valid_model_id(arn) || !arn.starts_with("arn:") {
            return Err(bad(var, format!("`{arn}` is not an application inference profile ARN")));
        }
        let behind = behind.trim();
        let entry = catalog::by_name(behind);
        if entry.is_none() && !(behind.starts_with("mistral.") && valid_model_id(behind)) {
            return Err(bad(
                var,
                format!("`{behind}` (behind `{arn}`) is neither a catalog alias nor a Mistral foundation-model id"),
            ));
        }
        return Ok((arn.to_owned(), entry));
    }
    if !valid_model_id(item) {
        return Err(bad(var, format!("`{item}` is not a Bedrock model or inference-profile id")));
    }
    Ok((item.to_owned(), catalog::lookup(item)))
}

/// The allowed model `name` designates: its id, or its catalog alias.
fn position(allowed: &[AllowedModel], name: &str) -> Option<usize> {
    allowed.iter().position(|m| m.id == name).or_else(|| {
        let entry = catalog::by_name(name)?;
        allowed.iter().position(|m| m.catalog.is_some_and(|c| c.id == entry.id))
    })
}

/// What a model can do when called with its native body: the chat body has tools (and
/// `response_format`) but no images; the text body is a bare prompt (system text is folded into
/// the first `[INST]`).
fn native_capabilities(body: NativeBody) -> Capabilities {
    match body {
        NativeBody::Chat => Capabilities {
            system_prompt: true,
            tools: true,
            streaming_tools: true,
            images: false,
            json_schema: true,
            reasoning: false,
        },
        NativeBody::Text => Capabilities {
            system_prompt: true,
            tools: false,
            streaming_tools: false,
            images: false,
            json_schema: false,
            reasoning: false,
        },
    }
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

//! Settings from the environment, read and validated once at cold start.
//!
//! A bad value fails startup with a message naming the variable, so a misconfigured deployment
//! shows up in the first cold start's log instead of as odd 4xx/5xx answers later.

pub mod batch;
mod env;
pub mod guardrail;
pub mod keys;
pub mod models;
pub mod routing;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::catalog::{Capabilities, Model, NativeBody, Price};
use routing::RoutingSettings;

pub use env::{ConfigError, Env, bad};
pub use guardrail::Guardrail;

/// A model this deployment may call: the id sent to Bedrock and what the catalog knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowedModel {
    /// Foundation-model or inference-profile id, exactly as Bedrock expects it.
    pub id: String,
    pub catalog: Option<&'static Model>,
    /// What the model can do as this deployment calls it.
    pub capabilities: Capabilities,
    pub price: Option<Price>,
    /// Called through InvokeModel with this native body (`BEDROCK_INVOKE_MODELS`), else Converse.
    pub native: Option<NativeBody>,
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
    /// Tiers, policy and fallbacks of model choice.
    pub routing: RoutingSettings,
    /// The Bedrock guardrail applied to every call, when configured.
    pub guardrail: Option<Guardrail>,
    /// The CloudWatch namespace of the per-request EMF records, `None` when they are off
    /// (`METRICS=off`, and by default outside Lambda, where nothing would collect them).
    pub metrics_namespace: Option<String>,
    /// The certificate authorities the Bedrock client trusts.
    pub tls_roots: TlsRoots,
    /// Bearer keys with budgets and limits, when `KEYS_TABLE` is set.
    pub keys: Option<keys::KeySettings>,
    /// Batch inference, when `BATCH_BUCKET` is set.
    pub batch: Option<batch::BatchSettings>,
}

/// The certificate authorities the Bedrock client trusts (`BEDROCK_TLS_ROOTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRoots {
    /// Amazon Trust Services' roots only, which every AWS endpoint chains to: nothing else can
    /// pose as Bedrock, and a cold start skips reading and parsing the system's ~140 (the default
    /// inside Lambda).
    Amazon,
    /// The system's store: a proxy that re-signs TLS, a private endpoint with its own
    /// certificate (the default outside Lambda).
    System,
}

impl Config {
    /// Reads the process environment (a cold start).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let models = models::Models::load(env)?;
        let routing = RoutingSettings::load(env, &models)?;
        Ok(Config {
            models: models.allowed,
            default_model: models.default_model,
            aliases: models.aliases,
            auto_large_from_chars: env.number("AUTO_LARGE_FROM_CHARS", 4000, 0..=usize::MAX)?,
            bedrock_timeout: Duration::from_millis(env.number("BEDROCK_TIMEOUT_MS", 25_000, 100..=900_000)?),
            connect_timeout: Duration::from_millis(env.number("BEDROCK_CONNECT_TIMEOUT_MS", 3_000, 10..=60_000)?),
            stream_timeout: Duration::from_millis(env.number("STREAM_TIMEOUT_MS", 290_000, 100..=900_000)?),
            max_attempts: env.number("BEDROCK_MAX_ATTEMPTS", 3, 1..=10)?,
            adaptive_retries: env.choice("BEDROCK_RETRY_MODE", &["adaptive", "standard"])? == "adaptive",
            retry_after_secs: env.number("RETRY_AFTER_SECONDS", 2, 1..=3600)?,
            max_body_bytes: env.number("MAX_BODY_BYTES", 1 << 20, 1024..=(6 << 20))?,
            max_messages: env.number("MAX_MESSAGES", 512, 1..=100_000)?,
            max_output_tokens: env.optional_number("MAX_OUTPUT_TOKENS", 1..=1_000_000)?,
            routing,
            guardrail: Guardrail::load(env)?,
            metrics_namespace: metrics_namespace(env)?,
            tls_roots: tls_roots(env)?,
            keys: keys::KeySettings::load(env)?,
            batch: batch::BatchSettings::load(env)?,
        })
    }

    pub fn default_model(&self) -> &AllowedModel {
        &self.models[self.default_model]
    }

    /// The models `model` falls back to, in order.
    pub fn fallbacks(&self, model: &AllowedModel) -> impl Iterator<Item = &AllowedModel> {
        let index = self.models.iter().position(|m| std::ptr::eq(m, model));
        index.and_then(|i| self.routing.fallbacks.get(&i)).into_iter().flatten().map(|&i| &self.models[i])
    }

    /// The routing tiers, cheapest first.
    pub fn tiers(&self) -> impl DoubleEndedIterator<Item = &AllowedModel> + ExactSizeIterator {
        self.routing.tiers.iter().map(|&i| &self.models[i])
    }
}

/// Lambda sets the function's name in every execution environment.
fn in_lambda(env: &Env) -> bool {
    env.get("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

/// `METRICS=emf|off` (default: emf inside Lambda) and `METRICS_NAMESPACE`.
fn metrics_namespace(env: &Env) -> Result<Option<String>, ConfigError> {
    let on = env.choice_or("METRICS", &["emf", "off"], if in_lambda(env) { "emf" } else { "off" })? == "emf";
    Ok(on.then(|| env.get("METRICS_NAMESPACE").unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_owned())))
}

/// `BEDROCK_TLS_ROOTS=amazon|system` (default: amazon inside Lambda).
fn tls_roots(env: &Env) -> Result<TlsRoots, ConfigError> {
    let default = if in_lambda(env) { "amazon" } else { "system" };
    Ok(match env.choice_or("BEDROCK_TLS_ROOTS", &["amazon", "system"], default)? {
        "amazon" => TlsRoots::Amazon,
        _ => TlsRoots::System,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(&Env::from_pairs(vars.iter().copied()))
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
        assert_eq!(c.models[c.aliases["mistral-small-2402"]].id, "mistral.mistral-small-2402-v1:0");
        assert_eq!(c.models[c.aliases["pixtral-large-latest"]].id, "us.mistral.pixtral-large-2502-v1:0");
        // Mistral's API serves Mistral Small 4 under `mistral-small-latest`; Bedrock has no such model.
        assert!(!c.aliases.contains_key("mistral-small-latest"));
        assert!(!c.aliases.contains_key("mistral-large"));
    }

    #[test]
    fn latest_names_follow_mistrals_api_and_never_fall_back_to_another_model() {
        let both = config(&[(
            "BEDROCK_MODEL_IDS",
            "mistral.mistral-large-2407-v1:0,mistral.mistral-large-3-675b-instruct,mistral.magistral-small-2509",
        )])
        .unwrap();
        let id = |c: &Config, name: &str| c.aliases.get(name).map(|&i| c.models[i].id.clone());
        assert_eq!(id(&both, "mistral-large-latest").as_deref(), Some("mistral.mistral-large-3-675b-instruct"));
        assert_eq!(id(&both, "mistral-large").as_deref(), Some("mistral.mistral-large-2407-v1:0"));
        assert_eq!(id(&both, "mistral-large-2407").as_deref(), Some("mistral.mistral-large-2407-v1:0"));
        assert_eq!(id(&both, "magistral-small-latest").as_deref(), Some("mistral.magistral-small-2509"));
        let large_2_only = config(&[("BEDROCK_MODEL_IDS", "mistral.mistral-large-2407-v1:0")]).unwrap();
        assert_eq!(id(&large_2_only, "mistral-large-latest"), None);
        assert_eq!(id(&large_2_only, "mistral-large").as_deref(), Some("mistral.mistral-large-2407-v1:0"));
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
            (&[("BEDROCK_TLS_ROOTS", "webpki")], "BEDROCK_TLS_ROOTS"),
            (&[("METRICS", "prometheus")], "METRICS"),
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

    #[test]
    fn application_profiles_name_the_model_behind_them() {
        let arn = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";
        let c = config(&[("BEDROCK_MODEL_IDS", &format!("{arn}#mistral-large-3,mistral.mistral-small-2402-v1:0"))])
            .unwrap();
        assert_eq!(c.models[0].id, arn, "Bedrock is sent the ARN alone");
        assert_eq!(c.models[0].catalog.unwrap().alias, "mistral-large-3");
        assert_eq!(c.models[0].price, catalog::by_name("mistral-large-3").unwrap().price);
        assert_eq!(c.models[c.aliases["mistral-large-3"]].id, arn);
        let err = config(&[("BEDROCK_MODEL_IDS", arn)]).unwrap_err();
        assert_eq!(err.var, "BEDROCK_MODEL_IDS");
        assert!(err.reason.contains("#mistral-large-3"), "{err}");
        let err = config(&[("BEDROCK_MODEL_IDS", &format!("{arn}#gpt-4o"))]).unwrap_err();
        assert!(err.reason.contains("gpt-4o"), "{err}");
    }

    #[test]
    fn invoke_models_take_their_native_body() {
        let c = config(&[("BEDROCK_INVOKE_MODELS", "mistral-large, mistral.mixtral-8x7b-instruct-v0:1")]).unwrap();
        let model = |alias: &str| &c.models[c.aliases[alias]];
        assert_eq!(model("mistral-large").native, Some(NativeBody::Chat));
        assert!(model("mistral-large").capabilities.json_schema);
        assert_eq!(model("mixtral-8x7b").native, Some(NativeBody::Text));
        assert!(model("mixtral-8x7b").capabilities.system_prompt, "system text is folded into the prompt");
        assert_eq!(model("mistral-small").native, None);
        for (value, needle) in [("pixtral-large", "native"), ("gpt-4o", "gpt-4o")] {
            let err = config(&[("BEDROCK_INVOKE_MODELS", value)]).unwrap_err();
            assert_eq!(err.var, "BEDROCK_INVOKE_MODELS");
            assert!(err.reason.contains(needle), "{err}");
        }
    }

    #[test]
    fn bedrock_trusts_amazon_roots_inside_lambda_and_the_system_elsewhere() {
        let lambda = ("AWS_LAMBDA_FUNCTION_NAME", "converse");
        assert_eq!(config(&[lambda]).unwrap().tls_roots, TlsRoots::Amazon);
        assert_eq!(config(&[]).unwrap().tls_roots, TlsRoots::System);
        assert_eq!(config(&[lambda, ("BEDROCK_TLS_ROOTS", "system")]).unwrap().tls_roots, TlsRoots::System);
        assert_eq!(config(&[("BEDROCK_TLS_ROOTS", "amazon")]).unwrap().tls_roots, TlsRoots::Amazon);
    }

    #[test]
    fn metrics_are_on_inside_lambda_and_off_elsewhere_unless_set() {
        let lambda = ("AWS_LAMBDA_FUNCTION_NAME", "converse");
        assert_eq!(config(&[lambda]).unwrap().metrics_namespace.as_deref(), Some(crate::metrics::DEFAULT_NAMESPACE));
        assert_eq!(config(&[]).unwrap().metrics_namespace, None);
        assert_eq!(config(&[lambda, ("METRICS", "off")]).unwrap().metrics_namespace, None);
        let named = config(&[("METRICS", "emf"), ("METRICS_NAMESPACE", "Team")]).unwrap();
        assert_eq!(named.metrics_namespace.as_deref(), Some("Team"));
    }
}

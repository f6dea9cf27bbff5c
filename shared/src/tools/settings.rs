//! The tool loop's settings from the environment, validated once at cold start: a bad value
//! fails startup with a message naming the variable.

use std::time::Duration;

use super::auth::Secret;
use super::ssrf::{AddressPolicy, Allowlist, UrlPolicy};
use crate::config::{ConfigError, Env, bad};

#[derive(Debug, Clone)]
pub struct ToolSettings {
    /// Most model calls (Converse) one request may make (`TOOLS_MAX_STEPS`).
    pub max_steps: u32,
    /// Time budget of the whole loop, model and tools (`TOOLS_DEADLINE_MS`). API Gateway gives
    /// up after 29 s, so the default leaves room for the response to get back.
    pub deadline: Duration,
    /// Time one tool call may take unless its definition says otherwise (`TOOLS_TIMEOUT_MS`).
    pub tool_timeout: Duration,
    /// Largest tool result (serialized JSON) or webhook reply body (`TOOLS_MAX_RESULT_BYTES`).
    pub max_result_bytes: usize,
    /// Which addresses outgoing calls may reach besides public ones.
    pub addresses: AddressPolicy,
    /// Where webhook tools may point (`TOOLS_WEBHOOK_ALLOWLIST`).
    pub webhooks: UrlPolicy,
    /// Where event results may be sent (`TOOLS_CALLBACK_ALLOWLIST`, else the webhook allowlist).
    pub callbacks: UrlPolicy,
    /// Required signature on incoming requests (`TOOLS_INBOUND_SECRET[_FILE]`).
    pub inbound_secret: Option<Secret>,
    /// Signs the results POSTed to event callbacks (`TOOLS_CALLBACK_SECRET[_FILE]`).
    pub callback_secret: Option<Secret>,
}

impl ToolSettings {
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let allow_loopback = env.flag("TOOLS_ALLOW_LOOPBACK")?;
        // Inside Lambda, loopback is where the Runtime API and extensions listen: a webhook or
        // callback pointed there could fetch or answer other invocations, or read secrets. AWS
        // sets AWS_LAMBDA_INITIALIZATION_TYPE in every execution environment; local runtimes
        // (`cargo lambda watch`) set AWS_LAMBDA_RUNTIME_API but not it, so they may use loopback.
        if allow_loopback && env.get("AWS_LAMBDA_INITIALIZATION_TYPE").is_some() {
            return Err(bad("TOOLS_ALLOW_LOOPBACK", "is for local development only and is refused inside AWS Lambda"));
        }
        let addresses = AddressPolicy { allow_loopback, allow_private: env.flag("TOOLS_ALLOW_PRIVATE_NETWORKS")? };
        let webhook_list = match env.get("TOOLS_WEBHOOK_ALLOWLIST") {
            Some(raw) => Allowlist::parse(&raw).map_err(|e| bad("TOOLS_WEBHOOK_ALLOWLIST", e.to_string()))?,
            None => Allowlist::default(),
        };
        let callback_list = match env.get("TOOLS_CALLBACK_ALLOWLIST") {
            Some(raw) => Allowlist::parse(&raw).map_err(|e| bad("TOOLS_CALLBACK_ALLOWLIST", e.to_string()))?,
            None => webhook_list.clone(),
        };

        Ok(ToolSettings {
            max_steps: env.number("TOOLS_MAX_STEPS", 8, 1..=50)?,
            deadline: Duration::from_millis(env.number("TOOLS_DEADLINE_MS", 25_000, 1_000..=900_000)?),
            tool_timeout: Duration::from_millis(env.number("TOOLS_TIMEOUT_MS", 5_000, 10..=300_000)?),
            max_result_bytes: env.number("TOOLS_MAX_RESULT_BYTES", 64 * 1024, 256..=(4 << 20))?,
            addresses,
            webhooks: UrlPolicy { allowlist: webhook_list, addresses, allowlist_var: "TOOLS_WEBHOOK_ALLOWLIST" },
            callbacks: UrlPolicy {
                allowlist: callback_list,
                addresses,
                // Named in refusals: the variable the README documents for callbacks, and what it
                // falls back to when unset.
                allowlist_var: if env.get("TOOLS_CALLBACK_ALLOWLIST").is_some() {
                    "TOOLS_CALLBACK_ALLOWLIST"
                } else {
                    "TOOLS_CALLBACK_ALLOWLIST, unset, so TOOLS_WEBHOOK_ALLOWLIST"
                },
            },
            inbound_secret: secret(env, "TOOLS_INBOUND_SECRET", "TOOLS_INBOUND_SECRET_FILE")?,
            callback_secret: secret(env, "TOOLS_CALLBACK_SECRET", "TOOLS_CALLBACK_SECRET_FILE")?,
        })
    }
}

/// A secret given inline (`VAR`) or as a file path (`VAR_FILE`, e.g. a file bundled with the
/// function or mounted from a secrets extension), not both.
pub(crate) fn secret(env: &Env, var: &'static str, file_var: &'static str) -> Result<Option<Secret>, ConfigError> {
    let bytes = match (env.get(var), env.get(file_var)) {
        (Some(_), Some(_)) => return Err(bad(var, format!("set either {var} or {file_var}, not both"))),
        (Some(inline), None) => inline.into_bytes(),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| bad(file_var, format!("cannot read `{path}` ({e})")))?;
            text.trim_end_matches(['\r', '\n']).as_bytes().to_vec()
        }
        (None, None) => return Ok(None),
    };
    Secret::new(bytes).map(Some).map_err(|e| bad(var, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<ToolSettings, ConfigError> {
        ToolSettings::load(&Env::from_pairs(vars.iter().copied()))
    }

    #[test]
    fn defaults_fit_api_gateway() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.max_steps, 8);
        assert!(s.deadline < Duration::from_secs(29));
        assert!(s.inbound_secret.is_none());
        assert!(s.webhooks.allowlist.is_empty());
        assert_eq!(s.addresses, AddressPolicy::default());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("TOOLS_MAX_STEPS", "0")], "TOOLS_MAX_STEPS"),
            (&[("TOOLS_DEADLINE_MS", "soon")], "TOOLS_DEADLINE_MS"),
            (&[("TOOLS_ALLOW_LOOPBACK", "maybe")], "TOOLS_ALLOW_LOOPBACK"),
            (
                &[("TOOLS_ALLOW_LOOPBACK", "true"), ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")],
                "TOOLS_ALLOW_LOOPBACK",
            ),
            (&[("TOOLS_WEBHOOK_ALLOWLIST", "*")], "TOOLS_WEBHOOK_ALLOWLIST"),
            (&[("TOOLS_INBOUND_SECRET", "short")], "TOOLS_INBOUND_SECRET"),
            (
                &[("TOOLS_INBOUND_SECRET", "x".repeat(20).leak()), ("TOOLS_INBOUND_SECRET_FILE", "/s")],
                "TOOLS_INBOUND_SECRET",
            ),
            (&[("TOOLS_CALLBACK_SECRET_FILE", "/nonexistent/secret")], "TOOLS_CALLBACK_SECRET_FILE"),
        ];
        for (vars, var) in cases {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.var, *var, "{err}");
        }
    }

    #[test]
    fn loopback_is_allowed_under_a_local_lambda_runtime() {
        // `cargo lambda watch` sets the Runtime API but is not an AWS execution environment.
        let s = settings(&[("TOOLS_ALLOW_LOOPBACK", "true"), ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9000")]).unwrap();
        assert!(s.addresses.allow_loopback);
    }

    #[test]
    fn callbacks_default_to_the_webhook_allowlist() {
        let s = settings(&[("TOOLS_WEBHOOK_ALLOWLIST", "hooks.example.com")]).unwrap();
        assert_eq!(s.callbacks.allowlist, s.webhooks.allowlist);
        let s =
            settings(&[("TOOLS_WEBHOOK_ALLOWLIST", "a.example.com"), ("TOOLS_CALLBACK_ALLOWLIST", "b.example.com")])
                .unwrap();
        assert_ne!(s.callbacks.allowlist, s.webhooks.allowlist);
        assert_eq!(s.callbacks.allowlist_var, "TOOLS_CALLBACK_ALLOWLIST");
    }
}

//! Webhook tools: tools defined by configuration and run by an HTTPS endpoint, and the signed,
//! SSRF-guarded HTTP client they share with event callbacks.
//!
//! `TOOLS_WEBHOOKS` (JSON) or `TOOLS_WEBHOOKS_FILE` (a JSON file bundled with the function):
//!
//! ```json
//! [{"name": "lookup_order", "description": "Order status by id",
//!   "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
//!   "url": "https://tools.example.com/orders", "timeout_ms": 3000, "secret_env": "ORDERS_TOOL_SECRET"}]
//! ```
//!
//! A call is `POST url` with `{"tool", "arguments", "call_id", "request_id"}`, signed as
//! [`super::auth`] describes with the secret held by the variable `secret_env` names; a 2xx JSON
//! reply becomes the tool result. Redirects are not followed, the reply is read up to
//! `TOOLS_MAX_RESULT_BYTES`, and the call is cut at its timeout.

mod client;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Secret;
use super::settings::ToolSettings;
use super::ssrf::UrlPolicy;
use super::{Invocation, Tool, ToolError};
use crate::config::{ConfigError, Env};

pub use client::{ClientBuildError, Outbound, OutboundError, Reply};

/// Longest webhook error-body excerpt passed on to the model.
const EXCERPT_CHARS: usize = 300;

/// One entry of `TOOLS_WEBHOOKS`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parameters: Option<Value>,
    pub url: String,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Name of the environment variable that holds the signing secret.
    pub secret_env: String,
}

/// The configured webhook specs, and the variable they came from (for error messages).
pub fn specs_from(env: &Env) -> Result<(&'static str, Vec<WebhookSpec>), ConfigError> {
    let (var, raw) = match (env.get("TOOLS_WEBHOOKS"), env.get("TOOLS_WEBHOOKS_FILE")) {
        (Some(_), Some(_)) => {
            return Err(ConfigError {
                var: "TOOLS_WEBHOOKS",
                reason: "set either TOOLS_WEBHOOKS or TOOLS_WEBHOOKS_FILE, not both".into(),
            });
        }
        (Some(inline), None) => ("TOOLS_WEBHOOKS", inline),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                var: "TOOLS_WEBHOOKS_FILE",
                reason: format!("cannot read `{path}` ({e})"),
            })?;
            ("TOOLS_WEBHOOKS_FILE", text)
        }
        (None, None) => return Ok(("TOOLS_WEBHOOKS", Vec::new())),
    };
    let specs = serde_json::from_str(&raw).map_err(|e| ConfigError {
        var,
        reason: format!(
            "{e}; expected [{{\"name\", \"description\", \"parameters\", \"url\", \"timeout_ms\", \"secret_env\"}}, ...]"
        ),
    })?;
    Ok((var, specs))
}

/// Builds the webhook tools of `specs`: URLs checked against the allowlist, secrets read.
pub fn tools(
    var: &'static str,
    specs: Vec<WebhookSpec>,
    settings: &ToolSettings,
    outbound: &Arc<Outbound>,
    env: &Env,
) -> Result<Vec<Arc<dyn Tool>>, ConfigError> {
    let mut tools: Vec<Arc<dyn Tool>> = Vec::with_capacity(specs.len());
    for spec in specs {
        let bad = |reason: String| ConfigError { var, reason: format!("webhook `{}`: {reason}", spec.name) };
        if settings.webhooks.allowlist.is_empty() {
            return Err(bad("TOOLS_WEBHOOK_ALLOWLIST is empty; list the hosts webhooks may call".into()));
        }
        let url = settings.webhooks.check(&spec.url).map_err(|e| bad(e.0))?;
        let timeout = match spec.timeout_ms {
            None => settings.tool_timeout,
            Some(ms @ 10..=300_000) => Duration::from_millis(ms),
            Some(ms) => return Err(bad(format!("timeout_ms {ms} is outside 10..=300000"))),
        };
        let secret = env
            .get(&spec.secret_env)
            .ok_or_else(|| bad(format!("its secret_env `{}` is not set", spec.secret_env)))
            .and_then(|s| Secret::new(s).map_err(|e| bad(format!("{}: {e}", spec.secret_env))))?;
        let parameters = spec.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}}));
        tools.push(Arc::new(WebhookTool {
            name: spec.name,
            description: spec.description,
            parameters,
            url,
            policy: settings.webhooks.clone(),
            timeout,
            secret,
            outbound: outbound.clone(),
        }));
    }
    Ok(tools)
}

/// A tool run by an HTTPS endpoint.
pub struct WebhookTool {
    name: String,
    description: String,
    parameters: Value,
    url: Url,
    policy: UrlPolicy,
    timeout: Duration,
    secret: Secret,
    outbound: Arc<Outbound>,
}

impl Tool for WebhookTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.parameters.clone()
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn call<'a>(&'a self, invocation: Invocation<'a>) -> BoxFuture<'a, Result<Value, ToolError>> {
        Box::pin(async move {
            // Checked at cold start too; checking again costs nothing and keeps the rule local.
            self.policy.check(self.url.as_str()).map_err(|e| ToolError::Refused(e.0))?;
            let body = serde_json::to_vec(&json!({
                "tool": self.name,
                "arguments": invocation.arguments,
                "call_id": invocation.call_id,
                "request_id": invocation.request_id,
            }))
            .map_err(|e| ToolError::Failed(format!("cannot encode the call ({e})")))?;
            let left = invocation.deadline.saturating_duration_since(tokio::time::Instant::now());
            let timeout = self.timeout.min(left);
            let reply =
                self.outbound.post_signed(&self.url, body, &self.secret, timeout).await.map_err(|e| match e {
                    OutboundError::Refused(why) => ToolError::Refused(why),
                    OutboundError::TimedOut(d) => ToolError::TimedOut(d),
                    OutboundError::TooLarge { limit } => ToolError::TooLarge { limit },
                    OutboundError::Failed(why) => {
                        ToolError::Failed(format!("the webhook could not be reached ({why})"))
                    }
                })?;
            if reply.status.is_redirection() {
                return Err(ToolError::BadReply(format!(
                    "the webhook answered HTTP {} (a redirect, which is not followed)",
                    reply.status.as_u16()
                )));
            }
            if !reply.status.is_success() {
                return Err(ToolError::BadReply(format!(
                    "the webhook answered HTTP {}{}",
                    reply.status.as_u16(),
                    excerpt(&reply.body)
                )));
            }
            serde_json::from_slice(&reply.body)
                .map_err(|e| ToolError::BadReply(format!("the webhook's reply is not JSON ({e})")))
        })
    }
}

/// `: <start of the body>` when the body is text, so a webhook's own error message reaches the
/// model; nothing for binary or empty bodies.
fn excerpt(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if !text.trim().is_empty() => {
            let cut: String = text.trim().chars().take(EXCERPT_CHARS).collect();
            format!(": {cut}")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(vars: &[(&str, &str)]) -> Result<Vec<Arc<dyn Tool>>, ConfigError> {
        let env = Env::from_pairs(vars.iter().copied());
        let settings = ToolSettings::load(&env)?;
        let outbound = Arc::new(Outbound::new(settings.addresses, settings.max_result_bytes).unwrap());
        let (var, specs) = specs_from(&env)?;
        tools(var, specs, &settings, &outbound, &env)
    }

    const HOOK: &str = r#"[{"name": "lookup_order", "url": "https://tools.example.com/orders", "secret_env": "ORDERS_SECRET",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}, "timeout_ms": 1500}]"#;

    #[test]
    fn webhooks_are_built_from_the_environment() {
        let tools = build(&[
            ("TOOLS_WEBHOOKS", HOOK),
            ("TOOLS_WEBHOOK_ALLOWLIST", "tools.example.com"),
            ("ORDERS_SECRET", "a-secret-of-sixteen-bytes"),
        ])
        .unwrap();
        assert_eq!(tools[0].name(), "lookup_order");
        assert_eq!(tools[0].timeout(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn misconfigured_webhooks_fail_the_cold_start() {
        let secret = ("ORDERS_SECRET", "a-secret-of-sixteen-bytes");
        let allow = ("TOOLS_WEBHOOK_ALLOWLIST", "tools.example.com");
        let plain_http = HOOK.replace("https://", "http://");
        let misspelt = HOOK.replace("secret_env", "secret");
        // (variables, the variable the error names, what it says)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (vec![("TOOLS_WEBHOOKS", HOOK), secret], "TOOLS_WEBHOOKS", "ALLOWLIST is empty"),
            (vec![("TOOLS_WEBHOOKS", HOOK), allow], "TOOLS_WEBHOOKS", "ORDERS_SECRET"),
            (
                vec![("TOOLS_WEBHOOKS", HOOK), ("TOOLS_WEBHOOK_ALLOWLIST", "other.example.com"), secret],
                "TOOLS_WEBHOOKS",
                "allowlist",
            ),
            (vec![("TOOLS_WEBHOOKS", &plain_http), allow, secret], "TOOLS_WEBHOOKS", "plain http"),
            (vec![("TOOLS_WEBHOOKS", "{\"name\": 1}"), allow, secret], "TOOLS_WEBHOOKS", "expected"),
            (vec![("TOOLS_WEBHOOKS", &misspelt), allow, secret], "TOOLS_WEBHOOKS", "unknown field"),
            (vec![("TOOLS_WEBHOOKS_FILE", "/nonexistent/tools.json")], "TOOLS_WEBHOOKS_FILE", "cannot read"),
        ];
        for (vars, var, says) in cases {
            let err = build(&vars).err().unwrap_or_else(|| panic!("{vars:?} should fail"));
            assert_eq!(err.var, var, "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!err.to_string().contains("a-secret-of-sixteen-bytes"), "secret leaked: {err}");
        }
    }

    #[test]
    fn error_excerpts_are_short_and_textual() {
        assert_eq!(excerpt(b"  {\"error\": \"no such order\"} "), ": {\"error\": \"no such order\"}");
        assert_eq!(excerpt(&[0xff, 0xfe]), "");
        assert_eq!(excerpt(&[b'x'; 1000]).len(), 2 + EXCERPT_CHARS);
    }
}

//! Guardrails: the configuration a call carries (Converse's `guardrailConfig`, InvokeModel's
//! `X-Amzn-Bedrock-Guardrail*` headers), checked as Bedrock checks it, and what a configured
//! guardrail does to an answer: nothing, or with `[[intervene]]`, the blocked message in place of
//! the output; with a trace asked for, the assessment (in `assessment.rs`).

mod assessment;

use axum::http::HeaderMap;
use serde_json::Value;

use super::faults::BedrockError;

/// What the emulator's guardrail answers in place of blocked output: the default blocked
/// message of a guardrail created in the Bedrock console.
pub const BLOCKED_MESSAGE: &str = "Sorry, the model cannot answer this question.";

/// A guardrail configured on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardrail {
    pub identifier: String,
    pub version: String,
    pub trace: Trace,
}

/// How much of the assessment the answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    Disabled,
    Enabled,
    /// Every filter, also those that detected nothing.
    EnabledFull,
}

const IDENTIFIER_PATTERN: &str =
    "(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))";
const VERSION_PATTERN: &str = "(([1-9][0-9]{0,7})|(DRAFT))";

fn constraint(value: &str, path: &str, rule: &str) -> BedrockError {
    BedrockError::validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
    ))
}

/// Converse's `guardrailConfig` (`streaming`: ConverseStream's, which also takes
/// `streamProcessingMode`).
pub fn from_converse(body: &Value, streaming: bool) -> Result<Option<Guardrail>, BedrockError> {
    let config = &body["guardrailConfig"];
    if config.is_null() {
        return Ok(None);
    }
    if !config.is_object() {
        return Err(BedrockError::validation("guardrailConfig must be a GuardrailConfiguration object."));
    }
    let field = |name: &str| -> Result<String, BedrockError> {
        match &config[name] {
            Value::String(text) => Ok(text.clone()),
            Value::Null => Err(constraint("null", &format!("guardrailConfig.{name}"), "not be null")),
            other => Err(constraint(&other.to_string(), &format!("guardrailConfig.{name}"), "be a string")),
        }
    };
    let identifier = field("guardrailIdentifier")?;
    let version = field("guardrailVersion")?;
    let trace = match config["trace"].as_str() {
        None if config["trace"].is_null() => Trace::Disabled,
        Some("disabled") => Trace::Disabled,
        Some("enabled") => Trace::Enabled,
        Some("enabled_full") => Trace::EnabledFull,
        _ => {
            let value = config["trace"].to_string();
            return Err(constraint(
                value.trim_matches('"'),
                "guardrailConfig.trace",
                "satisfy enum value set: [enabled, disabled, enabled_full]",
            ));
        }
    };
    match (&config["streamProcessingMode"], streaming) {
        (Value::Null, _) => {}
        (_, false) => {
            return Err(BedrockError::validation(
                "guardrailConfig.streamProcessingMode is only accepted by ConverseStream: Converse takes a GuardrailConfiguration, which has no such member.",
            ));
        }
        (mode, true) if mode == "sync" || mode == "async" => {}
        (mode, true) => {
            let value = mode.to_string();
            return Err(constraint(
                value.trim_matches('"'),
                "guardrailConfig.streamProcessingMode",
                "satisfy enum value set: [sync, async]",
            ));
        }
    }
    checked(identifier, version, trace, "guardrailConfig.")
}

/// InvokeModel's `X-Amzn-Bedrock-GuardrailIdentifier`, `-GuardrailVersion` and `-Trace`
/// (`ENABLED`, `DISABLED`, `ENABLED_FULL`) headers.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<Guardrail>, BedrockError> {
    let header = |name: &str| headers.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let identifier = header("x-amzn-bedrock-guardrailidentifier");
    let version = header("x-amzn-bedrock-guardrailversion");
    let trace = match header("x-amzn-bedrock-trace").as_deref() {
        None | Some("DISABLED") => Trace::Disabled,
        Some("ENABLED") => Trace::Enabled,
        Some("ENABLED_FULL") => Trace::EnabledFull,
        Some(other) => {
            return Err(constraint(other, "trace", "satisfy enum value set: [ENABLED, DISABLED, ENABLED_FULL]"));
        }
    };
    match (identifier, version) {
        (None, None) => Ok(None),
        (Some(identifier), Some(version)) => checked(identifier, version, trace, ""),
        (Some(_), None) => Err(BedrockError::validation(
            "Guardrail version is required when a guardrail identifier is given (X-Amzn-Bedrock-GuardrailVersion).",
        )),
        (None, Some(_)) => Err(BedrockError::validation(
            "Guardrail identifier is required when a guardrail version is given (X-Amzn-Bedrock-GuardrailIdentifier).",
        )),
    }
}

fn checked(identifier: String, version: String, trace: Trace, prefix: &str) -> Result<Option<Guardrail>, BedrockError> {
    if !is_identifier(&identifier) {
        return Err(constraint(
            &identifier,
            &format!("{prefix}guardrailIdentifier"),
            &format!("satisfy regular expression pattern: {IDENTIFIER_PATTERN}"),
        ));
    }
    let numbered =
        (1..=8).contains(&version.len()) && !version.starts_with('0') && version.bytes().all(|b| b.is_ascii_digit());
    if version != "DRAFT" && !numbered {
        return Err(constraint(
            &version,
            &format!("{prefix}guardrailVersion"),
            &format!("satisfy regular expression pattern: {VERSION_PATTERN}"),
        ));
    }
    Ok(Some(Guardrail { identifier, version, trace }))
}

fn is_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `[a-z0-9]+` or `arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+`.
fn is_identifier(identifier: &str) -> bool {
    if identifier.len() > 2048 {
        return false;
    }
    let parts: Vec<&str> = identifier.split(':').collect();
    match parts.as_slice() {
        [id] => is_id(id),
        ["arn", partition, "bedrock", region, account, resource] => {
            (*partition == "aws" || partition.strip_prefix("aws-").is_some_and(|rest| !rest.is_empty()))
                && (1..=20).contains(&region.len())
                && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("guardrail/").is_some_and(is_id)
        }
        _ => false,
    }
}

impl Guardrail {
    /// The guardrail's id (the last part of an ARN), which keys its assessments in a trace.
    pub fn id(&self) -> &str {
        self.identifier.rsplit_once('/').map_or(&self.identifier, |(_, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    fn config(value: Value, streaming: bool) -> Result<Option<Guardrail>, BedrockError> {
        from_converse(&json!({ "guardrailConfig": value }), streaming)
    }

    #[test]
    fn converse_configs_are_checked_like_bedrock() {
        let ok = |value: Value, streaming| config(value, streaming).unwrap().unwrap();
        let arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123";
        let full = ok(json!({ "guardrailIdentifier": arn, "guardrailVersion": "12", "trace": "enabled_full" }), false);
        assert_eq!((full.id(), full.trace), ("abc123", Trace::EnabledFull));
        ok(json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "DRAFT", "streamProcessingMode": "async" }), true);
        for (value, streaming, expected) in [
            (json!({ "guardrailIdentifier": "Bad-Id", "guardrailVersion": "1" }), false, "guardrailIdentifier"),
            (json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "0" }), false, "guardrailVersion"),
            (json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "123456789" }), false, "guardrailVersion"),
            (json!({ "guardrailVersion": "1" }), false, "not be null"),
            (json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "on" }), false, "enum value set"),
            (
                json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "1", "streamProcessingMode": "sync" }),
                false,
                "only accepted by ConverseStream",
            ),
            (
                json!({ "guardrailIdentifier": "gr1", "guardrailVersion": "1", "streamProcessingMode": "later" }),
                true,
                "[sync, async]",
            ),
        ] {
            let message = config(value.clone(), streaming).unwrap_err().message;
            assert!(message.contains(expected), "{value}: {message}");
        }
        assert!(!is_identifier("arn:aws:bedrock:us-east-1:12345:guardrail/abc"));
        assert_eq!(from_converse(&json!({}), false), Ok(None));
    }

    #[test]
    fn invoke_headers_configure_a_guardrail() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Ok(None));
        headers.insert("x-amzn-bedrock-guardrailidentifier", HeaderValue::from_static("gr1"));
        assert!(from_headers(&headers).unwrap_err().message.contains("version is required"));
        headers.insert("x-amzn-bedrock-guardrailversion", HeaderValue::from_static("3"));
        headers.insert("x-amzn-bedrock-trace", HeaderValue::from_static("ENABLED"));
        let guardrail = from_headers(&headers).unwrap().unwrap();
        assert_eq!(
            (guardrail.identifier.as_str(), guardrail.version.as_str(), guardrail.trace),
            ("gr1", "3", Trace::Enabled)
        );
    }
}

//! The Bedrock guardrail applied to every model call (`BEDROCK_GUARDRAIL_ID`,
//! `BEDROCK_GUARDRAIL_VERSION`, `BEDROCK_GUARDRAIL_TRACE`, `BEDROCK_GUARDRAIL_STREAM_MODE`),
//! checked against Bedrock's own patterns so a typo fails the cold start, not every request.

use super::env::{ConfigError, Env, bad};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardrail {
    /// The guardrail's id or ARN.
    pub id: String,
    /// `DRAFT` or a version number.
    pub version: String,
    /// `disabled`, `enabled` or `enabled_full`: whether Bedrock returns its assessment.
    pub trace: &'static str,
    /// ConverseStream only: `sync` holds each chunk until the guardrail has seen it, `async`
    /// sends chunks at once and stops the stream when the guardrail intervenes.
    pub stream_mode: &'static str,
}

impl Guardrail {
    pub fn load(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(id) = env.get("BEDROCK_GUARDRAIL_ID") else {
            for var in ["BEDROCK_GUARDRAIL_VERSION", "BEDROCK_GUARDRAIL_TRACE", "BEDROCK_GUARDRAIL_STREAM_MODE"] {
                if env.get(var).is_some() {
                    return Err(bad(
                        "BEDROCK_GUARDRAIL_ID",
                        format!("is not set, but {var} is: set the guardrail's id or ARN"),
                    ));
                }
            }
            return Ok(None);
        };
        if !valid_id(&id) {
            return Err(bad(
                "BEDROCK_GUARDRAIL_ID",
                format!(
                    "`{id}` is neither a guardrail id ([a-z0-9]+) nor a guardrail ARN (arn:aws:bedrock:REGION:ACCOUNT:guardrail/ID)"
                ),
            ));
        }
        let version = env.get("BEDROCK_GUARDRAIL_VERSION").unwrap_or_else(|| "DRAFT".to_owned());
        let numbered = !version.is_empty()
            && version.len() <= 8
            && !version.starts_with('0')
            && version.bytes().all(|b| b.is_ascii_digit());
        if version != "DRAFT" && !numbered {
            return Err(bad("BEDROCK_GUARDRAIL_VERSION", format!("`{version}` is neither DRAFT nor a version number")));
        }
        Ok(Some(Guardrail {
            id,
            version,
            trace: env.choice("BEDROCK_GUARDRAIL_TRACE", &["disabled", "enabled", "enabled_full"])?,
            stream_mode: env.choice("BEDROCK_GUARDRAIL_STREAM_MODE", &["sync", "async"])?,
        }))
    }
}

fn valid_id(id: &str) -> bool {
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if plain(id) {
        return true;
    }
    let parts: Vec<&str> = id.split(':').collect();
    matches!(parts.as_slice(), [arn, partition, "bedrock", region, account, resource]
        if *arn == "arn"
            && partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("guardrail/").is_some_and(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Option<Guardrail>, ConfigError> {
        Guardrail::load(&Env::from_pairs(vars.iter().copied()))
    }

    #[test]
    fn a_guardrail_is_an_id_or_arn_with_a_version() {
        assert_eq!(load(&[]).unwrap(), None);
        let g = load(&[("BEDROCK_GUARDRAIL_ID", "abc123xyz")]).unwrap().unwrap();
        assert_eq!((g.version.as_str(), g.trace, g.stream_mode), ("DRAFT", "disabled", "sync"));
        let arn = "arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123xyz";
        assert!(load(&[("BEDROCK_GUARDRAIL_ID", arn), ("BEDROCK_GUARDRAIL_VERSION", "3")]).unwrap().is_some());
    }

    #[test]
    fn bad_guardrail_settings_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("BEDROCK_GUARDRAIL_ID", "Not-Valid")], "BEDROCK_GUARDRAIL_ID"),
            (&[("BEDROCK_GUARDRAIL_ID", "arn:aws:bedrock:us-east-1:1:guardrail/x")], "BEDROCK_GUARDRAIL_ID"),
            (&[("BEDROCK_GUARDRAIL_ID", "abc"), ("BEDROCK_GUARDRAIL_VERSION", "v1")], "BEDROCK_GUARDRAIL_VERSION"),
            (&[("BEDROCK_GUARDRAIL_ID", "abc"), ("BEDROCK_GUARDRAIL_TRACE", "full")], "BEDROCK_GUARDRAIL_TRACE"),
            (
                &[("BEDROCK_GUARDRAIL_ID", "abc"), ("BEDROCK_GUARDRAIL_STREAM_MODE", "later")],
                "BEDROCK_GUARDRAIL_STREAM_MODE",
            ),
            (&[("BEDROCK_GUARDRAIL_VERSION", "1")], "BEDROCK_GUARDRAIL_ID"),
        ];
        for (vars, var) in cases {
            assert_eq!(load(vars).unwrap_err().var, *var, "{vars:?}");
        }
    }
}

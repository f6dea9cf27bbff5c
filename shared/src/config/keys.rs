//! Keys, budgets and limits (`KEYS_*`): on when `KEYS_TABLE` names the table, read once at cold
//! start like every other setting.

use std::time::Duration;

use super::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySettings {
    /// The DynamoDB table of keys, budgets and spend (`KEYS_TABLE`).
    pub table: String,
    /// How long a key read from the table is trusted (`KEYS_CACHE_TTL_MS`): a revoked key keeps
    /// working at most this long. Budgets and limits are never cached.
    pub cache_ttl: Duration,
    /// How long a reservation holds budget if its call never settles (a crash)
    /// (`KEYS_RESERVATION_TTL_SECS`); longer than any call may run.
    pub reservation_ttl: Duration,
    /// The output tokens a budgeted call is bounded by when the request sets no `max_tokens`
    /// (`KEYS_OUTPUT_BOUND`): the call is sent with this `max_tokens`, so its worst case is known.
    pub output_bound: u32,
}

impl KeySettings {
    pub fn load(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(table) = env.get("KEYS_TABLE").filter(|t| !t.trim().is_empty()) else { return Ok(None) };
        Ok(Some(KeySettings {
            table,
            cache_ttl: Duration::from_millis(env.number("KEYS_CACHE_TTL_MS", 30_000, 0..=600_000)?),
            reservation_ttl: Duration::from_secs(env.number("KEYS_RESERVATION_TTL_SECS", 900, 60..=86_400)?),
            output_bound: env.number("KEYS_OUTPUT_BOUND", 8192, 1..=1_000_000)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_off_without_a_table_and_name_their_variable_when_wrong() {
        assert_eq!(KeySettings::load(&Env::empty()).unwrap(), None);
        let on = KeySettings::load(&Env::from_pairs([("KEYS_TABLE", "gateway-keys")])).unwrap().unwrap();
        assert_eq!((on.table.as_str(), on.cache_ttl, on.output_bound), ("gateway-keys", Duration::from_secs(30), 8192));
        let err =
            KeySettings::load(&Env::from_pairs([("KEYS_TABLE", "t"), ("KEYS_RESERVATION_TTL_SECS", "5")])).unwrap_err();
        assert!(err.to_string().contains("KEYS_RESERVATION_TTL_SECS"), "{err}");
    }
}

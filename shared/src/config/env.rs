//! Where settings come from, and the typed readers every setting goes through, so that each kind
//! of value (number, flag, list, choice) is parsed and refused the same way, naming its variable.

use std::collections::BTreeMap;

/// A startup error: which variable is wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

pub fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// The variables settings are read from: the process environment (a Lambda cold start), or a
/// fixed map (tests, benches), so nothing has to mutate the process environment.
#[derive(Debug, Clone)]
pub struct Env {
    fixed: Option<BTreeMap<String, String>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Env { fixed: None }
    }

    /// No variables at all: every setting at its default.
    pub fn empty() -> Self {
        Env { fixed: Some(BTreeMap::new()) }
    }

    /// Exactly these variables, nothing from the process.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let map = pairs.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())).collect();
        Env { fixed: Some(map) }
    }

    /// The same variables with `var` set (or replaced) to `value`; the process environment is
    /// copied first, so the override cannot leak into it.
    pub fn with(&self, var: &str, value: &str) -> Self {
        let mut map = match &self.fixed {
            Some(map) => map.clone(),
            None => std::env::vars().collect(),
        };
        map.insert(var.to_owned(), value.to_owned());
        Env { fixed: Some(map) }
    }

    /// The value of `var`, trimmed; unset and blank are the same.
    pub fn get(&self, var: &str) -> Option<String> {
        let raw = match &self.fixed {
            Some(map) => map.get(var).cloned(),
            None => std::env::var(var).ok(),
        };
        raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A whole number, `default` when unset, refused outside `range`.
    pub fn number<T>(&self, var: &'static str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.get(var) else { return Ok(default) };
        let value: T = raw.parse().map_err(|_| bad(var, format!("`{raw}` is not a whole number")))?;
        if !range.contains(&value) {
            return Err(bad(var, format!("{value} is outside {}..={}", range.start(), range.end())));
        }
        Ok(value)
    }

    /// A number when set, `None` when not.
    pub fn optional_number<T>(
        &self,
        var: &'static str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        match self.get(var) {
            Some(_) => self.number(var, *range.start(), range).map(Some),
            None => Ok(None),
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`), `false` when unset.
    pub fn flag(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(other) => Err(bad(var, format!("`{other}` is not true or false"))),
        }
    }

    /// A comma-separated list, blanks dropped; empty when unset.
    pub fn list(&self, var: &str) -> Vec<String> {
        self.get(var)
            .map(|raw| raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// One of `choices` (the first is the default when unset).
    pub fn choice(&self, var: &'static str, choices: &[&'static str]) -> Result<&'static str, ConfigError> {
        self.choice_or(var, choices, choices[0])
    }

    /// One of `choices`, `default` when unset (a default that depends on other settings).
    pub fn choice_or(
        &self,
        var: &'static str,
        choices: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, ConfigError> {
        match self.get(var) {
            None => Ok(default),
            Some(value) => choices
                .iter()
                .find(|c| **c == value)
                .copied()
                .ok_or_else(|| bad(var, format!("`{value}` is not one of {}", choices.join(", ")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_blank_is_unset() {
        let env = Env::from_pairs([("A", " 7 "), ("B", "  "), ("L", "x, ,y")]);
        assert_eq!(env.get("A").as_deref(), Some("7"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.number("A", 1, 0..=10), Ok(7));
        assert_eq!(env.number("B", 3, 0..=10), Ok(3));
        assert_eq!(env.list("L"), ["x", "y"]);
        assert_eq!(env.with("A", "8").number("A", 1, 0..=10), Ok(8));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let env = Env::from_pairs([("N", "many"), ("F", "maybe"), ("C", "eager")]);
        assert_eq!(env.number("N", 1, 0..=10).unwrap_err().var, "N");
        assert_eq!(env.flag("F").unwrap_err().var, "F");
        let err = env.choice("C", &["adaptive", "standard"]).unwrap_err();
        assert!(err.to_string().contains("C: `eager` is not one of adaptive, standard"), "{err}");
    }
}

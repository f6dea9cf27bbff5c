//! A key as the table holds it: who it is for, what it may do, what it may spend.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::period::Period;
use super::schema::{KEY_SK, PARTITION_KEY, SORT_KEY, key_pk};
use crate::config::AllowedModel;

/// The model name that lets a key use tiered routing.
const AUTO: &str = "auto";

/// A budget: at most `nanos` (1e-9 USD) per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub nanos: u64,
    pub period: Period,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The public id (in the key itself, in logs and metrics).
    pub id: String,
    /// The team or app the key is for.
    pub name: String,
    /// SHA-256 of the key, hex.
    pub hash: String,
    /// Aliases, ids and `auto` the key may use; `None`: the deployment's allowlist.
    pub models: Option<Vec<String>>,
    /// Route prefixes the key may call (`/v1`, `/stream/v1`, `/tools/v1`); `None`: all.
    pub routes: Option<Vec<String>>,
    pub budget: Option<Budget>,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens per minute.
    pub tpm: Option<u32>,
    /// Epoch seconds after which the key is refused.
    pub expires_at: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
}

impl KeyRecord {
    /// Whether the key may use `model` (named by its id, its catalog alias, or one of its other
    /// names, such as Mistral's `-latest` name for it).
    pub fn allows(&self, model: &AllowedModel) -> bool {
        let Some(models) = &self.models else { return true };
        models.iter().any(|name| {
            name == &model.id
                || model.catalog.is_some_and(|c| c.alias == name || c.id == name || c.names.contains(&name.as_str()))
        })
    }

    /// Whether the key may ask for `auto`.
    pub fn allows_auto(&self) -> bool {
        self.models.as_ref().is_none_or(|models| models.iter().any(|m| m == AUTO))
    }

    /// Whether the key may call `path` (a full route path such as `/stream/v1/chat/completions`).
    pub fn allows_route(&self, path: &str) -> bool {
        let Some(routes) = &self.routes else { return true };
        routes.iter().any(|prefix| {
            let prefix = prefix.trim_end_matches('/');
            path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The models the key may use, as a message names them.
    pub fn models_text(&self) -> String {
        match &self.models {
            None => "every model this deployment allows".to_owned(),
            Some(models) => models.join(", "),
        }
    }

    /// The item of this key.
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: i128| AttributeValue::N(v.to_string());
        let list = |v: &[String]| AttributeValue::L(v.iter().map(|x| s(x)).collect());
        let mut item = HashMap::from([
            (PARTITION_KEY.to_owned(), s(&key_pk(&self.id))),
            (SORT_KEY.to_owned(), s(KEY_SK)),
            ("id".to_owned(), s(&self.id)),
            ("name".to_owned(), s(&self.name)),
            ("hash".to_owned(), s(&self.hash)),
            ("disabled".to_owned(), AttributeValue::Bool(self.disabled)),
            ("created_at".to_owned(), n(self.created_at.into())),
        ]);
        if let Some(models) = &self.models {
            item.insert("models".into(), list(models));
        }
        if let Some(routes) = &self.routes {
            item.insert("routes".into(), list(routes));
        }
        if let Some(budget) = self.budget {
            item.insert("budget_nanos".into(), n(budget.nanos.into()));
            item.insert("period".into(), s(budget.period.name()));
        }
        for (name, value) in [("rpm", self.rpm), ("tpm", self.tpm)] {
            if let Some(value) = value {
                item.insert(name.into(), n(value.into()));
            }
        }
        if let Some(at) = self.expires_at {
            item.insert("expires_at".into(), n(at.into()));
        }
        item
    }

    /// The key of an item; `None` when the item is not a well-formed key.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<KeyRecord> {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i128>().ok());
        let list = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_l().ok())
                .map(|l| l.iter().filter_map(|x| x.as_s().ok().cloned()).collect::<Vec<_>>())
        };
        let budget = match (n("budget_nanos"), s("period").as_deref().and_then(Period::parse)) {
            (Some(nanos), Some(period)) => Some(Budget { nanos: u64::try_from(nanos).ok()?, period }),
            _ => None,
        };
        Some(KeyRecord {
            id: s("id")?,
            name: s("name")?,
            hash: s("hash")?,
            models: list("models"),
            routes: list("routes"),
            budget,
            rpm: n("rpm").and_then(|v| u32::try_from(v).ok()),
            tpm: n("tpm").and_then(|v| u32::try_from(v).ok()),
            expires_at: n("expires_at").and_then(|v| i64::try_from(v).ok()),
            disabled: item.get("disabled").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
            created_at: n("created_at").and_then(|v| i64::try_from(v).ok()).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Env};

    fn record() -> KeyRecord {
        KeyRecord {
            id: "0123456789abcdef".into(),
            name: "search team".into(),
            hash: "ab".repeat(32),
            models: Some(vec!["ministral-3b".into(), "auto".into(), "mistral.mistral-large-2407-v1:0".into()]),
            routes: Some(vec!["/v1".into(), "/stream/v1/".into()]),
            budget: Some(Budget { nanos: 50_000_000_000, period: Period::Month }),
            rpm: Some(60),
            tpm: None,
            expires_at: Some(1_900_000_000),
            disabled: false,
            created_at: 1_800_000_000,
        }
    }

    #[test]
    fn a_key_round_trips_through_its_item() {
        let key = record();
        assert_eq!(KeyRecord::from_item(&key.to_item()), Some(key.clone()));
        let bare = KeyRecord { models: None, routes: None, budget: None, rpm: None, expires_at: None, ..key };
        assert_eq!(KeyRecord::from_item(&bare.to_item()), Some(bare));
    }

    #[test]
    fn models_and_routes_are_checked_by_alias_id_and_prefix() {
        let config = Config::load(&Env::empty()).unwrap();
        let model = |alias: &str| config.models.iter().find(|m| m.catalog.is_some_and(|c| c.alias == alias)).unwrap();
        let key = record();
        assert!(key.allows(model("ministral-3b")));
        assert!(key.allows(model("mistral-large")), "by id");
        assert!(!key.allows(model("mistral-large-3")));
        let latest = KeyRecord { models: Some(vec!["mistral-large-latest".into()]), ..record() };
        assert!(latest.allows(model("mistral-large-3")), "Mistral's name for Large 3");
        assert!(!latest.allows(model("mistral-large")), "not Large 2 (24.07)");
        assert!(key.allows_auto());
        assert!(key.allows_route("/v1/chat/completions"));
        assert!(key.allows_route("/stream/v1/chat/completions"));
        assert!(!key.allows_route("/tools/v1/chat/completions"));
        assert!(!key.allows_route("/v10/chat/completions"), "a prefix is a whole path segment");
        let open = KeyRecord { models: None, routes: None, ..record() };
        assert!(open.allows(model("mistral-large-3")) && open.allows_auto() && open.allows_route("/tools/v1/x"));
    }
}

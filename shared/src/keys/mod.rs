//! Bearer keys per team or app, each with its models, routes, a USD budget per period, rate
//! limits and an expiry, over one DynamoDB table ([`table`]; layout in [`schema`]).
//!
//! A request's key is checked before anything else ([`Keys::authenticate`], from the HTTP
//! routes' auth layer): missing, malformed, unknown, revoked or expired is a 401 that names
//! only the key's public id. Keys are cached briefly (`KEYS_CACHE_TTL_MS`); budgets and limits
//! never are: each request counts in its minute ([`Keys::admit`]), and every model call
//! reserves its worst case and settles its real cost through a [`Budgeter`] the router holds.
//! The table unavailable means fail closed: a 503, and nothing charged.

pub mod admin;
pub mod budget;
pub mod period;
pub mod record;
pub mod schema;
pub mod table;
pub mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use time::OffsetDateTime;

use crate::config::keys::KeySettings;
use crate::error::ApiError;

pub use budget::{Budgeter, Reservation};
pub use record::{Budget, KeyRecord};
pub use table::{KeysTable, StoreError};

/// The key a request came with, for the handlers and the router.
#[derive(Clone)]
pub struct Caller {
    pub key: Arc<KeyRecord>,
    pub keys: Arc<Keys>,
}

impl Caller {
    /// What the router reserves and settles every model call of this request through.
    pub fn budgeter(&self) -> Budgeter {
        Budgeter::new(self.keys.clone(), self.key.clone())
    }
}

/// Keys, their table and settings: built once per cold start.
pub struct Keys {
    pub table: KeysTable,
    pub settings: KeySettings,
    cache: Mutex<HashMap<String, Cached>>,
}

/// A key id's lookup: when it was read, and the key or its absence.
type Cached = (Instant, Option<Arc<KeyRecord>>);

/// Keys remembered at most; past this the cache starts over (a flood of random ids must not
/// grow it without bound).
const CACHE_LIMIT: usize = 10_000;

impl Keys {
    pub fn new(table: KeysTable, settings: KeySettings) -> Self {
        Keys { table, settings, cache: Mutex::new(HashMap::new()) }
    }

    /// The table unavailable, as the caller sees it.
    pub fn unavailable(&self, error: &StoreError) -> ApiError {
        tracing::error!(table = %self.table.name(), error = %error, "keys table unavailable; request refused");
        ApiError::KeysUnavailable(format!(
            "the keys store (DynamoDB table {}) is unavailable, so the request was refused and nothing was charged; retry shortly",
            self.table.name()
        ))
    }

    /// The key `presented` (the bearer token or `x-api-key`), if it may call `path` now.
    pub async fn authenticate(&self, presented: Option<&str>, path: &str) -> Result<Arc<KeyRecord>, ApiError> {
        let presented = presented.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| {
            ApiError::Unauthorized(
                "this deployment requires an API key: send `Authorization: Bearer <key>` (the SDKs' api_key) or `x-api-key: <key>`".into(),
            )
        })?;
        let unknown = || ApiError::Unauthorized("the API key is not valid; check it, or ask for a new one".into());
        let id = token::key_id(presented).ok_or_else(unknown)?;
        let key = self.lookup(id).await?.ok_or_else(unknown)?;
        if !token::matches(presented, &key.hash) {
            tracing::info!(key_id = %id, "key refused: secret does not match");
            return Err(unknown());
        }
        if key.disabled {
            return Err(ApiError::Unauthorized(format!("API key {id} has been revoked; ask for a new one")));
        }
        let now = OffsetDateTime::now_utc();
        if let Some(at) = key.expires_at.filter(|at| *at <= now.unix_timestamp()) {
            let when = OffsetDateTime::from_unix_timestamp(at).map(period::rfc3339).unwrap_or_default();
            return Err(ApiError::Unauthorized(format!("API key {id} expired at {when}; ask for a new one")));
        }
        if !key.allows_route(path) {
            let routes = key.routes.as_deref().unwrap_or_default().join(", ");
            return Err(ApiError::RouteNotAllowed(format!(
                "API key {id} ({}) may not call {path}; it may call {routes}",
                key.name
            )));
        }
        Ok(key)
    }

    async fn lookup(&self, id: &str) -> Result<Option<Arc<KeyRecord>>, ApiError> {
        let ttl = self.settings.cache_ttl;
        if let Some((at, key)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(id)
            && at.elapsed() < ttl
        {
            return Ok(key.clone());
        }
        let key = self.table.key(id).await.map_err(|e| self.unavailable(&e))?.map(Arc::new);
        if !ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(id.to_owned(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    /// Counts the request against the key's requests and tokens per minute.
    pub async fn admit(&self, key: &KeyRecord) -> Result<(), ApiError> {
        if key.rpm.is_none() && key.tpm.is_none() {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let ttl = now.unix_timestamp() + 120;
        let admitted = self
            .table
            .admit(&key.id, &period::minute(now), key.rpm, key.tpm, ttl)
            .await
            .map_err(|e| self.unavailable(&e))?;
        let retry_after = period::to_next_minute(now);
        let (limit, what) = match admitted {
            table::Admission::Admitted => return Ok(()),
            table::Admission::OverRequests => (key.rpm.unwrap_or_default(), "requests"),
            table::Admission::OverTokens => (key.tpm.unwrap_or_default(), "tokens"),
        };
        Err(ApiError::RateLimited {
            message: format!(
                "API key {} ({}) is over its limit of {limit} {what} per minute; retry in {retry_after} s",
                key.id, key.name
            ),
            retry_after,
        })
    }
}

/// Dollars of a nano-dollar amount, for messages.
pub fn dollars(nanos: u64) -> String {
    let usd = nanos as f64 / 1e9;
    if usd >= 0.01 || usd == 0.0 { format!("${usd:.2}") } else { format!("${usd:.6}") }
}

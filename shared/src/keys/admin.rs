//! What an operator does with keys (the `gateway-admin` CLI, and tests): create one (its key
//! shown once), change its settings, revoke it, rotate its secret. The same table and records
//! the functions read.

use time::OffsetDateTime;

use super::record::{Budget, KeyRecord};
use super::table::{KeysTable, StoreError};
use super::token::{self, NewKey};

/// The settings of a key, as the operator gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub models: Option<Vec<String>>,
    pub routes: Option<Vec<String>>,
    pub budget: Option<Budget>,
    pub rpm: Option<u32>,
    pub tpm: Option<u32>,
    pub expires_at: Option<i64>,
}

fn random_failed(table: &KeysTable, error: getrandom::Error) -> StoreError {
    StoreError {
        table: table.name().to_owned(),
        action: "written",
        detail: format!("no randomness for a key: {error}"),
    }
}

/// Creates a key; the returned [`NewKey`] holds the only copy of the key itself.
pub async fn create(table: &KeysTable, spec: KeySpec) -> Result<(NewKey, KeyRecord), StoreError> {
    let new = token::generate().map_err(|e| random_failed(table, e))?;
    let record = KeyRecord {
        id: new.id.clone(),
        name: spec.name,
        hash: new.hash.clone(),
        models: spec.models,
        routes: spec.routes,
        budget: spec.budget,
        rpm: spec.rpm,
        tpm: spec.tpm,
        expires_at: spec.expires_at,
        disabled: false,
        created_at: OffsetDateTime::now_utc().unix_timestamp(),
    };
    table.put_key(&record, true).await?;
    Ok((new, record))
}

/// Gives key `id` a new secret: the old key stops working (within the functions' cache TTL),
/// the id, settings and spend stay.
pub async fn rotate(table: &KeysTable, id: &str) -> Result<(NewKey, KeyRecord), StoreError> {
    let mut record = existing(table, id).await?;
    let new = token::rotate(id).map_err(|e| random_failed(table, e))?;
    record.hash = new.hash.clone();
    table.put_key(&record, false).await?;
    Ok((new, record))
}

/// Revokes key `id` (kept, with its spend, but refused).
pub async fn revoke(table: &KeysTable, id: &str) -> Result<KeyRecord, StoreError> {
    let mut record = existing(table, id).await?;
    record.disabled = true;
    table.put_key(&record, false).await?;
    Ok(record)
}

/// Changes key `id`'s settings with `change`.
pub async fn update(table: &KeysTable, id: &str, change: impl FnOnce(&mut KeyRecord)) -> Result<KeyRecord, StoreError> {
    let mut record = existing(table, id).await?;
    change(&mut record);
    table.put_key(&record, false).await?;
    Ok(record)
}

async fn existing(table: &KeysTable, id: &str) -> Result<KeyRecord, StoreError> {
    table.key(id).await?.ok_or_else(|| StoreError {
        table: table.name().to_owned(),
        action: "read",
        detail: format!("no key {id}"),
    })
}

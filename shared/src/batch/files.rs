//! Files: a batch's input as uploaded, and the output and error files its finalizing writes,
//! in the bucket (`files/<id>` and its record `files/<id>.json`), each owned by the key that
//! made it (with keys, another key's file is a 404, as if it did not exist).

use serde::{Deserialize, Serialize};

use super::store::Store;
use super::{new_id, now};
use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: String,
    pub owner: Option<String>,
    pub filename: String,
    /// `batch` for inputs; `batch_output` for what a batch wrote.
    pub purpose: String,
    /// Mistral's `sample_type`: `batch_request`, `batch_result` or `batch_error`.
    pub sample_type: String,
    pub bytes: usize,
    pub lines: usize,
    pub created_at: u64,
}

fn content_key(id: &str) -> String {
    format!("files/{id}")
}

fn record_key(id: &str) -> String {
    format!("files/{id}.json")
}

/// Stores `content` as a new file of `owner`'s.
pub async fn create(
    store: &Store,
    owner: Option<&str>,
    filename: &str,
    purpose: &str,
    sample_type: &str,
    content: Vec<u8>,
) -> Result<FileRecord, ApiError> {
    write(store, new_id("file-")?, owner, filename, purpose, sample_type, content).await
}

/// Stores `content` as the file `id` (a batch's output and error files have ids of their
/// batch's, so finalizing twice, by an event and by a read at once, writes the same files).
pub async fn write(
    store: &Store,
    id: String,
    owner: Option<&str>,
    filename: &str,
    purpose: &str,
    sample_type: &str,
    content: Vec<u8>,
) -> Result<FileRecord, ApiError> {
    let record = FileRecord {
        id,
        owner: owner.map(str::to_owned),
        filename: filename.chars().take(255).collect(),
        purpose: purpose.to_owned(),
        sample_type: sample_type.to_owned(),
        bytes: content.len(),
        lines: content.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count(),
        created_at: now(),
    };
    store.put(&content_key(&record.id), content, "application/jsonl").await?;
    store.put_json(&record_key(&record.id), &record).await?;
    Ok(record)
}

/// `owner`'s file `id`.
pub async fn get(store: &Store, owner: Option<&str>, id: &str) -> Result<FileRecord, ApiError> {
    let found = match valid_id(id) {
        true => store.get_json::<FileRecord>(&record_key(id)).await?,
        false => None,
    };
    found.filter(|f| f.owner.as_deref() == owner).ok_or_else(|| not_found(id))
}

pub async fn content(store: &Store, owner: Option<&str>, id: &str) -> Result<(FileRecord, Vec<u8>), ApiError> {
    let record = get(store, owner, id).await?;
    let bytes = store.get(&content_key(id)).await?.ok_or_else(|| not_found(id))?;
    Ok((record, bytes))
}

/// `owner`'s files, newest first.
pub async fn list(store: &Store, owner: Option<&str>) -> Result<Vec<FileRecord>, ApiError> {
    let mut files = Vec::new();
    for key in store.list("files/").await?.into_iter().filter(|k| k.ends_with(".json")) {
        if let Some(file) = store.get_json::<FileRecord>(&key).await?
            && file.owner.as_deref() == owner
        {
            files.push(file);
        }
    }
    files.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(files)
}

pub async fn delete(store: &Store, owner: Option<&str>, id: &str) -> Result<FileRecord, ApiError> {
    let record = get(store, owner, id).await?;
    store.delete(&content_key(id)).await?;
    store.delete(&record_key(id)).await?;
    Ok(record)
}

/// Ids are ours (`file-` and hex): anything else cannot name an object, whatever it holds.
fn valid_id(id: &str) -> bool {
    id.strip_prefix("file-")
        .is_some_and(|hex| !hex.is_empty() && hex.len() <= 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(64).collect();
    ApiError::NotFound(format!("no file `{shown}` here; GET /v1/files lists yours"))
}

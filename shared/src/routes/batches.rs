//! OpenAI's `/v1/batches` and Mistral's `/v1/batch/jobs`: two wire formats over one batch core
//! (`crate::batch`). Reads refresh a batch from its Bedrock jobs, so a missed state-change
//! event delays nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::batch::create::{NewBatch, create};
use crate::batch::record::{self, Api, BatchRecord};
use crate::batch::{Batches, finalize, views};
use crate::error::ApiError;
use crate::keys::Caller;
use crate::state::AppState;

/// The batch core, or why this deployment has none.
pub fn batches(state: &AppState) -> Result<&Arc<Batches>, ApiError> {
    state.batch.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "batch is not enabled on this deployment (it sets no BATCH_BUCKET); see README › Batch".into(),
        )
    })
}

/// The key that owns what a request makes and may read (none without keys).
pub fn owner(caller: &Option<Extension<Caller>>) -> Option<&str> {
    caller.as_ref().map(|c| c.key.id.as_str())
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(if path == "." { "body".to_owned() } else { path }, e.inner().to_string())
    })
}

#[derive(Deserialize)]
struct OpenAiCreate {
    input_file_id: String,
    endpoint: String,
    completion_window: String,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct MistralCreate {
    #[serde(default)]
    input_files: Vec<String>,
    /// Requests given inline instead of in a file: kept as a file of the caller's.
    #[serde(default)]
    requests: Option<Vec<Value>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default = "chat_endpoint")]
    endpoint: String,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    timeout_hours: Option<i32>,
}

fn chat_endpoint() -> String {
    crate::batch::create::ENDPOINT.into()
}

#[derive(Deserialize, Default)]
pub struct Paging {
    after: Option<String>,
    limit: Option<usize>,
    page: Option<usize>,
    page_size: Option<usize>,
}

pub async fn post_batch(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    let asked: OpenAiCreate = body(&bytes)?;
    if asked.completion_window != "24h" {
        return Err(ApiError::invalid(
            "completion_window",
            "only \"24h\" is supported (Bedrock's batch jobs run within a day)",
        ));
    }
    let new = NewBatch {
        api: Api::OpenAi,
        endpoint: asked.endpoint,
        input_file_ids: vec![asked.input_file_id],
        completion_window: asked.completion_window,
        metadata: asked.metadata,
        model: None,
        timeout_hours: 24,
    };
    let batch = create(batches, &state.config, caller.as_ref().map(|c| &c.0), new).await?;
    Ok(Json(views::openai_batch(&batch)))
}

pub async fn post_job(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    let mut asked: MistralCreate = body(&bytes)?;
    if let Some(requests) = asked.requests.take().filter(|r| !r.is_empty()) {
        if !asked.input_files.is_empty() {
            return Err(ApiError::invalid("requests", "send `input_files` or `requests`, not both"));
        }
        let lines: Vec<String> = requests.iter().map(Value::to_string).collect();
        let file = crate::batch::files::create(
            &batches.store,
            owner(&caller),
            "requests.jsonl",
            "batch",
            "batch_request",
            lines.join("\n").into_bytes(),
        )
        .await?;
        asked.input_files = vec![file.id];
    }
    let timeout_hours = asked.timeout_hours.unwrap_or(24);
    if !(24..=168).contains(&timeout_hours) {
        return Err(ApiError::invalid("timeout_hours", "Bedrock's batch jobs time out after 24 to 168 hours"));
    }
    let new = NewBatch {
        api: Api::Mistral,
        endpoint: asked.endpoint,
        input_file_ids: asked.input_files,
        completion_window: format!("{timeout_hours}h"),
        metadata: asked.metadata,
        model: asked.model,
        timeout_hours,
    };
    let batch = create(batches, &state.config, caller.as_ref().map(|c| &c.0), new).await?;
    Ok(Json(views::mistral_job(&batch)))
}

pub async fn get_batch(state: State<AppState>, caller: Option<Extension<Caller>>, id: Path<String>) -> Reply {
    Ok(Json(views::openai_batch(&act(state, caller, id, Act::Refresh).await?)))
}

pub async fn get_job(state: State<AppState>, caller: Option<Extension<Caller>>, id: Path<String>) -> Reply {
    Ok(Json(views::mistral_job(&act(state, caller, id, Act::Refresh).await?)))
}

pub async fn cancel_batch(state: State<AppState>, caller: Option<Extension<Caller>>, id: Path<String>) -> Reply {
    Ok(Json(views::openai_batch(&act(state, caller, id, Act::Cancel).await?)))
}

pub async fn cancel_job(state: State<AppState>, caller: Option<Extension<Caller>>, id: Path<String>) -> Reply {
    Ok(Json(views::mistral_job(&act(state, caller, id, Act::Cancel).await?)))
}

type Reply = Result<Json<Value>, ApiError>;

/// What a read or a cancel does to the caller's batch before either API's view of it is sent.
enum Act {
    /// Brought up to date with its Bedrock jobs (a missed event delays nothing).
    Refresh,
    /// Its running jobs stopped.
    Cancel,
}

async fn act(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
    act: Act,
) -> Result<BatchRecord, ApiError> {
    let batches = batches(&state)?;
    let batch = load(batches, owner(&caller), &id).await?;
    match act {
        Act::Refresh => finalize::refresh(batches, &state.config, batch).await,
        Act::Cancel => finalize::cancel(batches, &state.config, batch).await,
    }
}

pub async fn list_batches(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Query(paging): Query<Paging>,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    let all = list(batches, owner(&caller)).await?;
    let start = paging.after.as_ref().and_then(|after| all.iter().position(|b| &b.id == after)).map_or(0, |i| i + 1);
    let limit = paging.limit.unwrap_or(20).clamp(1, 100);
    let page: Vec<Value> = all.iter().skip(start).take(limit).map(views::openai_batch).collect();
    Ok(Json(json!({
        "object": "list",
        "first_id": page.first().map(|b| b["id"].clone()),
        "last_id": page.last().map(|b| b["id"].clone()),
        "has_more": all.len() > start + page.len(),
        "data": page,
    })))
}

pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Query(paging): Query<Paging>,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    let all = list(batches, owner(&caller)).await?;
    let size = paging.page_size.unwrap_or(100).clamp(1, 1000);
    let page: Vec<Value> =
        all.iter().skip(paging.page.unwrap_or(0) * size).take(size).map(views::mistral_job).collect();
    Ok(Json(json!({"object": "list", "data": page, "total": all.len()})))
}

/// `owner`'s batch `id` (another key's is a 404, as if it did not exist).
async fn load(batches: &Batches, owner: Option<&str>, id: &str) -> Result<BatchRecord, ApiError> {
    let valid =
        id.strip_prefix("batch_").is_some_and(|hex| hex.len() == 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let found = if valid { batches.store.get_json::<BatchRecord>(&record::key(id)).await? } else { None };
    found.filter(|b| b.owner.as_deref() == owner).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no batch `{}` here; GET /v1/batches lists yours",
            id.chars().take(64).collect::<String>()
        ))
    })
}

/// `owner`'s batches, newest first.
async fn list(batches: &Batches, owner: Option<&str>) -> Result<Vec<BatchRecord>, ApiError> {
    let mut found = Vec::new();
    for key in batches.store.list("batches/").await?.into_iter().filter(|k| k.ends_with(".json")) {
        if let Some(batch) = batches.store.get_json::<BatchRecord>(&key).await?
            && batch.owner.as_deref() == owner
        {
            found.push(batch);
        }
    }
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(found)
}

//! Creating a batch: its input files read and checked line by line, one Bedrock job per model,
//! each job's input and its record-id → custom-id map written first, then the jobs created. A
//! batch that cannot run (no valid line, a model below Bedrock's minimum records, `auto`, a
//! model without batch) is a 400 before anything is created.

use serde_json::{Value, json};

use super::lines::{self, Context, Lines};
use super::record::{self, Api, BatchRecord, JobRecord, Status, invalid_key};
use super::{Batches, catalog, files, new_id, now};
use crate::config::Config;
use crate::error::ApiError;
use crate::keys::Caller;
use crate::keys::budget::Reservation;

/// The one endpoint a batch can target.
pub const ENDPOINT: &str = "/v1/chat/completions";

/// What a create request asks for, from either API.
pub struct NewBatch {
    pub api: Api,
    pub endpoint: String,
    pub input_file_ids: Vec<String>,
    pub completion_window: String,
    pub metadata: Option<Value>,
    pub model: Option<String>,
    /// Bedrock's job timeout, 24 hours unless Mistral's `timeout_hours` says otherwise.
    pub timeout_hours: i32,
}

pub async fn create(
    batches: &Batches,
    config: &Config,
    caller: Option<&Caller>,
    new: NewBatch,
) -> Result<BatchRecord, ApiError> {
    let key = caller.map(|c| c.key.as_ref());
    if new.endpoint != ENDPOINT {
        return Err(ApiError::invalid(
            "endpoint",
            format!("`{}` is not supported; batches run {ENDPOINT}", shown(&new.endpoint)),
        ));
    }
    if new.input_file_ids.is_empty() {
        return Err(ApiError::invalid(
            "input_file_id",
            "name the uploaded input file (POST /v1/files, purpose \"batch\")",
        ));
    }
    let owner = key.map(|k| k.id.as_str());
    let mut input = Vec::new();
    for id in &new.input_file_ids {
        let (file, bytes) = files::content(&batches.store, owner, id).await?;
        if file.purpose != "batch" {
            return Err(ApiError::invalid(
                "input_file_id",
                format!("{id} was uploaded with purpose `{}`, not `batch`", file.purpose),
            ));
        }
        input.extend_from_slice(&bytes);
        input.push(b'\n');
    }
    let (endpoint, model) = (new.endpoint.clone(), new.model.clone());
    let output_bound = caller.map(|c| c.keys.settings.output_bound);
    let cx = Context {
        config,
        settings: &batches.settings,
        api: new.api,
        endpoint: &endpoint,
        model: model.as_deref(),
        key,
        output_bound,
    };
    let lines = lines::read(&input, &cx)?;
    check_runnable(&lines, &batches.settings)?;
    let mut reservations = reserve(caller, &lines, new.timeout_hours).await?;

    let id = new_id("batch_")?;
    let created_at = now();
    let mut jobs = Vec::with_capacity(lines.groups.len());
    for (n, group) in lines.groups.iter().enumerate() {
        let prefix = format!("jobs/{id}/{n}/");
        let mut body = Vec::new();
        for (index, (_, model_input)) in group.records.iter().enumerate() {
            serde_json::to_writer(&mut body, &json!({"recordId": record_id(index), "modelInput": model_input}))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            body.push(b'\n');
        }
        batches.store.put(&format!("{prefix}input.jsonl"), body, "application/jsonl").await?;
        let custom_ids: Vec<&str> = group.records.iter().map(|(custom_id, _)| custom_id.as_str()).collect();
        batches.store.put_json(&format!("{prefix}records.json"), &custom_ids).await?;
        let hex = id.trim_start_matches("batch_");
        jobs.push(JobRecord {
            model_id: group.model.id.clone(),
            job_arn: String::new(),
            job_name: format!("{}-{hex}-{n}", batches.settings.job_prefix),
            status: "Submitted".into(),
            message: None,
            records: group.records.len(),
            prefix,
            reservation: reservations.get_mut(n).and_then(Option::take),
        });
    }
    let refused: Vec<u8> = lines
        .refused
        .iter()
        .flat_map(|r| {
            let mut line =
                serde_json::to_vec(&super::views::error_line(r.custom_id.as_deref(), &r.error)).unwrap_or_default();
            line.push(b'\n');
            line
        })
        .collect();
    batches.store.put(&invalid_key(&id), refused, "application/jsonl").await?;

    for n in 0..jobs.len() {
        let input_uri = batches.store.uri(&format!("{}input.jsonl", jobs[n].prefix));
        let output_uri = batches.store.uri(&format!("{}output/", jobs[n].prefix));
        let spec = super::jobs::JobSpec {
            name: &jobs[n].job_name,
            model_id: &jobs[n].model_id,
            role_arn: &batches.settings.role_arn,
            input_uri: &input_uri,
            output_uri: &output_uri,
            timeout_hours: new.timeout_hours,
        };
        match batches.jobs.create(spec).await {
            Ok(arn) => jobs[n].job_arn = arn,
            Err(error) => {
                // The jobs already made would run for nothing: stop them, and free the budget.
                for made in &jobs[..n] {
                    let _ = batches.jobs.stop(&made.job_arn).await;
                }
                release(caller, jobs.iter_mut().filter_map(|j| j.reservation.take()).collect()).await;
                return Err(error);
            }
        }
    }
    let record = BatchRecord {
        id: id.clone(),
        api: new.api,
        owner: key.map(|k| k.id.clone()),
        endpoint: new.endpoint,
        input_file_ids: new.input_file_ids,
        completion_window: new.completion_window,
        metadata: new.metadata,
        model: new.model,
        status: Status::Validating,
        created_at,
        in_progress_at: None,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        expires_at: created_at + u64::try_from(new.timeout_hours).unwrap_or(24) * 3600,
        total: lines.total,
        invalid: lines.refused.len(),
        succeeded: 0,
        failed: 0,
        jobs,
        output_file_id: None,
        error_file_id: None,
        cost_nanos: None,
        reserved_nanos: None,
    };
    batches.store.put_json(&record::key(&id), &record).await?;
    tracing::info!(batch = %id, jobs = record.jobs.len(), lines = record.total, refused = record.invalid, "batch created");
    Ok(record)
}

/// With a key: each job's worst case at the batch price, reserved against the key's budget for
/// as long as the job may run (a 429 `budget_exceeded`, and nothing created, if it does not
/// fit). One entry per group, in order.
async fn reserve(
    caller: Option<&Caller>,
    lines: &Lines<'_>,
    timeout_hours: i32,
) -> Result<Vec<Option<Reservation>>, ApiError> {
    let Some(caller) = caller else { return Ok(lines.groups.iter().map(|_| None).collect()) };
    let budgeter = caller.budgeter();
    let ttl = std::time::Duration::from_secs((u64::try_from(timeout_hours).unwrap_or(24) + 1) * 3600);
    let mut held = Vec::with_capacity(lines.groups.len());
    for group in &lines.groups {
        let Some(price) = catalog::price(group.model) else {
            release(Some(caller), held.into_iter().flatten().collect()).await;
            return Err(ApiError::ModelNotAllowed(format!(
                "{} has no known price, so API key {} cannot be charged for its batch; set its price (MODEL_PRICES)",
                group.model.id, caller.key.id
            )));
        };
        let amount = crate::cost::nanos(group.worst.0, group.worst.1, &price);
        match budgeter.hold(&group.model.id, price, amount, ttl).await {
            Ok(reservation) => held.push(Some(reservation)),
            Err(error) => {
                release(Some(caller), held.into_iter().flatten().collect()).await;
                return Err(error);
            }
        }
    }
    Ok(held)
}

/// Frees reservations whose jobs will not run.
async fn release(caller: Option<&Caller>, reservations: Vec<Reservation>) {
    if let Some(caller) = caller {
        for reservation in reservations {
            caller.budgeter().settle(reservation, Some((0, 0))).await;
        }
    }
}

/// Refuses a batch that cannot run: nothing valid, or a model's lines below the minimum.
fn check_runnable(lines: &Lines<'_>, settings: &crate::config::batch::BatchSettings) -> Result<(), ApiError> {
    if lines.total == 0 {
        return Err(ApiError::invalid(
            "input_file_id",
            "the input file holds no request lines (one JSON request per line)",
        ));
    }
    if lines.groups.is_empty() {
        let first = &lines.refused[0];
        return Err(ApiError::invalid(
            "input_file_id",
            format!("no line of the input file is a valid request; line {}: {}", first.line, first.error),
        ));
    }
    let min = catalog::min_records(settings);
    for group in &lines.groups {
        if group.records.len() < min {
            return Err(ApiError::invalid(
                "input_file_id",
                format!(
                    "{} has {} valid request lines; a Bedrock batch job takes at least {min} records per model. Add lines, or send these to /v1/chat/completions",
                    group.model.id,
                    group.records.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The record id of a job's `index`th line (Bedrock's own examples use 11 characters).
pub fn record_id(index: usize) -> String {
    format!("R{index:010}")
}

fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

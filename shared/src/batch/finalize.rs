//! A batch brought up to date with its Bedrock jobs, and, once all of them have ended, its
//! output and error files written: Bedrock's `.jsonl.out` records matched to the input lines by
//! record id (not by order), each answer a full chat completion with `usage` and `cost_usd` at
//! the batch price; a line Bedrock did not answer is an error line that says why. Refreshing is
//! idempotent: the state-change event and a caller's read may both do it.

use std::collections::HashMap;

use serde_json::Value;

use super::record::{BatchRecord, JobRecord, Status, invalid_key, key};
use super::views::{error_line, output_line};
use super::{Batches, catalog, files, now};
use crate::bedrock::converse_json;
use crate::config::Config;
use crate::convert::response::{Envelope, completion_from_converse};
use crate::error::ApiError;

/// `batch` with its jobs' current states; finalized when they have all ended. Saved if changed.
pub async fn refresh(batches: &Batches, config: &Config, mut batch: BatchRecord) -> Result<BatchRecord, ApiError> {
    if batch.status.is_final() {
        return Ok(batch);
    }
    let before = (batch.status, batch.jobs.iter().map(|j| j.status.clone()).collect::<Vec<_>>());
    for job in batch.jobs.iter_mut().filter(|j| !j.is_final()) {
        let state = batches.jobs.get(&job.job_arn).await?;
        job.status = state.status;
        job.message = state.message;
    }
    if batch.jobs.iter().all(JobRecord::is_final) {
        finalize(batches, config, &mut batch).await?;
    } else if batch.status != Status::Cancelling
        && batch.jobs.iter().any(|j| matches!(j.status.as_str(), "Scheduled" | "InProgress") || j.is_final())
    {
        batch.status = Status::InProgress;
        batch.in_progress_at.get_or_insert_with(now);
    }
    if (batch.status, batch.jobs.iter().map(|j| j.status.clone()).collect::<Vec<_>>()) != before {
        batches.store.put_json(&key(&batch.id), &batch).await?;
    }
    Ok(batch)
}

/// Stops the batch's jobs that are still running.
pub async fn cancel(batches: &Batches, config: &Config, mut batch: BatchRecord) -> Result<BatchRecord, ApiError> {
    if batch.status.is_final() {
        return Err(ApiError::bad_request(format!(
            "{} has ended ({}); only a batch that is still running can be cancelled",
            batch.id,
            super::views::openai_batch(&batch)["status"].as_str().unwrap_or_default()
        )));
    }
    for job in batch.jobs.iter().filter(|j| !j.is_final()) {
        batches.jobs.stop(&job.job_arn).await?;
    }
    batch.status = Status::Cancelling;
    batch.cancelling_at.get_or_insert_with(now);
    batches.store.put_json(&key(&batch.id), &batch).await?;
    refresh(batches, config, batch).await
}

async fn finalize(batches: &Batches, config: &Config, batch: &mut BatchRecord) -> Result<(), ApiError> {
    batch.finalizing_at.get_or_insert_with(now);
    let mut output = Vec::new();
    let mut errors = batches.store.get(&invalid_key(&batch.id)).await?.unwrap_or_default();
    let (mut succeeded, mut failed, mut cost) = (0, batch.invalid, 0u64);
    // Each job's tokens, for settling its reservation.
    let mut used = vec![(0u64, 0u64); batch.jobs.len()];
    let mut answered_lines = vec![0usize; batch.jobs.len()];
    for (n, job) in batch.jobs.iter().enumerate() {
        let custom_ids: Vec<String> =
            batches.store.get_json(&format!("{}records.json", job.prefix)).await?.unwrap_or_default();
        let model = config.models.iter().find(|m| m.id == job.model_id);
        let price = model.and_then(catalog::price);
        let mut answered: HashMap<usize, Value> = HashMap::new();
        for out in batches.store.list(&format!("{}output/", job.prefix)).await? {
            if !out.ends_with(".jsonl.out") {
                continue;
            }
            let bytes = batches.store.get(&out).await?.unwrap_or_default();
            for line in String::from_utf8_lossy(&bytes).lines().filter(|l| !l.trim().is_empty()) {
                let Ok(record) = serde_json::from_str::<Value>(line) else { continue };
                let Some(index) =
                    record["recordId"].as_str().and_then(|r| r.strip_prefix('R')).and_then(|n| n.parse().ok())
                else {
                    continue;
                };
                if index < custom_ids.len() {
                    answered.insert(index, record);
                }
            }
        }
        for (index, custom_id) in custom_ids.iter().enumerate() {
            let line = match answered.get(&index).map(|r| answer(r, &job.model_id, price.as_ref())) {
                Some(Ok((completion, nanos, (input, output)))) => {
                    succeeded += 1;
                    cost += nanos;
                    used[n] = (used[n].0 + input, used[n].1 + output);
                    answered_lines[n] += 1;
                    output_line(custom_id, &completion)
                }
                Some(Err(error)) => {
                    failed += 1;
                    error_line(Some(custom_id), &error)
                }
                None => {
                    failed += 1;
                    let why = job.message.as_deref().unwrap_or("no message");
                    let error = ApiError::Upstream(format!(
                        "Bedrock's batch job for {} ended `{}` ({why}) without answering this line",
                        job.model_id, job.status
                    ));
                    error_line(Some(custom_id), &error)
                }
            };
            let sink = if line["error"].is_null() { &mut output } else { &mut errors };
            serde_json::to_writer(&mut *sink, &line).map_err(|e| ApiError::Internal(e.to_string()))?;
            sink.push(b'\n');
        }
    }
    let owner = batch.owner.as_deref();
    let hex = batch.id.trim_start_matches("batch_");
    if !output.is_empty() {
        let (id, name) = (format!("file-{hex}00"), format!("{}_output.jsonl", batch.id));
        let file = files::write(&batches.store, id, owner, &name, "batch_output", "batch_result", output).await?;
        batch.output_file_id = Some(file.id);
    }
    if !errors.is_empty() {
        let (id, name) = (format!("file-{hex}01"), format!("{}_error.jsonl", batch.id));
        let file = files::write(&batches.store, id, owner, &name, "batch_output", "batch_error", errors).await?;
        batch.error_file_id = Some(file.id);
    }
    (batch.succeeded, batch.failed, batch.cost_nanos) = (succeeded, failed, Some(cost));
    let at = Some(now());
    let statuses: Vec<&str> = batch.jobs.iter().map(|j| j.status.as_str()).collect();
    if batch.status == Status::Cancelling || statuses.contains(&"Stopped") {
        (batch.status, batch.cancelled_at) = (Status::Cancelled, at);
    } else if statuses.iter().all(|s| *s == "Expired") {
        (batch.status, batch.expired_at) = (Status::Expired, at);
    } else if succeeded == 0 && statuses.iter().all(|s| *s == "Failed") {
        (batch.status, batch.failed_at) = (Status::Failed, at);
    } else {
        (batch.status, batch.completed_at) = (Status::Completed, at);
    }
    // An event and a read may finalize at once: only the one that marks the batch recorded
    // writes its metrics (the files and the settles are the same whoever writes them).
    if let Some(namespace) = &config.metrics_namespace
        && batches.store.put_new(&format!("batches/{}.recorded", batch.id), Vec::new()).await?
    {
        record_metrics(namespace, batch, &used, &answered_lines, config);
    }
    // The budget held for each job now holds what the job cost (a settle is idempotent: a
    // second finalizing finds the reservation gone).
    if let (Some(keys), Some(owner)) = (&batches.keys, batch.owner.clone()) {
        for (job, tokens) in batch.jobs.iter_mut().zip(used) {
            if let Some(reservation) = job.reservation.take() {
                crate::keys::budget::settle(keys, &owner, reservation, Some(tokens)).await;
            }
        }
    }
    tracing::info!(batch = %batch.id, succeeded, failed, cost_nanos = cost, "batch finalized");
    Ok(())
}

/// The route name of a finalized batch job's metrics record.
pub const METRICS_ROUTE: &str = "batch-job";

/// One EMF record per job of a finalized batch: its answered lines as `Requests`, its tokens,
/// and its cost at the batch price, so the dashboard's cost per model counts batches at what
/// they cost.
fn record_metrics(namespace: &str, batch: &BatchRecord, used: &[(u64, u64)], answered: &[usize], config: &Config) {
    use crate::metrics::{COST, INPUT_TOKENS, KEY_ID, OUTPUT_TOKENS, REQUESTS, Record};
    for ((job, &(input, output)), &answered) in batch.jobs.iter().zip(used).zip(answered) {
        let price = config.models.iter().find(|m| m.id == job.model_id).and_then(catalog::price);
        let mut record = Record::new("batch", &job.model_id, METRICS_ROUTE);
        record.set(INPUT_TOKENS, input as f64).set(OUTPUT_TOKENS, output as f64);
        if let Some(price) = price {
            record.set(COST, crate::cost::nanos(input, output, &price) as f64 / 1e9);
        }
        record.set(REQUESTS, answered as f64).property("BatchId", batch.id.as_str());
        if let Some(owner) = &batch.owner {
            record.property(KEY_ID, owner.as_str());
        }
        record.emit(namespace);
    }
}

/// A Bedrock output record as a chat completion at the batch price, with its cost and tokens.
fn answer(
    record: &Value,
    model_id: &str,
    price: Option<&crate::catalog::Price>,
) -> Result<(Value, u64, (u64, u64)), ApiError> {
    if let Some(error) = record.get("error").filter(|e| !e.is_null()) {
        let message = error["errorMessage"].as_str().or(error["message"].as_str()).unwrap_or("no message");
        // Bedrock gives a record's error as an HTTP-like status code: the sync route's error
        // for that status, so the error file reads like the sync answers.
        let kind = match error["errorCode"].as_u64() {
            Some(429) => "ThrottlingException",
            Some(400) => "ValidationException",
            Some(403) => "AccessDeniedException",
            Some(408) => "ModelTimeoutException",
            Some(424) => "ModelErrorException",
            Some(503) => "ServiceUnavailableException",
            _ => "InternalServerException",
        };
        return Err(ApiError::from_bedrock(error["errorType"].as_str().or(Some(kind)), Some(message), model_id, 0));
    }
    let output = converse_json::model_output(&record["modelOutput"])?;
    let completion = completion_from_converse(&output, Envelope::new(model_id), price);
    let tokens = output.usage().map_or((0, 0), |usage| {
        (u64::try_from(usage.input_tokens).unwrap_or_default(), u64::try_from(usage.output_tokens).unwrap_or_default())
    });
    let nanos = price.map_or(0, |price| crate::cost::nanos(tokens.0, tokens.1, price));
    let body = serde_json::to_value(&completion).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((body, nanos, tokens))
}

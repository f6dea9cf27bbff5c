//! What the two APIs send: OpenAI's file, batch and output-line objects, and Mistral's file and
//! job objects, all read off the same records. Files carry both families' fields (`bytes` and
//! `sample_type`, `status` and `source`), so either SDK reads the same answer.

use serde_json::{Value, json};

use super::files::FileRecord;
use super::record::{BatchRecord, Status};
use crate::error::ApiError;

pub fn file_object(file: &FileRecord) -> Value {
    json!({
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "created_at": file.created_at,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "status_details": null,
        "sample_type": file.sample_type,
        "num_lines": file.lines,
        "source": "upload",
        "mimetype": "application/jsonl",
    })
}

pub fn file_list(files: &[FileRecord]) -> Value {
    let data: Vec<Value> = files.iter().map(file_object).collect();
    json!({
        "object": "list",
        "data": data,
        "total": files.len(),
        "has_more": false,
        "first_id": files.first().map(|f| &f.id),
        "last_id": files.last().map(|f| &f.id),
    })
}

pub fn file_deleted(file: &FileRecord) -> Value {
    json!({"id": file.id, "object": "file", "deleted": true})
}

/// An answered line of the output file.
pub fn output_line(custom_id: &str, completion: &Value) -> Value {
    json!({
        "id": format!("batch_req_{}", completion["id"].as_str().unwrap_or_default().trim_start_matches("chatcmpl-")),
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": completion["id"], "body": completion},
        "error": null,
    })
}

/// A failed line of the error file: the status and error body the sync route would have sent.
pub fn error_line(custom_id: Option<&str>, error: &ApiError) -> Value {
    json!({
        "id": format!("batch_req_error_{}", custom_id.unwrap_or("none")),
        "custom_id": custom_id,
        "response": {"status_code": error.status().as_u16(), "body": error.to_json()},
        "error": {"code": error.code(), "message": error.to_string()},
    })
}

/// OpenAI's batch object.
pub fn openai_batch(batch: &BatchRecord) -> Value {
    let status = match batch.status {
        Status::Validating => "validating",
        Status::InProgress => "in_progress",
        Status::Finalizing => "finalizing",
        Status::Completed => "completed",
        Status::Failed => "failed",
        Status::Expired => "expired",
        Status::Cancelling => "cancelling",
        Status::Cancelled => "cancelled",
    };
    json!({
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "errors": null,
        "input_file_id": batch.input_file_ids.first(),
        "completion_window": batch.completion_window,
        "status": status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": batch.created_at,
        "in_progress_at": batch.in_progress_at,
        "expires_at": batch.expires_at,
        "finalizing_at": batch.finalizing_at,
        "completed_at": batch.completed_at,
        "failed_at": batch.failed_at,
        "expired_at": batch.expired_at,
        "cancelling_at": batch.cancelling_at,
        "cancelled_at": batch.cancelled_at,
        "request_counts": {"total": batch.total, "completed": batch.succeeded, "failed": counted_failures(batch)},
        "metadata": batch.metadata,
        "cost_usd": cost(batch),
        "bedrock_jobs": jobs(batch),
    })
}

/// Mistral's batch job object.
pub fn mistral_job(batch: &BatchRecord) -> Value {
    let status = match batch.status {
        Status::Validating => "QUEUED",
        Status::InProgress | Status::Finalizing => "RUNNING",
        Status::Completed => "SUCCESS",
        Status::Failed => "FAILED",
        Status::Expired => "TIMEOUT_EXCEEDED",
        Status::Cancelling => "CANCELLATION_REQUESTED",
        Status::Cancelled => "CANCELLED",
    };
    let failed = counted_failures(batch);
    json!({
        "id": batch.id,
        "object": "batch",
        "input_files": batch.input_file_ids,
        "metadata": batch.metadata,
        "endpoint": batch.endpoint,
        "model": batch.model,
        "agent_id": null,
        "output_file": batch.output_file_id,
        "error_file": batch.error_file_id,
        "errors": if failed > 0 { json!([{"message": "see the error file", "count": failed}]) } else { json!([]) },
        "status": status,
        "created_at": batch.created_at,
        "total_requests": batch.total,
        "completed_requests": batch.succeeded + failed,
        "succeeded_requests": batch.succeeded,
        "failed_requests": failed,
        "started_at": batch.in_progress_at,
        "completed_at": batch.completed_at.or(batch.failed_at).or(batch.cancelled_at).or(batch.expired_at),
        "cost_usd": cost(batch),
        "bedrock_jobs": jobs(batch),
    })
}

/// Lines failed so far: those refused at creation until the batch is finalized, then all.
fn counted_failures(batch: &BatchRecord) -> usize {
    if batch.status.is_final() { batch.failed } else { batch.invalid }
}

fn cost(batch: &BatchRecord) -> Option<f64> {
    batch.cost_nanos.map(|nanos| nanos as f64 / 1e9)
}

fn jobs(batch: &BatchRecord) -> Vec<Value> {
    batch
        .jobs
        .iter()
        .map(|j| json!({"model": j.model_id, "job_arn": j.job_arn, "status": j.status, "records": j.records}))
        .collect()
}

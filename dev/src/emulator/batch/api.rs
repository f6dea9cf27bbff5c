//! The control plane's routes, at the paths `aws-sdk-bedrock` sends them to:
//! `POST /model-invocation-job`, `GET /model-invocation-job/{jobIdentifier}`,
//! `POST /model-invocation-job/{jobIdentifier}/stop` and `GET /model-invocation-jobs`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::errors::ControlError;
use super::job::{self, Job, Status};
use super::{checks, runner};
use crate::emulator::server::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/model-invocation-job", post(create))
        .route("/model-invocation-job/{identifier}", get(describe))
        .route("/model-invocation-job/{identifier}/stop", post(stop))
        .route("/model-invocation-jobs", get(list))
}

async fn create(State(shared): State<Arc<Shared>>, raw: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&raw) {
        Ok(body) => body,
        Err(error) => {
            return ControlError::validation(format!("The request body is not valid JSON: {error}")).into_response();
        }
    };
    let request = match checks::create(&body, &shared.batch.settings().batch_models) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let now = OffsetDateTime::now_utc();
    let created = {
        let mut jobs = shared.batch.lock_jobs();
        // Bedrock ignores a request whose token matches an earlier one, without an error.
        if let Some(token) = &request.client_request_token
            && let Some(earlier) = jobs.iter().find(|job| job.client_request_token.as_ref() == Some(token))
        {
            return Json(json!({ "jobArn": earlier.arn })).into_response();
        }
        if jobs.iter().any(|job| job.name == request.name) {
            return ControlError::conflict(format!(
                "A model invocation job with the name {} already exists. Use a different job name and try again.",
                request.name
            ))
            .into_response();
        }
        let id = job::new_id();
        let job = Job {
            arn: job::arn_of(&id),
            id,
            name: request.name,
            model_id: request.model_id,
            role_arn: request.role_arn,
            client_request_token: request.client_request_token,
            invocation_type: request.invocation_type,
            input_config: request.input_config,
            output_config: request.output_config,
            input_uri: request.input_uri,
            output_uri: request.output_uri,
            vpc_config: request.vpc_config,
            timeout_hours: request.timeout_hours,
            status: Status::Submitted,
            message: None,
            submit_time: now,
            last_modified: now,
            end_time: None,
            counts: None,
        };
        jobs.push(job.clone());
        job
    };
    let arn = created.arn.clone();
    tokio::spawn(runner::run(shared.clone(), created, request.foundation_id));
    Json(json!({ "jobArn": arn })).into_response()
}

async fn describe(State(shared): State<Arc<Shared>>, Path(identifier): Path<String>) -> Response {
    match find(&shared, &identifier) {
        Ok(job) => Json(job.to_json()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Asks a running job to stop: it goes to `Stopping` now and to `Stopped` once its runner sees
/// the request. A job already stopping is left as it is; a finished one cannot be stopped.
async fn stop(State(shared): State<Arc<Shared>>, Path(identifier): Path<String>) -> Response {
    let job = match find(&shared, &identifier) {
        Ok(job) => job,
        Err(error) => return error.into_response(),
    };
    if job.status.is_terminal() {
        return ControlError::conflict(format!(
            "The model invocation job {} is in the {} state and cannot be stopped.",
            job.arn,
            job.status.as_str()
        ))
        .into_response();
    }
    shared.batch.request_stop(&job.id);
    Json(json!({})).into_response()
}

async fn list(State(shared): State<Arc<Shared>>, Query(query): Query<HashMap<String, String>>) -> Response {
    match list_jobs(&shared, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn list_jobs(shared: &Shared, query: &HashMap<String, String>) -> Result<Value, ControlError> {
    let after = time_filter(query, "submitTimeAfter")?;
    let before = time_filter(query, "submitTimeBefore")?;
    let status = match query.get("statusEquals") {
        Some(raw) => Some(Status::parse(raw).ok_or_else(|| {
            ControlError::constraint(raw, "statusEquals", "Member must satisfy enum value set: [Submitted, InProgress, Completed, Failed, Stopping, Stopped, PartiallyCompleted, Expired, Validating, Scheduled]")
        })?),
        None => None,
    };
    let max_results = match query.get("maxResults") {
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(ControlError::constraint(raw, "maxResults", "Member must have value between 1 and 1000")),
        },
        None => 1000,
    };
    if let Some(sort_by) = query.get("sortBy")
        && sort_by != "CreationTime"
    {
        return Err(ControlError::constraint(sort_by, "sortBy", "Member must satisfy enum value set: [CreationTime]"));
    }
    let ascending = match query.get("sortOrder").map(String::as_str) {
        None | Some("Descending") => false,
        Some("Ascending") => true,
        Some(other) => {
            return Err(ControlError::constraint(
                other,
                "sortOrder",
                "Member must satisfy enum value set: [Ascending, Descending]",
            ));
        }
    };
    let start = match query.get("nextToken") {
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|offset| offset.parse::<usize>().ok())
            .ok_or_else(|| ControlError::validation("The pagination token is invalid."))?,
        None => 0,
    };
    let mut jobs: Vec<Job> = shared
        .batch
        .lock_jobs()
        .iter()
        .filter(|job| after.is_none_or(|after| job.submit_time > after))
        .filter(|job| before.is_none_or(|before| job.submit_time < before))
        .filter(|job| status.is_none_or(|status| job.status == status))
        .filter(|job| query.get("nameContains").is_none_or(|part| job.name.contains(part.as_str())))
        .cloned()
        .collect();
    // Jobs are kept in creation order; the default order is newest first.
    if !ascending {
        jobs.reverse();
    }
    let page: Vec<Value> = jobs.iter().skip(start).take(max_results).map(Job::to_json).collect();
    let mut body = json!({ "invocationJobSummaries": page });
    if start + max_results < jobs.len() {
        body["nextToken"] = json!(format!("page-{}", start + max_results));
    }
    Ok(body)
}

fn time_filter(query: &HashMap<String, String>, member: &str) -> Result<Option<OffsetDateTime>, ControlError> {
    query
        .get(member)
        .map(|raw| {
            OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
                ControlError::validation(format!("Invalid value for {member}: {raw} is not an ISO 8601 timestamp."))
            })
        })
        .transpose()
}

/// The job `identifier` names: its id or its ARN, as the API reference's pattern has them
/// (`((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})`).
fn find(shared: &Shared, identifier: &str) -> Result<Job, ControlError> {
    let id = identifier.rsplit_once(":model-invocation-job/").map_or(identifier, |(prefix, id)| {
        if prefix.starts_with("arn:aws") && prefix.contains(":bedrock:") { id } else { "" }
    });
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Err(ControlError::constraint(
            identifier,
            "jobIdentifier",
            "Member must satisfy regular expression pattern: ((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})",
        ));
    }
    shared
        .batch
        .lock_jobs()
        .iter()
        .find(|job| job.is_named_by(identifier) || job.id == id)
        .cloned()
        .ok_or_else(|| ControlError::not_found(format!("The model invocation job {identifier} was not found.")))
}

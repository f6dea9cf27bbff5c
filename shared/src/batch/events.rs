//! Bedrock's "Batch Inference Job State Change" events, as EventBridge delivers them to the
//! batch-events function: the job's name says which batch it belongs to
//! (`<BATCH_JOB_PREFIX>-<batch hex>-<n>`); that batch is refreshed, and finalized when its
//! jobs have all ended. An event for a job that is not this deployment's is a logged no-op.

use serde_json::Value;

use super::record::{BatchRecord, key};
use super::{Batches, finalize};
use crate::config::Config;
use crate::error::ApiError;

/// Handles one event; the batch it refreshed, if it was one of ours.
pub async fn on_event(batches: &Batches, config: &Config, event: &Value) -> Result<Option<BatchRecord>, ApiError> {
    let detail = &event["detail"];
    let name = detail["batchJobName"].as_str().or(detail["jobName"].as_str()).unwrap_or_default();
    let status = detail["status"].as_str().unwrap_or_default();
    let Some(id) = batch_of(name, &batches.settings.job_prefix) else {
        tracing::info!(job = name, status, "state change of a job that is not this deployment's");
        return Ok(None);
    };
    let Some(batch) = batches.store.get_json::<BatchRecord>(&key(&id)).await? else {
        tracing::info!(job = name, batch = %id, "state change of a batch this bucket does not hold");
        return Ok(None);
    };
    tracing::info!(job = name, batch = %id, status, "batch job state change");
    finalize::refresh(batches, config, batch).await.map(Some)
}

/// The batch id in a job name of ours.
pub fn batch_of(job_name: &str, prefix: &str) -> Option<String> {
    let rest = job_name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (hex, n) = rest.rsplit_once('-')?;
    let ours = hex.len() == 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && n.parse::<usize>().is_ok();
    ours.then(|| format!("batch_{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_of_ours_name_their_batch_and_others_none() {
        assert_eq!(batch_of("gw-0123456789abcdef0123-0", "gw").as_deref(), Some("batch_0123456789abcdef0123"));
        assert_eq!(batch_of("gw-0123456789abcdef0123-12", "gw").as_deref(), Some("batch_0123456789abcdef0123"));
        for other in ["other-0123456789abcdef0123-0", "gw-xyz-0", "gw-0123456789abcdef0123", "gw0123456789abcdef0123-0"]
        {
            assert_eq!(batch_of(other, "gw"), None, "{other}");
        }
    }
}

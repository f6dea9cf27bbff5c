//! A batch inference job as the control plane keeps it: its statuses, its identifiers, and its
//! JSON as GetModelInvocationJob and ListModelInvocationJobs send it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The account and Region every emulated job lives in.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// `ModelInvocationJobStatus`, as the SDK's enum spells its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Submitted,
    Validating,
    Scheduled,
    InProgress,
    Completed,
    PartiallyCompleted,
    Failed,
    Stopping,
    Stopped,
    Expired,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Validating,
        Status::Scheduled,
        Status::InProgress,
        Status::Completed,
        Status::PartiallyCompleted,
        Status::Failed,
        Status::Stopping,
        Status::Stopped,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "Submitted",
            Status::Validating => "Validating",
            Status::Scheduled => "Scheduled",
            Status::InProgress => "InProgress",
            Status::Completed => "Completed",
            Status::PartiallyCompleted => "PartiallyCompleted",
            Status::Failed => "Failed",
            Status::Stopping => "Stopping",
            Status::Stopped => "Stopped",
            Status::Expired => "Expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// No further change will come.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::PartiallyCompleted | Status::Failed | Status::Stopped | Status::Expired
        )
    }
}

/// What the manifest and GetModelInvocationJob report once records were processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub processed: u64,
    pub success: u64,
    pub error: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// One job, as created and as it moves on.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) name: String,
    /// The `modelId` as the caller gave it (Bedrock echoes it back).
    pub(crate) model_id: String,
    pub(crate) role_arn: String,
    pub(crate) client_request_token: Option<String>,
    /// `InvokeModel` (the default) or `Converse`; `None` when the caller did not say.
    pub(crate) invocation_type: Option<String>,
    pub(crate) input_config: Value,
    pub(crate) output_config: Value,
    pub(crate) input_uri: String,
    pub(crate) output_uri: String,
    pub(crate) vpc_config: Option<Value>,
    pub(crate) timeout_hours: i64,
    pub(crate) status: Status,
    pub(crate) message: Option<String>,
    pub(crate) submit_time: OffsetDateTime,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) end_time: Option<OffsetDateTime>,
    pub(crate) counts: Option<Counts>,
}

impl Job {
    /// The time the job times out: its submission plus its timeout.
    pub(crate) fn expiration(&self) -> OffsetDateTime {
        self.submit_time + time::Duration::hours(self.timeout_hours)
    }

    /// True when `identifier` (an id or the job's ARN) names this job.
    pub(crate) fn is_named_by(&self, identifier: &str) -> bool {
        identifier == self.id || identifier == self.arn
    }

    /// GetModelInvocationJob's response body; a list's summaries have the same members.
    pub(crate) fn to_json(&self) -> Value {
        let mut body = Map::new();
        let mut put = |key: &str, value: Value| {
            body.insert(key.to_owned(), value);
        };
        put("jobArn", json!(self.arn));
        put("jobName", json!(self.name));
        put("modelId", json!(self.model_id));
        put("roleArn", json!(self.role_arn));
        put("status", json!(self.status.as_str()));
        put("submitTime", json!(timestamp(self.submit_time)));
        put("lastModifiedTime", json!(timestamp(self.last_modified)));
        put("inputDataConfig", self.input_config.clone());
        put("outputDataConfig", self.output_config.clone());
        put("timeoutDurationInHours", json!(self.timeout_hours));
        put("jobExpirationTime", json!(timestamp(self.expiration())));
        if let Some(token) = &self.client_request_token {
            put("clientRequestToken", json!(token));
        }
        if let Some(kind) = &self.invocation_type {
            put("modelInvocationType", json!(kind));
        }
        if let Some(vpc) = &self.vpc_config {
            put("vpcConfig", vpc.clone());
        }
        if let Some(message) = &self.message {
            put("message", json!(message));
        }
        if let Some(end) = self.end_time {
            put("endTime", json!(timestamp(end)));
        }
        if let Some(counts) = self.counts {
            put("totalRecordCount", json!(counts.total));
            put("processedRecordCount", json!(counts.processed));
            put("successRecordCount", json!(counts.success));
            put("errorRecordCount", json!(counts.error));
        }
        Value::Object(body)
    }
}

/// RFC 3339 with milliseconds, which the SDK parses as `DateTimeWithOffset`.
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(at.millisecond() as u32 * 1_000_000).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// A fresh job id: 12 lowercase letters and digits, as the job ARN pattern wants
/// (`...:model-invocation-job/[a-z0-9]{12}`), different per call.
pub(crate) fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos() as u64);
    let mut seed = nanos ^ COUNTER.fetch_add(1, Ordering::SeqCst).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..12)
        .map(|_| {
            // splitmix64: every character depends on every bit of the seed.
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ALPHABET[(z % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

pub(crate) fn arn_of(id: &str) -> String {
    format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twelve_lowercase_alphanumerics_and_differ() {
        let first = new_id();
        let second = new_id();
        assert_eq!(first.len(), 12);
        assert!(first.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{first}");
        assert_ne!(first, second);
    }

    #[test]
    fn statuses_round_trip_and_only_ends_are_terminal() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert!(Status::Stopped.is_terminal());
        assert!(!Status::Stopping.is_terminal());
        assert_eq!(Status::parse("Running"), None);
    }

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_633_600_123_456_789).unwrap();
        assert_eq!(timestamp(at), "2025-12-02T00:00:00.123Z");
    }
}

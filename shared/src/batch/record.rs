//! A batch as the bucket keeps it (`batches/<id>.json`): one record whichever API made it
//! (OpenAI's `/v1/batches` or Mistral's `/v1/batch/jobs`), with its Bedrock jobs, one per
//! model, and the counts and files its finalizing wrote. The two APIs' objects are views of it
//! ([`super::views`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which API made the batch, and so which object its reads answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    OpenAi,
    Mistral,
}

/// A batch's life, in OpenAI's words (Mistral's are mapped in the view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Validating,
    InProgress,
    Finalizing,
    Completed,
    Failed,
    Expired,
    Cancelling,
    Cancelled,
}

impl Status {
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Expired | Status::Cancelled)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRecord {
    pub id: String,
    pub api: Api,
    /// The id of the key that made it (with `KEYS_TABLE`): no other key sees it.
    pub owner: Option<String>,
    pub endpoint: String,
    pub input_file_ids: Vec<String>,
    pub completion_window: String,
    pub metadata: Option<Value>,
    /// The model Mistral's job names for all its lines.
    pub model: Option<String>,
    pub status: Status,
    pub created_at: u64,
    pub in_progress_at: Option<u64>,
    pub finalizing_at: Option<u64>,
    pub completed_at: Option<u64>,
    pub failed_at: Option<u64>,
    pub expired_at: Option<u64>,
    pub cancelling_at: Option<u64>,
    pub cancelled_at: Option<u64>,
    pub expires_at: u64,
    /// Every input line.
    pub total: usize,
    /// Lines refused before any job was made (they are in the error file).
    pub invalid: usize,
    /// Lines answered, and lines that failed (`invalid` included), once finalized.
    pub succeeded: usize,
    pub failed: usize,
    pub jobs: Vec<JobRecord>,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    /// What the batch cost, at the batch price, once finalized.
    pub cost_nanos: Option<u64>,
    /// The key budget reserved at creation (nano-dollars), settled when finalized.
    pub reserved_nanos: Option<u64>,
}

/// One Bedrock batch job: the lines of one model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    /// The model id as Bedrock is called with it.
    pub model_id: String,
    pub job_arn: String,
    pub job_name: String,
    /// Bedrock's status, as last read (`Submitted`, ..., `Completed`, `PartiallyCompleted`,
    /// `Failed`, `Stopping`, `Stopped`, `Expired`).
    pub status: String,
    pub message: Option<String>,
    pub records: usize,
    /// `jobs/<batch>/<n>/`: `input.jsonl`, `records.json` (record id → custom id) and `output/`.
    pub prefix: String,
    /// With keys: the job's worst case held against its key's budget until the batch is
    /// finalized (then settled at what the job cost, and gone).
    #[serde(default)]
    pub reservation: Option<crate::keys::budget::Reservation>,
}

impl JobRecord {
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "PartiallyCompleted" | "Failed" | "Stopped" | "Expired")
    }
}

/// Where a batch's record is kept.
pub fn key(id: &str) -> String {
    format!("batches/{id}.json")
}

/// Where the lines refused at creation wait for the error file.
pub fn invalid_key(id: &str) -> String {
    format!("batches/{id}.invalid.jsonl")
}

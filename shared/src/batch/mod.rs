//! Batch inference at the batch price: OpenAI's files and batches API and Mistral's batch jobs
//! API, one core over Bedrock's batch jobs (`CreateModelInvocationJob`), S3 and EventBridge.
//!
//! A batch's input file is read line by line ([`lines`]), each line checked as the sync route
//! checks a request and made into a Converse batch record; the lines of each model become one
//! Bedrock job ([`create`]). Bedrock's state-change events (and every read of a batch, so a
//! missed event delays nothing) refresh the batch from its jobs; once all of them have ended,
//! their outputs are matched to the lines by record id and written as the output and error
//! files ([`finalize`]). Everything a batch is lives in the batch bucket ([`store`]): files,
//! the batch records, and Bedrock's inputs and outputs.

pub mod catalog;
pub mod create;
pub mod events;
pub mod files;
pub mod finalize;
pub mod jobs;
pub mod lines;
pub mod record;
pub mod store;
pub mod views;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::batch::BatchSettings;
use crate::error::ApiError;

pub use jobs::Jobs;
pub use record::{Api, BatchRecord, Status};
pub use store::Store;

/// The batch bucket, Bedrock's batch control plane and the settings: what the batch routes
/// and the finalizer work with.
#[derive(Clone)]
pub struct Batches {
    pub store: Store,
    pub jobs: Jobs,
    pub settings: BatchSettings,
    /// The keys, when on: a batch's worst case is reserved against its key's budget when it is
    /// created and settled when it is finalized.
    pub keys: Option<std::sync::Arc<crate::keys::Keys>>,
}

impl Batches {
    pub fn new(s3: aws_sdk_s3::Client, bedrock: aws_sdk_bedrock::Client, settings: BatchSettings) -> Self {
        Batches { store: Store::new(s3, settings.bucket.clone()), jobs: Jobs::new(bedrock), settings, keys: None }
    }

    /// Clients from the environment as a Lambda cold start makes them. `AWS_ENDPOINT_URL_S3`
    /// and `AWS_ENDPOINT_URL_BEDROCK` point them at local servers (the dev setup); a local S3
    /// is addressed by path.
    pub async fn from_env(settings: BatchSettings) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Batches::new(store::s3_client(&shared), aws_sdk_bedrock::Client::new(&shared), settings)
    }
}

/// A new id: `prefix` and 20 hex digits from the OS's random source (short enough for
/// Bedrock's 63-character job names).
pub fn new_id(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness for an id: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

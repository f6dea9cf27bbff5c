//! Bedrock's batch inference control plane (the `bedrock` service's REST-JSON operations that
//! `aws-sdk-bedrock` sends), mounted on the emulator's HTTP server beside Bedrock Runtime:
//! CreateModelInvocationJob, GetModelInvocationJob, ListModelInvocationJobs and
//! StopModelInvocationJob. Jobs read their records from S3 and write their outputs there through
//! `aws-sdk-s3` (an S3-compatible server such as `dev::s3::S3Server`), answer each record with
//! the same scripted model InvokeModel and Converse use, and report every status change as an
//! EventBridge "Batch Inference Job State Change" event. See the emulator's module doc for the
//! behaviour as a whole.

mod api;
mod checks;
mod errors;
pub mod events;
mod job;
mod records;
mod runner;
mod storage;

use std::sync::Mutex;
use std::time::Duration;

pub(crate) use api::routes;
pub use events::JobEvents;
pub use job::Status;

/// Bedrock's default for the quota "Minimum number of records per batch inference job" (set
/// per model, adjustable for some): 100. The quota is named in "Format and upload your batch
/// inference data" and listed in "Amazon Bedrock endpoints and quotas"; the value is the
/// default that quota table gives.
pub const DEFAULT_MIN_RECORDS: u64 = 100;

/// The time a job spends in each status before the next, unless `EMULATOR_BATCH_STEP_MS` or
/// [`crate::emulator::Emulator::set_batch_step`] says otherwise.
pub const DEFAULT_STEP: Duration = Duration::from_millis(1000);

/// The Mistral models that take batch jobs in the emulator (foundation-model ids; profile ids
/// and ARNs naming them are accepted too), after the Mistral AI rows of Bedrock's "Supported
/// Regions and models for batch inference" and the same list as the gateway's
/// `shared::batch::catalog`. Bedrock's per-model batch quotas ("Records per batch inference job
/// for Mistral Small", "... for Mistral Large 2 (24.07)") confirm the first two.
/// `EMULATOR_BATCH_MODELS` (comma-separated ids) replaces the list, for when AWS's table changes
/// before this one does.
pub const BATCH_MODELS: [&str; 5] = [
    "mistral.mistral-small-2402-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "mistral.mixtral-8x7b-instruct-v0:1",
];

/// What the control plane keeps: the jobs, newest last, and its settings.
#[derive(Default)]
pub(crate) struct Batch {
    jobs: Mutex<Vec<job::Job>>,
    settings: Mutex<Settings>,
    /// Wakes sleeping runners when a stop is asked for; each checks whether it is its job.
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("jobs", &self.lock_jobs().len()).finish_non_exhaustive()
    }
}

/// How jobs run.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) step: Duration,
    pub(crate) min_records: u64,
    pub(crate) s3_endpoint: Option<String>,
    pub(crate) events: Option<JobEvents>,
    pub(crate) batch_models: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            step: DEFAULT_STEP,
            min_records: DEFAULT_MIN_RECORDS,
            s3_endpoint: None,
            events: None,
            batch_models: BATCH_MODELS.iter().map(|id| (*id).to_owned()).collect(),
        }
    }
}

impl Settings {
    /// The defaults with the environment's overrides: `EMULATOR_BATCH_STEP_MS`,
    /// `EMULATOR_BATCH_MIN_RECORDS`, `EMULATOR_BATCH_MODELS`, `AWS_ENDPOINT_URL_S3` and
    /// `EMULATOR_JOB_EVENTS_URL`. A value that does not parse is an error naming the variable.
    pub(crate) fn from_env() -> Result<Settings, String> {
        let mut settings = Settings::default();
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        if let Some(value) = var("EMULATOR_BATCH_STEP_MS") {
            let ms = value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("EMULATOR_BATCH_STEP_MS must be a number of milliseconds, got {value:?}"))?;
            settings.step = Duration::from_millis(ms);
        }
        if let Some(value) = var("EMULATOR_BATCH_MIN_RECORDS") {
            settings.min_records = value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("EMULATOR_BATCH_MIN_RECORDS must be a whole number of records, got {value:?}"))?;
        }
        if let Some(value) = var("EMULATOR_BATCH_MODELS") {
            settings.batch_models =
                value.split(',').map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
        }
        if let Some(value) = var("AWS_ENDPOINT_URL_S3") {
            settings.s3_endpoint = Some(value);
        }
        if let Some(value) = var("EMULATOR_JOB_EVENTS_URL") {
            if !value.starts_with("http://") && !value.starts_with("https://") {
                return Err(format!("EMULATOR_JOB_EVENTS_URL must be an http(s) URL, got {value:?}"));
            }
            settings.events = Some(events::http_sink(value));
        }
        Ok(settings)
    }
}

impl Batch {
    pub(crate) fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    pub(crate) fn configure(&self, change: impl FnOnce(&mut Settings)) {
        change(&mut self.settings.lock().unwrap_or_else(|poison| poison.into_inner()));
    }

    fn lock_jobs(&self) -> std::sync::MutexGuard<'_, Vec<job::Job>> {
        self.jobs.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

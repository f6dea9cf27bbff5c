//! One job's life: Submitted → Validating (input read from S3 and checked) → Scheduled →
//! InProgress (every record answered) → Completed, PartiallyCompleted or Failed; a stop request
//! turns any of them before the end into Stopping → Stopped. Each status lasts one step (the
//! batch step setting) and each change is announced to the job-event sink, in order.

use std::sync::Arc;

use time::OffsetDateTime;

use super::job::{Counts, Job, Status};
use super::{Batch, records, storage};
use crate::emulator::models::ModelTraits;
use crate::emulator::server::Shared;

impl Batch {
    /// Applies `change` to the job `id` and returns it as changed.
    fn update(&self, id: &str, change: impl FnOnce(&mut Job)) -> Option<Job> {
        let mut jobs = self.lock_jobs();
        let job = jobs.iter_mut().find(|job| job.id == id)?;
        change(job);
        job.last_modified = OffsetDateTime::now_utc();
        Some(job.clone())
    }

    fn status(&self, id: &str) -> Option<Status> {
        self.lock_jobs().iter().find(|job| job.id == id).map(|job| job.status)
    }

    /// Moves a job that has not ended to `Stopping` and wakes its runner.
    pub(crate) fn request_stop(&self, id: &str) {
        let _ = self.update(id, |job| {
            if !job.status.is_terminal() {
                job.status = Status::Stopping;
            }
        });
        self.wake.notify_waiters();
    }
}

/// Why a job does not reach its normal end.
enum Halt {
    Stop,
    Fail(String),
}

/// Runs the job `created` (as it was when created: its `Submitted` event is the first).
pub(crate) async fn run(shared: Arc<Shared>, created: Job, foundation_id: String) {
    let id = created.id.clone();
    let runner = Runner { shared: &shared, id: &id, foundation_id: &foundation_id };
    runner.announce(&created).await;
    let outcome = runner.work().await;
    let job = match outcome {
        Ok(counts) => runner.finish(counts),
        Err(Halt::Stop) => {
            if let Some(job) = shared.batch.update(&id, |job| job.status = Status::Stopping) {
                runner.announce(&job).await;
            }
            shared.batch.update(&id, |job| {
                job.status = Status::Stopped;
                job.end_time = Some(OffsetDateTime::now_utc());
            })
        }
        Err(Halt::Fail(message)) => shared.batch.update(&id, |job| {
            job.status = Status::Failed;
            job.message = Some(message);
            job.end_time = Some(OffsetDateTime::now_utc());
        }),
    };
    if let Some(job) = job {
        runner.announce(&job).await;
    }
}

struct Runner<'a> {
    shared: &'a Arc<Shared>,
    id: &'a str,
    foundation_id: &'a str,
}

impl Runner<'_> {
    async fn work(&self) -> Result<Counts, Halt> {
        let batch = &self.shared.batch;
        self.pause().await?;
        let job = self.enter(Status::Validating).await?;
        let settings = batch.settings();
        let Some(endpoint) = settings.s3_endpoint else {
            return Err(Halt::Fail(
                "The emulator has no S3 endpoint: set AWS_ENDPOINT_URL_S3 or call Emulator::set_s3_endpoint."
                    .to_owned(),
            ));
        };
        let client = crate::s3::s3_client(&endpoint).await;
        let files = storage::read_inputs(&client, &job.input_uri).await.map_err(Halt::Fail)?;
        let mut next_id = 0;
        let mut inputs = Vec::new();
        for file in files {
            let parsed = records::parse(&file.name, &file.text, &mut next_id).map_err(Halt::Fail)?;
            inputs.push((file.name, parsed));
        }
        let total: u64 = inputs.iter().map(|(_, records)| records.len() as u64).sum();
        if total < settings.min_records {
            return Err(Halt::Fail(format!(
                "The input holds {total} records, fewer than the minimum number of records per batch inference job ({}). Add records and try again.",
                settings.min_records
            )));
        }
        batch.update(self.id, |job| job.counts = Some(Counts { total, ..Counts::default() }));
        self.pause().await?;
        self.enter(Status::Scheduled).await?;
        self.pause().await?;
        self.enter(Status::InProgress).await?;
        let model = ModelTraits::of(self.foundation_id);
        let converse_job = job.invocation_type.as_deref() == Some("Converse");
        let mut counts = Counts::default();
        for (name, records) in inputs {
            let mut out = Vec::new();
            for record in &records {
                if batch.status(self.id) == Some(Status::Stopping) {
                    return Err(Halt::Stop);
                }
                let (line, added) = records::answer(self.shared, &model, converse_job, record).await;
                counts.add(added);
                batch.update(self.id, |job| job.counts = Some(Counts { total, ..counts }));
                out.extend_from_slice(line.to_string().as_bytes());
                out.push(b'\n');
            }
            storage::write_output(&client, &job.output_uri, self.id, &format!("{name}.out"), out)
                .await
                .map_err(Halt::Fail)?;
        }
        let manifest = Counts { total, ..counts }.manifest().to_string().into_bytes();
        storage::write_output(&client, &job.output_uri, self.id, "manifest.json.out", manifest)
            .await
            .map_err(Halt::Fail)?;
        self.pause().await?;
        Ok(Counts { total, ..counts })
    }

    /// The job's end once every record was answered: Completed when none failed,
    /// PartiallyCompleted when some did, Failed when all did.
    fn finish(&self, counts: Counts) -> Option<Job> {
        self.shared.batch.update(self.id, |job| {
            job.counts = Some(counts);
            job.end_time = Some(OffsetDateTime::now_utc());
            job.status = match (counts.success, counts.error) {
                (_, 0) => Status::Completed,
                (0, _) => Status::Failed,
                _ => Status::PartiallyCompleted,
            };
            if job.status == Status::Failed {
                job.message =
                    Some(format!("All {} records failed. See the output files for each record's error.", counts.error));
            }
        })
    }

    /// Moves the job to `status` (unless a stop was asked for) and announces it.
    async fn enter(&self, status: Status) -> Result<Job, Halt> {
        let mut stopping = false;
        let job = self.shared.batch.update(self.id, |job| {
            stopping = job.status == Status::Stopping;
            if !stopping {
                job.status = status;
            }
        });
        match job {
            Some(job) if !stopping => {
                self.announce(&job).await;
                Ok(job)
            }
            _ => Err(Halt::Stop),
        }
    }

    /// Waits one step, or less if a stop is asked for meanwhile.
    async fn pause(&self) -> Result<(), Halt> {
        let batch = &self.shared.batch;
        let deadline = tokio::time::Instant::now() + batch.settings().step;
        loop {
            // Registered before the status is read, so a stop asked for in between still wakes us.
            let woken = batch.wake.notified();
            match batch.status(self.id) {
                Some(Status::Stopping) | None => return Err(Halt::Stop),
                Some(_) => {}
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Ok(()),
                () = woken => {}
            }
        }
    }

    async fn announce(&self, job: &Job) {
        tracing::debug!(job = %job.arn, status = job.status.as_str(), "batch job status");
        if let Some(sink) = self.shared.batch.settings().events {
            sink(super::events::state_change(job, self.foundation_id, OffsetDateTime::now_utc())).await;
        }
    }
}

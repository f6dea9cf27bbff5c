//! Batch on localhost, with nothing but Rust: the S3 server (`dev::s3`) holds the batch bucket,
//! the emulator runs Bedrock's batch control plane against it, and every job state change the
//! emulator makes is handed to the same finalizer the batch-events function runs, as
//! EventBridge would deliver it.

use std::net::SocketAddr;
use std::sync::Arc;

use shared::AppState;
use shared::batch::Batches;
use shared::batch::events::on_event;
use shared::config::batch::BatchSettings;

use crate::emulator::Emulator;
use crate::s3::{S3Server, s3_client};

/// The settings of a dev server whose environment sets no `BATCH_BUCKET`: a local bucket, a
/// role the emulator accepts, and one record per job, so a two-line file can be tried (Bedrock
/// needs 100: `BATCH_MIN_RECORDS=100` shows its refusal).
pub fn local_settings() -> BatchSettings {
    let min_records = std::env::var("BATCH_MIN_RECORDS").ok().and_then(|n| n.trim().parse().ok()).unwrap_or(1);
    BatchSettings {
        bucket: "local-batch".into(),
        role_arn: "arn:aws:iam::123456789012:role/local-batch".into(),
        // The same as dev/lambda.env, so `cargo lambda watch`'s functions share these batches.
        job_prefix: "mistral-bedrock".into(),
        extra_models: Vec::new(),
        min_records: Some(min_records),
        max_upload_bytes: 4 << 20,
    }
}

/// Starts the S3 server (on `s3_port` when free), makes the bucket, points the emulator's
/// batch jobs at it, and returns the batch core over both.
pub async fn start(emulator: &Emulator, settings: BatchSettings, s3_port: u16) -> std::io::Result<(S3Server, Batches)> {
    let s3 = match S3Server::start_on(SocketAddr::from(([127, 0, 0, 1], s3_port))).await {
        Ok(server) => server,
        Err(_) => S3Server::start().await?,
    };
    let client = s3_client(&s3.url()).await;
    if let Err(error) = client.create_bucket().bucket(&settings.bucket).send().await
        && !error.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you())
    {
        return Err(std::io::Error::other(format!("cannot create the local batch bucket: {error}")));
    }
    emulator.set_s3_endpoint(&s3.url());
    if let Some(min) = settings.min_records {
        emulator.set_batch_min_records(min as u64);
    }
    let bedrock = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new("us-east-1"))
        .endpoint_url(emulator.url())
        .credentials_provider(aws_sdk_bedrock::config::Credentials::new(
            "AKIDEMULATOR",
            "emulator-secret",
            None,
            None,
            "emulator",
        ))
        .build();
    Ok((s3, Batches::new(client, aws_sdk_bedrock::Client::from_conf(bedrock), settings)))
}

/// Delivers the emulator's job state changes to the finalizer over `app`'s batch core.
pub fn deliver_events(emulator: &Emulator, app: AppState) {
    emulator.set_job_events(Arc::new(move |event| {
        let app = app.clone();
        Box::pin(async move {
            let Some(batches) = app.batch.as_ref() else { return };
            if let Err(error) = on_event(batches, &app.config, &event).await {
                tracing::warn!(%error, "the batch finalizer could not handle a job state change");
            }
        })
    }));
}

//! `gateway-admin files upload`: the path for batch inputs larger than API Gateway and Lambda
//! carry. The file is written to the batch bucket as `POST /v1/files` would write it (through
//! `shared::batch::files`), so a batch is created from its id as from any other.

use serde::Serialize;
use shared::batch::{Store, files};

use crate::cli::UploadArgs;
use crate::commands::Failure;

#[derive(Serialize)]
struct Uploaded<'a> {
    id: &'a str,
    bytes: usize,
    lines: usize,
    bucket: &'a str,
}

pub async fn upload(args: UploadArgs, json: bool) -> Result<String, Failure> {
    let bucket = match args.bucket {
        Some(bucket) => bucket,
        None => std::env::var("BATCH_BUCKET").ok().filter(|b| !b.trim().is_empty()).ok_or(Failure::NoBucket)?,
    };
    let content =
        std::fs::read(&args.path).map_err(|error| Failure::Read { path: args.path.display().to_string(), error })?;
    let filename = args.path.file_name().map_or("input.jsonl".into(), |n| n.to_string_lossy().into_owned());
    let store = Store::from_env(bucket.clone()).await;
    let file = files::create(&store, args.owner.as_deref(), &filename, "batch", "batch_request", content)
        .await
        .map_err(|e| Failure::Batch(e.to_string()))?;
    let uploaded = Uploaded { id: &file.id, bytes: file.bytes, lines: file.lines, bucket: &bucket };
    if json {
        return Ok(serde_json::to_string_pretty(&uploaded)? + "\n");
    }
    Ok(format!(
        "Uploaded {filename} as {} ({} bytes, {} lines) to bucket {bucket}.\nCreate the batch with input_file_id {}.\n",
        file.id, file.bytes, file.lines, file.id
    ))
}

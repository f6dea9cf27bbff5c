//! A job's S3 side, through the real `aws-sdk-s3` client: the input `.jsonl` objects (one object,
//! or every `.jsonl` under a prefix) and the output objects, written where Bedrock writes them:
//! `{outputS3Uri}/{jobId}/{inputFileName}.out` and `{outputS3Uri}/{jobId}/manifest.json.out`.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

/// An `s3://bucket/key` URI taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Uri {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

impl S3Uri {
    pub(crate) fn parse(uri: &str) -> Option<S3Uri> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Uri { bucket: bucket.to_owned(), key: key.to_owned() })
    }
}

/// One input file: its name relative to the input URI (what the output file is named after)
/// and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputFile {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// The input files of `uri`, in key order, or the message the job fails with.
pub(crate) async fn read_inputs(client: &Client, uri: &str) -> Result<Vec<InputFile>, String> {
    let location = S3Uri::parse(uri).ok_or_else(|| format!("The input S3 URI {uri} is not valid."))?;
    let keys = if location.key.ends_with(".jsonl") {
        vec![location.key.clone()]
    } else {
        list_jsonl(client, &location).await?
    };
    if keys.is_empty() {
        return Err(format!(
            "No .jsonl files were found at the input location {uri}. Upload your input files and try again."
        ));
    }
    let mut files = Vec::new();
    for key in keys {
        let object = client.get_object().bucket(&location.bucket).key(&key).send().await.map_err(|error| {
            format!(
                "Unable to read the input file s3://{}/{key}: {}",
                location.bucket,
                aws_sdk_s3::error::DisplayErrorContext(&error)
            )
        })?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|error| format!("Unable to read the input file s3://{}/{key}: {error}", location.bucket))?
            .into_bytes();
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("The input file s3://{}/{key} is not UTF-8 text.", location.bucket))?;
        let name = key.strip_prefix(location.key.as_str()).unwrap_or(&key).trim_start_matches('/');
        let name = if name.is_empty() { key.rsplit('/').next().unwrap_or(&key) } else { name };
        files.push(InputFile { name: name.to_owned(), text });
    }
    Ok(files)
}

async fn list_jsonl(client: &Client, location: &S3Uri) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut pages = client.list_objects_v2().bucket(&location.bucket).prefix(&location.key).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| {
            format!(
                "Unable to list the input location s3://{}/{}: {}",
                location.bucket,
                location.key,
                aws_sdk_s3::error::DisplayErrorContext(&error)
            )
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key())
                .filter(|key| key.ends_with(".jsonl"))
                .map(str::to_owned),
        );
    }
    keys.sort();
    Ok(keys)
}

/// Writes `body` to `{output_uri}/{job_id}/{name}`.
pub(crate) async fn write_output(
    client: &Client,
    output_uri: &str,
    job_id: &str,
    name: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let location = S3Uri::parse(output_uri).ok_or_else(|| format!("The output S3 URI {output_uri} is not valid."))?;
    let prefix = location.key.trim_end_matches('/');
    let key = if prefix.is_empty() { format!("{job_id}/{name}") } else { format!("{prefix}/{job_id}/{name}") };
    client
        .put_object()
        .bucket(&location.bucket)
        .key(&key)
        .content_type("application/octet-stream")
        .body(ByteStream::from(body))
        .send()
        .await
        .map(drop)
        .map_err(|error| {
            format!(
                "Unable to write the output s3://{}/{key}: {}",
                location.bucket,
                aws_sdk_s3::error::DisplayErrorContext(&error)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_bucket_and_key() {
        assert_eq!(S3Uri::parse("s3://b/in/x.jsonl"), Some(S3Uri { bucket: "b".into(), key: "in/x.jsonl".into() }));
        assert_eq!(S3Uri::parse("s3://b"), Some(S3Uri { bucket: "b".into(), key: String::new() }));
        assert_eq!(S3Uri::parse("https://b/x"), None);
    }
}

//! The batch bucket through the real aws-sdk-s3: files, batch records, and Bedrock's job inputs
//! and outputs, each under its own prefix (the service role reads and writes `jobs/` only).

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

#[derive(Clone)]
pub struct Store {
    s3: Client,
    bucket: String,
}

impl Store {
    pub fn new(s3: Client, bucket: impl Into<String>) -> Self {
        Store { s3, bucket: bucket.into() }
    }

    /// The bucket through a client made from the environment (AWS's usual settings;
    /// `AWS_ENDPOINT_URL_S3` for a local S3 server, then addressed by path).
    pub async fn from_env(bucket: impl Into<String>) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Store::new(s3_client(&shared), bucket)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `s3://bucket/key`, as Bedrock's job configuration names objects.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    pub async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), ApiError> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| unavailable("write", key, e))?;
        Ok(())
    }

    /// Writes `key` only if no object has that key (S3's conditional write, `If-None-Match: *`):
    /// true for the one writer that made it, false for any other.
    pub async fn put_new(&self, key: &str, body: Vec<u8>) -> Result<bool, ApiError> {
        let sent = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.raw_response().map(|r| r.status().as_u16()), Some(409 | 412)) => Ok(false),
            Err(e) => Err(unavailable("write", key, aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    /// The object's bytes, `None` when there is none. A read is retried twice: the SDK retries
    /// an error status but not a body cut short, and a read is safe to repeat.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let mut attempt = 0;
        loop {
            match self.get_once(key).await {
                Err(error) if attempt < 2 => {
                    attempt += 1;
                    tracing::warn!(key, attempt, error = %error, "batch bucket read failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                done => return done.map_err(|e| unavailable("read", key, e)),
            }
        }
    }

    async fn get_once(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let output = match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(aws_sdk_s3::error::DisplayErrorContext(e).to_string()),
        };
        let bytes = output.body.collect().await.map_err(|e| e.to_string())?;
        Ok(Some(bytes.to_vec()))
    }

    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable("delete", key, e))?;
        Ok(())
    }

    /// Every key under `prefix`, in key order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ApiError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| unavailable("list", prefix, e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(keys)
    }

    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), ApiError> {
        let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(format!("cannot write {key}: {e}")))?;
        self.put(key, body, "application/json").await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        match self.get(key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ApiError::Internal(format!("the stored record {key} does not parse: {e}"))),
        }
    }
}

/// An S3 client from AWS's shared settings; path-style when the endpoint is a local one.
pub fn s3_client(shared: &aws_config::SdkConfig) -> Client {
    let local = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    Client::from_conf(aws_sdk_s3::config::Builder::from(shared).force_path_style(local).build())
}

fn unavailable(action: &str, key: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(action, key, error = %error, "batch bucket call failed");
    ApiError::Unavailable {
        message: format!(
            "the batch bucket could not {action} `{key}`. Retry; if it persists, check that BATCH_BUCKET exists and the function's role may use it."
        ),
        retry_after: 5,
    }
}

//! Batch inference (`BATCH_*`): on when `BATCH_BUCKET` names the bucket that holds files, job
//! inputs and outputs, and batch records; Bedrock runs each job as `BATCH_ROLE_ARN`.

use super::{ConfigError, Env, env::bad};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSettings {
    /// The S3 bucket of files, batch records and Bedrock's job inputs and outputs.
    pub bucket: String,
    /// The service role Bedrock assumes to read the job input and write its output.
    pub role_arn: String,
    /// Every Bedrock job this deployment creates is named `<prefix>-<batch>-<n>`, so the
    /// EventBridge rule can match its own jobs (`BATCH_JOB_PREFIX`, the stack name when deployed).
    pub job_prefix: String,
    /// Models to treat as batch-capable beyond the catalog's list (`BATCH_MODELS`, aliases or ids).
    pub extra_models: Vec<String>,
    /// Overrides Bedrock's minimum records per job (`BATCH_MIN_RECORDS`): for the emulator,
    /// whose minimum is a setting too; real Bedrock refuses a job below its own minimum.
    pub min_records: Option<usize>,
    /// The largest upload the files route takes (`BATCH_MAX_UPLOAD_BYTES`): API Gateway and
    /// Lambda carry about 6 MB, base64 included; larger inputs go to the bucket directly.
    pub max_upload_bytes: usize,
}

impl BatchSettings {
    pub fn load(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(bucket) = env.get("BATCH_BUCKET").filter(|b| !b.trim().is_empty()) else { return Ok(None) };
        let role_arn = env.get("BATCH_ROLE_ARN").filter(|r| r.starts_with("arn:")).ok_or_else(|| {
            bad("BATCH_ROLE_ARN", "must be the ARN of the role Bedrock runs batch jobs as (BATCH_BUCKET is set)")
        })?;
        let job_prefix = env.get("BATCH_JOB_PREFIX").unwrap_or_else(|| "mistral-gateway".into());
        if job_prefix.is_empty()
            || job_prefix.len() > 36
            || !job_prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || job_prefix.starts_with('-')
        {
            return Err(bad(
                "BATCH_JOB_PREFIX",
                "1 to 36 letters, digits or `-`, not starting with `-` (job names are at most 63 characters)",
            ));
        }
        Ok(Some(BatchSettings {
            bucket: bucket.trim().to_owned(),
            role_arn,
            job_prefix,
            extra_models: env.list("BATCH_MODELS"),
            min_records: env.optional_number("BATCH_MIN_RECORDS", 1..=1_000_000)?,
            max_upload_bytes: env.number("BATCH_MAX_UPLOAD_BYTES", 4 << 20, 1024..=(6 << 20))?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_is_off_without_a_bucket_and_needs_a_role_with_one() {
        assert_eq!(BatchSettings::load(&Env::empty()).unwrap(), None);
        let err = BatchSettings::load(&Env::from_pairs([("BATCH_BUCKET", "b")])).unwrap_err();
        assert!(err.to_string().contains("BATCH_ROLE_ARN"), "{err}");
        let on = BatchSettings::load(&Env::from_pairs([
            ("BATCH_BUCKET", "b"),
            ("BATCH_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("BATCH_MODELS", "ministral-8b"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (on.job_prefix.as_str(), on.extra_models.as_slice(), on.min_records),
            ("mistral-gateway", &["ministral-8b".to_owned()][..], None)
        );
        let err = BatchSettings::load(&Env::from_pairs([
            ("BATCH_BUCKET", "b"),
            ("BATCH_ROLE_ARN", "arn:aws:iam::1:role/r"),
            ("BATCH_JOB_PREFIX", "bad prefix"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("BATCH_JOB_PREFIX"), "{err}");
    }
}

//! Bedrock's batch control plane through the real aws-sdk-bedrock: create a job per model, read
//! its status, stop it. Errors say what to do, as the runtime's do.

use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig,
    ModelInvocationJobS3OutputDataConfig, ModelInvocationType, S3InputFormat,
};

use crate::error::ApiError;

#[derive(Clone)]
pub struct Jobs {
    client: Client,
}

/// One job to create.
pub struct JobSpec<'a> {
    pub name: &'a str,
    pub model_id: &'a str,
    pub role_arn: &'a str,
    pub input_uri: &'a str,
    pub output_uri: &'a str,
    pub timeout_hours: i32,
}

/// A job's state as Bedrock reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub status: String,
    pub message: Option<String>,
}

impl Jobs {
    pub fn new(client: Client) -> Self {
        Jobs { client }
    }

    /// Creates the job; its ARN.
    pub async fn create(&self, spec: JobSpec<'_>) -> Result<String, ApiError> {
        let input = ModelInvocationJobInputDataConfig::S3InputDataConfig(
            ModelInvocationJobS3InputDataConfig::builder()
                .s3_uri(spec.input_uri)
                .s3_input_format(S3InputFormat::Jsonl)
                .build()
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        let output = ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            ModelInvocationJobS3OutputDataConfig::builder()
                .s3_uri(spec.output_uri)
                .build()
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        let created = self
            .client
            .create_model_invocation_job()
            .job_name(spec.name)
            .model_id(spec.model_id)
            .role_arn(spec.role_arn)
            .client_request_token(spec.name.replace('-', ""))
            .input_data_config(input)
            .output_data_config(output)
            .model_invocation_type(ModelInvocationType::Converse)
            .timeout_duration_in_hours(spec.timeout_hours)
            .send()
            .await
            .map_err(|e| fault("CreateModelInvocationJob", spec.model_id, e))?;
        Ok(created.job_arn)
    }

    pub async fn get(&self, arn: &str) -> Result<JobState, ApiError> {
        let job = self
            .client
            .get_model_invocation_job()
            .job_identifier(arn)
            .send()
            .await
            .map_err(|e| fault("GetModelInvocationJob", arn, e))?;
        Ok(JobState {
            status: job.status.map(|s| s.as_str().to_owned()).unwrap_or_else(|| "Submitted".into()),
            message: job.message,
        })
    }

    pub async fn stop(&self, arn: &str) -> Result<(), ApiError> {
        match self.client.stop_model_invocation_job().job_identifier(arn).send().await {
            Ok(_) => Ok(()),
            // Already finished or stopping: nothing left to stop.
            Err(e) if e.code() == Some("ConflictException") || e.code() == Some("ValidationException") => Ok(()),
            Err(e) => Err(fault("StopModelInvocationJob", arn, e)),
        }
    }
}

/// Bedrock's control-plane error as ours, with what to do.
fn fault<E>(operation: &str, target: &str, error: aws_sdk_bedrock::error::SdkError<E>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = error.code().unwrap_or_default().to_owned();
    let said = error.message().unwrap_or_default().to_owned();
    tracing::error!(operation, target, code = %code, error = %DisplayErrorContext(&error), "Bedrock batch call failed");
    match code.as_str() {
        "AccessDeniedException" => ApiError::AccessDenied(format!(
            "Bedrock denied {operation} on {target} ({said}). Check the batch function's IAM role (bedrock:{operation}, iam:PassRole on BATCH_ROLE_ARN) and model access in the Bedrock console."
        )),
        "ValidationException" => {
            ApiError::BedrockValidation(format!("Bedrock refused {operation} for {target}: {said}"))
        }
        "ServiceQuotaExceededException" | "ThrottlingException" => ApiError::Throttled {
            message: format!(
                "Bedrock refused {operation} for {target}: {said}. Retry later, or ask for a higher batch inference quota in Service Quotas."
            ),
            retry_after: 30,
        },
        "ResourceNotFoundException" => ApiError::NotFound(format!("Bedrock knows no {target} ({said})")),
        _ => {
            ApiError::Upstream(format!("Bedrock {operation} for {target} failed ({code}: {said}). Retry the request."))
        }
    }
}

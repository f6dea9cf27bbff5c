//! CreateModelInvocationJob's request checks, with the constraints of Bedrock's API reference
//! (CreateModelInvocationJob, ModelInvocationJobS3InputDataConfig/OutputDataConfig): what the
//! real service refuses with a `ValidationException` before a job exists.

use serde_json::Value;
use shared::catalog;

use super::errors::ControlError;
use crate::emulator::models;

/// `jobName`: 1 to 63 characters, `[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}`.
const JOB_NAME_PATTERN: &str =
    r"Member must satisfy regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}";
/// `roleArn`: `arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+`, at most 2048 characters.
const ROLE_ARN_PATTERN: &str =
    r"Member must satisfy regular expression pattern: arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+";
/// `s3Uri`: `s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?`, 1 to 1024 characters.
const S3_URI_PATTERN: &str =
    r"Member must satisfy regular expression pattern: s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?";
/// `clientRequestToken`: `[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}`.
const TOKEN_PATTERN: &str = r"Member must satisfy regular expression pattern: [a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}";
/// `timeoutDurationInHours`: 24 to 168; Bedrock's default is 168.
pub(crate) const TIMEOUT_HOURS: std::ops::RangeInclusive<i64> = 24..=168;
pub(crate) const DEFAULT_TIMEOUT_HOURS: i64 = 168;

/// A create request that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Create {
    pub(crate) name: String,
    pub(crate) model_id: String,
    /// The foundation model behind `model_id` (profile prefixes and ARNs resolved).
    pub(crate) foundation_id: String,
    pub(crate) role_arn: String,
    pub(crate) client_request_token: Option<String>,
    pub(crate) invocation_type: Option<String>,
    pub(crate) input_config: Value,
    pub(crate) output_config: Value,
    pub(crate) input_uri: String,
    pub(crate) output_uri: String,
    pub(crate) vpc_config: Option<Value>,
    pub(crate) timeout_hours: i64,
}

/// Checks a CreateModelInvocationJob body; `batch_models` are the foundation-model ids that
/// take batch jobs.
pub(crate) fn create(body: &Value, batch_models: &[String]) -> Result<Create, ControlError> {
    let name = required_string(body, "jobName")?;
    if !job_name_ok(&name) {
        return Err(ControlError::constraint(&name, "jobName", JOB_NAME_PATTERN));
    }
    let role_arn = required_string(body, "roleArn")?;
    if !role_arn_ok(&role_arn) {
        return Err(ControlError::constraint(&role_arn, "roleArn", ROLE_ARN_PATTERN));
    }
    let model_id = required_string(body, "modelId")?;
    let foundation_id = batch_model(&model_id, batch_models)?;
    let client_request_token = optional_string(body, "clientRequestToken")?;
    if let Some(token) = &client_request_token
        && !token_ok(token)
    {
        return Err(ControlError::constraint(token, "clientRequestToken", TOKEN_PATTERN));
    }
    let invocation_type = optional_string(body, "modelInvocationType")?;
    if let Some(kind) = &invocation_type
        && kind != "InvokeModel"
        && kind != "Converse"
    {
        return Err(ControlError::constraint(
            kind,
            "modelInvocationType",
            "Member must satisfy enum value set: [InvokeModel, Converse]",
        ));
    }
    let (input_config, input_uri) = data_config(body, "inputDataConfig", "s3InputDataConfig")?;
    if let Some(format) = input_config["s3InputDataConfig"].get("s3InputFormat")
        && format != "JSONL"
    {
        let format = format.as_str().unwrap_or_default();
        return Err(ControlError::constraint(
            format,
            "inputDataConfig.s3InputDataConfig.s3InputFormat",
            "Member must satisfy enum value set: [JSONL]",
        ));
    }
    let (output_config, output_uri) = data_config(body, "outputDataConfig", "s3OutputDataConfig")?;
    let timeout_hours = match body.get("timeoutDurationInHours") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_HOURS,
        Some(value) => match value.as_i64() {
            Some(hours) if TIMEOUT_HOURS.contains(&hours) => hours,
            _ => {
                return Err(ControlError::constraint(
                    &value.to_string(),
                    "timeoutDurationInHours",
                    "Member must have value between 24 and 168",
                ));
            }
        },
    };
    Ok(Create {
        name,
        model_id,
        foundation_id,
        role_arn,
        client_request_token,
        invocation_type,
        input_config,
        output_config,
        input_uri,
        output_uri,
        vpc_config: body.get("vpcConfig").filter(|vpc| !vpc.is_null()).cloned(),
        timeout_hours,
    })
}

/// The foundation model behind `model_id`, which must be a Mistral model the emulator knows
/// and one that takes batch jobs.
fn batch_model(model_id: &str, batch_models: &[String]) -> Result<String, ControlError> {
    if model_id.is_empty() || model_id.len() > 2048 {
        return Err(ControlError::constraint(model_id, "modelId", "Member must have length between 1 and 2048"));
    }
    let id = models::model_id(model_id).map_err(|error| ControlError::validation(error.message))?;
    let foundation_id = catalog::base_id(id).to_owned();
    if catalog::lookup(&foundation_id).is_none() {
        return Err(ControlError::validation(models::INVALID_MODEL_ID));
    }
    if !batch_models.iter().any(|batch| batch == &foundation_id) {
        return Err(ControlError::validation(format!(
            "The model {model_id} does not support batch inference. Choose a model that supports batch inference and try again."
        )));
    }
    Ok(foundation_id)
}

/// `inputDataConfig.s3InputDataConfig` or `outputDataConfig.s3OutputDataConfig`: present, with a
/// well-formed `s3Uri`.
fn data_config(body: &Value, member: &str, inner: &str) -> Result<(Value, String), ControlError> {
    let Some(config) = body.get(member).filter(|config| config.is_object()) else {
        return Err(missing(member));
    };
    let Some(s3) = config.get(inner).filter(|s3| s3.is_object()) else {
        return Err(ControlError::validation(format!(
            "1 validation error detected: Value null at '{member}.{inner}' failed to satisfy constraint: Member must not be null"
        )));
    };
    let uri = s3.get("s3Uri").and_then(Value::as_str).unwrap_or_default();
    if !s3_uri_ok(uri) {
        return Err(ControlError::constraint(uri, &format!("{member}.{inner}.s3Uri"), S3_URI_PATTERN));
    }
    Ok((config.clone(), uri.to_owned()))
}

fn required_string(body: &Value, member: &str) -> Result<String, ControlError> {
    match body.get(member) {
        Some(Value::String(value)) => Ok(value.clone()),
        _ => Err(missing(member)),
    }
}

fn optional_string(body: &Value, member: &str) -> Result<Option<String>, ControlError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(other) => {
            Err(ControlError::validation(format!("Invalid value for '{member}': expected a string, got {other}")))
        }
    }
}

fn missing(member: &str) -> ControlError {
    ControlError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn job_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars.next().is_some_and(|first| first.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
}

fn role_arn_ok(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else { return false };
    // An optional partition suffix (`-cn`, `-us-gov`), then `:iam::`.
    let rest = match rest.strip_prefix('-') {
        Some(partition) => match partition.split_once(':') {
            Some((suffix, after)) if !suffix.is_empty() => after,
            _ => return false,
        },
        None => match rest.strip_prefix(':') {
            Some(after) => after,
            None => return false,
        },
    };
    let Some(rest) = rest.strip_prefix("iam::") else { return false };
    let (account, role) = rest.split_once(':').unwrap_or(("x", ""));
    let account_ok = account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    arn.len() <= 2048 && account_ok && role.strip_prefix("role/").is_some_and(|name| !name.is_empty())
}

fn s3_uri_ok(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("s3://") else { return false };
    let bucket = rest.split_once('/').map_or(rest, |(bucket, _)| bucket);
    let bytes = bucket.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    uri.len() <= 1024
        && (3..=63).contains(&bytes.len())
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'.' || *b == b'-')
}

fn token_ok(token: &str) -> bool {
    token.len() <= 256
        && token.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !token.ends_with('-')
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch_models() -> Vec<String> {
        vec!["mistral.mistral-large-2407-v1:0".to_owned()]
    }

    fn valid() -> Value {
        json!({
            "jobName": "batch-1.a",
            "roleArn": "arn:aws:iam::123456789012:role/BedrockBatch",
            "modelId": "mistral.mistral-large-2407-v1:0",
            "inputDataConfig": { "s3InputDataConfig": { "s3Uri": "s3://in-bucket/batch/input.jsonl" } },
            "outputDataConfig": { "s3OutputDataConfig": { "s3Uri": "s3://out-bucket/results/" } },
        })
    }

    fn refused(change: impl FnOnce(&mut Value)) -> String {
        let mut body = valid();
        change(&mut body);
        create(&body, &batch_models()).unwrap_err().message
    }

    #[test]
    fn a_valid_request_passes_with_the_default_timeout() {
        let create = create(&valid(), &batch_models()).unwrap();
        assert_eq!(create.timeout_hours, 168);
        assert_eq!(create.input_uri, "s3://in-bucket/batch/input.jsonl");
        assert_eq!(create.foundation_id, "mistral.mistral-large-2407-v1:0");
    }

    #[test]
    fn each_broken_member_is_named() {
        assert!(refused(|b| b["jobName"] = json!("-starts-with-dash")).contains("'jobName'"));
        assert!(refused(|b| b["jobName"] = json!("has space")).contains("'jobName'"));
        assert!(refused(|b| b["roleArn"] = json!("arn:aws:iam::123:role/x")).contains("'roleArn'"));
        assert!(refused(|b| b["roleArn"] = json!("arn:aws:iam::123456789012:user/x")).contains("'roleArn'"));
        assert!(refused(|b| b["timeoutDurationInHours"] = json!(12)).contains("between 24 and 168"));
        assert!(refused(|b| b["modelInvocationType"] = json!("Chat")).contains("[InvokeModel, Converse]"));
        assert!(
            refused(|b| b["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] = json!("https://x/y")).contains("s3Uri")
        );
        assert!(
            refused(|b| b["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"] = json!("s3://UP/x")).contains("s3Uri")
        );
        let without_output = refused(|b| {
            b.as_object_mut().unwrap().remove("outputDataConfig");
        });
        assert!(without_output.contains("'outputDataConfig'"), "{without_output}");
    }

    #[test]
    fn models_must_be_known_and_take_batch_jobs() {
        assert!(refused(|b| b["modelId"] = json!("anthropic.claude-3")).contains("model identifier is invalid"));
        assert!(refused(|b| b["modelId"] = json!("mistral.magistral-small-2509")).contains("does not support batch"));
        let defaults = crate::emulator::batch::Settings::default().batch_models;
        let mut pixtral = valid();
        pixtral["modelId"] = json!("mistral.pixtral-large-2502-v1:0");
        assert!(create(&pixtral, &defaults).unwrap_err().message.contains("does not support batch"));
        assert!(create(&valid(), &defaults).is_ok());
        let mut profile = valid();
        profile["modelId"] = json!("us.mistral.mistral-large-2407-v1:0");
        assert!(create(&profile, &batch_models()).is_ok());
    }

    #[test]
    fn role_arns_of_other_partitions_pass() {
        assert!(role_arn_ok("arn:aws-us-gov:iam::123456789012:role/service-role/Batch"));
        assert!(!role_arn_ok("arn:aws:iam::123456789012:role/"));
    }
}

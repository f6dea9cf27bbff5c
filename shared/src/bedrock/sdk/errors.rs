//! SDK errors → the API's error: service errors by their Bedrock code, timeouts and
//! connection failures with what the caller can do about them.

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};

use super::SdkBedrock;
use crate::error::ApiError;

impl SdkBedrock {
    pub(super) fn map_error<E, R>(&self, err: SdkError<E, R>, model_id: &str) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                ApiError::from_bedrock(e.code(), e.message(), model_id, self.retry_after_secs)
            }
            SdkError::TimeoutError(_) => self.timeout_error(model_id),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => self.timeout_error(model_id),
            SdkError::DispatchFailure(failure) => ApiError::Unavailable {
                message: format!(
                    "could not reach Bedrock ({}). Check the region, network access from the function, and AWS credentials, then retry.",
                    aws_sdk_bedrockruntime::error::DisplayErrorContext(
                        failure.as_connector_error().map_or(&err as &dyn std::error::Error, |c| c as _)
                    )
                ),
                retry_after: self.retry_after_secs,
            },
            _ => ApiError::Upstream(format!(
                "the Bedrock call failed ({}). Retry the request.",
                aws_sdk_bedrockruntime::error::DisplayErrorContext(&err)
            )),
        }
    }

    /// An error inside a started ConverseStream. Its exception frames carry the type only in the
    /// `:exception-type` header, which the SDK turns into the error variant, not into `code()`.
    /// An error inside a started stream. Its exception frames carry the type only in the
    /// `:exception-type` header, which the SDK turns into the error variant, not into `code()`:
    /// `variant_code` names the variant.
    pub(super) fn map_stream_error<E, R>(
        &self,
        err: SdkError<E, R>,
        model_id: &str,
        variant_code: impl Fn(&E) -> Option<&'static str>,
    ) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        if let SdkError::ServiceError(service) = &err {
            let e = service.err();
            let code = e.code().or_else(|| variant_code(e));
            return ApiError::from_bedrock(code, e.message(), model_id, self.retry_after_secs);
        }
        self.map_error(err, model_id)
    }

    pub(super) fn timeout_error(&self, model_id: &str) -> ApiError {
        ApiError::Timeout(format!(
            "Bedrock did not answer for {model_id} within {} ms. Retry, shorten the prompt or lower max_tokens.",
            self.timeout.as_millis()
        ))
    }
}

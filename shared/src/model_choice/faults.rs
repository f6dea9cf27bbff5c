//! The faults a router may climb past (another model may not meet them), how an attempt's
//! failure reads in the routing report, and how a climb that found no answer ends.

use crate::error::ApiError;

/// How a climb ended without an answer: the last fault, else why the last model was skipped.
#[derive(Default)]
pub(super) struct Misses {
    pub fault: Option<ApiError>,
    pub unfit: Option<ApiError>,
}

impl Misses {
    pub fn into_error(self) -> ApiError {
        self.fault.or(self.unfit).unwrap_or_else(|| ApiError::Internal("no model was asked".into()))
    }
}

/// Faults another model may not meet: throttling and quotas, a model not ready, Bedrock
/// unavailable, a model timeout.
pub(super) fn is_fault(error: &ApiError) -> bool {
    matches!(error, ApiError::Throttled { .. } | ApiError::Unavailable { .. } | ApiError::Timeout(_))
}

pub(super) fn fault_reason(error: &ApiError) -> String {
    format!("{} ({})", error.code(), error.status().as_u16())
}

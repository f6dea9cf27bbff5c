//! A streamed answer that has produced its first event. Waiting for it is what lets an error
//! before it (validation, throttling, access) still be answered with its own HTTP status, and a
//! fault fall back to another model before anything is sent.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use futures_util::StreamExt;

use super::{Bedrock, EventStream, ModelRequest, output_tool, replay};
use crate::error::ApiError;

/// A ConverseStream that has produced its first event.
pub struct Started {
    pub first: ConverseStreamOutput,
    pub events: EventStream,
}

/// Starts ConverseStream and waits for its first event: an error before it is returned here,
/// to be answered with its own HTTP status.
pub async fn open(bedrock: &dyn Bedrock, request: ModelRequest) -> Result<Started, ApiError> {
    let model = request.model_id.clone();
    let mut events = bedrock.stream(request).await?;
    match events.next().await {
        Some(Ok(first)) => Ok(Started { first, events }),
        Some(Err(error)) => Err(error),
        None => Err(ApiError::Upstream(format!(
            "Bedrock closed the stream of {model} before its first event. Retry the request."
        ))),
    }
}

/// For models that cannot use tools inside ConverseStream (catalog flag `streaming_tools`), and
/// answers asked for through the output tool (whose call must become text whole): one Converse
/// call, its answer replayed as a started stream.
pub async fn open_as_one_answer(bedrock: &dyn Bedrock, request: ModelRequest) -> Result<Started, ApiError> {
    replayed(&output_tool::answer(bedrock, request).await?)
}

/// A whole answer as a started event stream.
pub fn replayed(output: &ConverseOutput) -> Result<Started, ApiError> {
    let mut events = replay::events(output)?.into_iter();
    let first = events.next().ok_or_else(|| ApiError::Internal("a replayed answer has no events".into()))?;
    Ok(Started { first, events: Box::pin(futures_util::stream::iter(events.map(Ok))) })
}

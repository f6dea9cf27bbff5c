//! InvokeModelWithResponseStream chunks (native JSON, a partial `message` or `outputs` each) as
//! the ConverseStream events the stream relay maps: `messageStart`, text deltas on block 0, each
//! tool call as its own block (start, its arguments in one delta, stop), `messageStop` when a
//! chunk carries a `stop_reason`, and `metadata` from the invocation metrics.

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent, ContentBlockStopEvent,
    ConversationRole, ConverseStreamMetadataEvent, ConverseStreamOutput, MessageStartEvent, MessageStopEvent,
    StopReason, TokenUsage, ToolUseBlockDelta, ToolUseBlockStart,
};
use aws_smithy_types::error::operation::BuildError;
use serde_json::Value;

use super::{metrics, stop_reason};
use crate::catalog::NativeBody;
use crate::error::ApiError;

/// The state of one native stream: which events have been produced so far.
#[derive(Debug)]
pub struct ChunkTranslator {
    kind: NativeBody,
    started: bool,
    /// The next content-block index for a tool call (block 0 is the text).
    next_block: i32,
    stopped: Option<StopReason>,
}

impl ChunkTranslator {
    pub fn new(kind: NativeBody) -> Self {
        ChunkTranslator { kind, started: false, next_block: 1, stopped: None }
    }

    /// The events one chunk (its JSON bytes) stands for.
    pub fn translate(&mut self, bytes: &[u8]) -> Result<Vec<ConverseStreamOutput>, ApiError> {
        let chunk: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::Upstream(format!("a native stream chunk is not JSON ({e}). Retry the request.")))?;
        self.events(&chunk).map_err(|e| ApiError::Internal(format!("cannot map a native stream chunk ({e})")))
    }

    fn events(&mut self, chunk: &Value) -> Result<Vec<ConverseStreamOutput>, BuildError> {
        let mut events = Vec::new();
        if !self.started {
            self.started = true;
            events.push(ConverseStreamOutput::MessageStart(
                MessageStartEvent::builder().role(ConversationRole::Assistant).build()?,
            ));
        }
        let (piece, calls, reason) = match self.kind {
            NativeBody::Chat => {
                let choice = &chunk["choices"][0];
                let message = &choice["message"];
                let piece = message["content"].as_str().or_else(|| choice["delta"]["content"].as_str());
                let reason = choice["stop_reason"].as_str().or_else(|| choice["finish_reason"].as_str());
                (piece, message["tool_calls"].as_array().cloned().unwrap_or_default(), reason)
            }
            NativeBody::Text => {
                let output = &chunk["outputs"][0];
                (output["text"].as_str(), Vec::new(), output["stop_reason"].as_str())
            }
        };
        if let Some(piece) = piece.filter(|p| !p.is_empty()) {
            events.push(ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(0)
                    .delta(ContentBlockDelta::Text(piece.to_owned()))
                    .build()?,
            ));
        }
        for call in &calls {
            let index = self.next_block;
            self.next_block += 1;
            let start = ToolUseBlockStart::builder()
                .tool_use_id(call["id"].as_str().unwrap_or_default())
                .name(call["function"]["name"].as_str().unwrap_or_default())
                .build()?;
            events.push(ConverseStreamOutput::ContentBlockStart(
                ContentBlockStartEvent::builder()
                    .content_block_index(index)
                    .start(ContentBlockStart::ToolUse(start))
                    .build()?,
            ));
            let arguments = match &call["function"]["arguments"] {
                Value::String(text) => text.clone(),
                Value::Null => "{}".to_owned(),
                other => other.to_string(),
            };
            events.push(ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(index)
                    .delta(ContentBlockDelta::ToolUse(ToolUseBlockDelta::builder().input(arguments).build()?))
                    .build()?,
            ));
            events.push(ConverseStreamOutput::ContentBlockStop(
                ContentBlockStopEvent::builder().content_block_index(index).build()?,
            ));
        }
        if self.stopped.is_none() && (reason.is_some() || chunk.get("amazon-bedrock-guardrailAction").is_some()) {
            let stop = stop_reason(reason, chunk);
            self.stopped = Some(stop.clone());
            events.push(ConverseStreamOutput::MessageStop(MessageStopEvent::builder().stop_reason(stop).build()?));
        }
        if let Some(tokens) = metrics(chunk) {
            let usage = TokenUsage::builder()
                .input_tokens(tokens.input)
                .output_tokens(tokens.output)
                .total_tokens(tokens.input + tokens.output)
                .build()?;
            events.push(ConverseStreamOutput::Metadata(ConverseStreamMetadataEvent::builder().usage(usage).build()));
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kinds(events: &[ConverseStreamOutput]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| match e {
                ConverseStreamOutput::MessageStart(_) => "start",
                ConverseStreamOutput::ContentBlockStart(_) => "block-start",
                ConverseStreamOutput::ContentBlockDelta(_) => "delta",
                ConverseStreamOutput::ContentBlockStop(_) => "block-stop",
                ConverseStreamOutput::MessageStop(_) => "stop",
                ConverseStreamOutput::Metadata(_) => "metadata",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn chat_chunks_become_converse_stream_events() {
        let mut t = ChunkTranslator::new(NativeBody::Chat);
        let first =
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": null}]});
        assert_eq!(kinds(&t.translate(first.to_string().as_bytes()).unwrap()), ["start", "delta"]);
        let call = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "",
            "tool_calls": [{"id": "abc123XYZ", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}, "stop_reason": null}]});
        assert_eq!(kinds(&t.translate(call.to_string().as_bytes()).unwrap()), ["block-start", "delta", "block-stop"]);
        let last = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "stop_reason": "tool_calls"}],
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 7, "outputTokenCount": 3, "invocationLatency": 5, "firstByteLatency": 1}});
        let events = t.translate(last.to_string().as_bytes()).unwrap();
        assert_eq!(kinds(&events), ["stop", "metadata"]);
        let ConverseStreamOutput::MessageStop(stop) = &events[0] else { unreachable!() };
        assert_eq!(*stop.stop_reason(), StopReason::ToolUse);
    }

    #[test]
    fn a_guardrail_intervention_stops_the_stream_as_such() {
        let mut t = ChunkTranslator::new(NativeBody::Text);
        let last = json!({"outputs": [{"text": "Sorry.", "stop_reason": "stop"}], "amazon-bedrock-guardrailAction": "INTERVENED"});
        let events = t.translate(last.to_string().as_bytes()).unwrap();
        let ConverseStreamOutput::MessageStop(stop) = &events[2] else { panic!("{events:?}") };
        assert_eq!(*stop.stop_reason(), StopReason::GuardrailIntervened);
    }
}

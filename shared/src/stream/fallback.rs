//! Streaming for models that cannot use tools inside ConverseStream (catalog flag
//! `streaming_tools`): one Converse call, its answer replayed as the ConverseStream events it
//! would have been, so the same chunk mapping produces a well-formed SSE sequence (role,
//! content and/or tool calls, finish reason with usage, `[DONE]`).

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStopEvent, ConversationRole, ConverseOutput as Output, ConverseStreamMetadataEvent,
    ConverseStreamOutput, MessageStartEvent, MessageStopEvent, ReasoningContentBlock, ReasoningContentBlockDelta,
    ToolUseBlockDelta, ToolUseBlockStart,
};
use aws_smithy_types::error::operation::BuildError;

use super::Started;
use crate::bedrock::{Bedrock, ModelRequest};
use crate::convert::document;
use crate::error::ApiError;
use crate::model_choice::protocol;

/// Calls Converse and returns its answer as a started event stream.
pub async fn start(bedrock: &dyn Bedrock, request: ModelRequest) -> Result<Started, ApiError> {
    replay(&bedrock.complete(request).await?)
}

/// A whole answer as a started event stream.
pub fn replay(output: &ConverseOutput) -> Result<Started, ApiError> {
    let mut events = events(output)?.into_iter();
    let first = events.next().ok_or_else(|| ApiError::Internal("a replayed answer has no events".into()))?;
    Ok(Started { first, events: Box::pin(futures_util::stream::iter(events.map(Ok))) })
}

/// The ConverseStream events equivalent to a Converse answer: `messageStart`; per text or
/// reasoning block one delta; per tool call its start, its whole input as one fragment;
/// `messageStop`; `metadata`. Blocks without a chat-completions equivalent are left out.
pub fn events(output: &ConverseOutput) -> Result<Vec<ConverseStreamOutput>, ApiError> {
    build(output).map_err(|e| ApiError::Internal(format!("could not replay the Converse answer as a stream: {e}")))
}

fn build(output: &ConverseOutput) -> Result<Vec<ConverseStreamOutput>, BuildError> {
    let mut events = vec![ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder().role(ConversationRole::Assistant).build()?,
    )];
    let blocks = match output.output() {
        Some(Output::Message(message)) => message.content(),
        _ => &[],
    };
    for (index, block) in (0..).zip(blocks) {
        let delta = match block {
            ContentBlock::Text(text) if text.contains(protocol::ESCALATION_MARKER) => {
                ContentBlockDelta::Text(protocol::strip_marker(text))
            }
            ContentBlock::Text(text) => ContentBlockDelta::Text(text.clone()),
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(thought)) => {
                ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(thought.text().to_owned()))
            }
            ContentBlock::ToolUse(call) => {
                let start = ToolUseBlockStart::builder().tool_use_id(call.tool_use_id()).name(call.name()).build()?;
                events.push(ConverseStreamOutput::ContentBlockStart(
                    ContentBlockStartEvent::builder()
                        .content_block_index(index)
                        .start(ContentBlockStart::ToolUse(start))
                        .build()?,
                ));
                let input = document::to_json(call.input()).to_string();
                ContentBlockDelta::ToolUse(ToolUseBlockDelta::builder().input(input).build()?)
            }
            _ => continue,
        };
        events.push(ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder().content_block_index(index).delta(delta).build()?,
        ));
        events.push(ConverseStreamOutput::ContentBlockStop(
            ContentBlockStopEvent::builder().content_block_index(index).build()?,
        ));
    }
    events.push(ConverseStreamOutput::MessageStop(
        MessageStopEvent::builder().stop_reason(output.stop_reason().clone()).build()?,
    ));
    events.push(ConverseStreamOutput::Metadata(
        ConverseStreamMetadataEvent::builder().set_usage(output.usage().cloned()).build(),
    ));
    Ok(events)
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::types::{ConverseMetrics, Message, StopReason, TokenUsage, ToolUseBlock};
    use serde_json::json;

    use super::*;
    use crate::convert::document::to_document;
    use crate::convert::response::Envelope;
    use crate::stream::ChunkMapper;

    #[test]
    fn a_converse_answer_replays_as_role_content_tool_calls_finish_and_usage() {
        let call = ToolUseBlock::builder()
            .tool_use_id("tooluse_1")
            .name("get_weather")
            .input(to_document(&json!({"city": "Paris"})))
            .build()
            .unwrap();
        let message = Message::builder()
            .role(ConversationRole::Assistant)
            .content(ContentBlock::Text("Checking.".into()))
            .content(ContentBlock::ToolUse(call))
            .build()
            .unwrap();
        let output = ConverseOutput::builder()
            .output(Output::Message(message))
            .stop_reason(StopReason::ToolUse)
            .usage(TokenUsage::builder().input_tokens(7).output_tokens(5).total_tokens(12).build().unwrap())
            .metrics(ConverseMetrics::builder().latency_ms(3).build().unwrap())
            .build()
            .unwrap();

        let mut mapper = ChunkMapper::new(Envelope::new("mistral.test"), None);
        let chunks: Vec<serde_json::Value> = events(&output)
            .unwrap()
            .iter()
            .filter_map(|e| mapper.map(e))
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        let deltas: Vec<&serde_json::Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(
            deltas,
            [
                &json!({"role": "assistant", "content": ""}),
                &json!({"content": "Checking."}),
                &json!({"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                &json!({"tool_calls": [{"index": 0, "function": {"name": "", "arguments": "{\"city\":\"Paris\"}"}}]}),
                &json!({}),
            ]
        );
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(last["usage"]["total_tokens"], 12);
        assert!(mapper.is_finished());
    }
}

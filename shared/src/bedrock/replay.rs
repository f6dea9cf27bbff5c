//! A Converse answer as the ConverseStream events it would have been: how the fake streams,
//! and how a whole answer (a model that cannot stream tool use, a checked cascade answer) is
//! sent through the same chunk mapping as a live stream.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStopEvent, ConversationRole, ConverseOutput as Output, ConverseStreamMetadataEvent,
    ConverseStreamOutput, MessageStartEvent, MessageStopEvent, ReasoningContentBlock, ReasoningContentBlockDelta,
    ToolUseBlockDelta, ToolUseBlockStart,
};
use aws_smithy_types::error::operation::BuildError;

use crate::bedrock::document;
use crate::error::ApiError;

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

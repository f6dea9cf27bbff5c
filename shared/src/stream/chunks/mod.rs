//! ConverseStream events → `chat.completion.chunk`s: the state machine of one streamed answer.
//!
//! Each Bedrock event yields at most one chunk, so a chunk goes out as soon as its event is in:
//! `messageStart` → the role chunk; a text delta → `delta.content`; a reasoning delta →
//! `delta.reasoning_content` (never mixed into the content); a `toolUse` block start →
//! a `delta.tool_calls` entry with id and name; each `toolUse` input fragment → an `arguments`
//! fragment on the same tool index; `messageStop` is held until `metadata`, so the last chunk
//! carries both `finish_reason` and `usage`, as Mistral's API does (and no chunk with empty
//! `choices`, which naive OpenAI clients index into).

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConverseStreamOutput, ReasoningContentBlockDelta,
};

use crate::api::chunk::{ChatChunk, ChunkChoice, Delta, FunctionDelta, ToolCallDelta};
use crate::api::response::FinishReason;
use crate::api::usage::Usage;
use crate::catalog::Price;
use crate::convert::response::{Envelope, finish_reason, usage_from_tokens};
use crate::error::ApiError;

/// Maps the events of one ConverseStream answer to chunks sharing one `id`, `created`, `model`.
#[derive(Debug)]
pub struct ChunkMapper {
    envelope: Envelope,
    price: Option<Price>,
    role_sent: bool,
    /// Content-block index of each tool call; a call's position is its `tool_calls` index.
    tool_blocks: Vec<i32>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    finished: bool,
}

impl ChunkMapper {
    pub fn new(envelope: Envelope, price: Option<Price>) -> Self {
        ChunkMapper {
            envelope,
            price,
            role_sent: false,
            tool_blocks: Vec::new(),
            finish: None,
            usage: None,
            finished: false,
        }
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// True once the final chunk (finish reason and usage) has been produced.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Tool calls seen so far.
    pub fn tool_calls(&self) -> usize {
        self.tool_blocks.len()
    }

    /// The finish reason, once `messageStop` has arrived.
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.finish
    }

    /// Usage of the streamed answer alone, once `metadata` has arrived.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The chunk for one event, if the event means anything to a chat-completions client.
    pub fn map(&mut self, event: &ConverseStreamOutput) -> Option<ChatChunk> {
        if self.finished {
            return None;
        }
        match event {
            ConverseStreamOutput::MessageStart(_) => self.role_chunk(),
            ConverseStreamOutput::ContentBlockStart(start) => match start.start() {
                Some(ContentBlockStart::ToolUse(tool)) => {
                    let index = self.tool_blocks.len() as u32;
                    self.tool_blocks.push(start.content_block_index());
                    let call = ToolCallDelta {
                        index,
                        id: Some(tool.tool_use_id().to_owned()),
                        kind: Some("function"),
                        function: FunctionDelta { name: Some(tool.name().to_owned()), arguments: String::new() },
                    };
                    Some(self.delta_chunk(Delta { tool_calls: Some(vec![call]), ..Delta::default() }))
                }
                _ => None,
            },
            ConverseStreamOutput::ContentBlockDelta(delta) => match delta.delta() {
                Some(ContentBlockDelta::Text(text)) if !text.is_empty() => {
                    Some(self.delta_chunk(Delta { content: Some(text.clone()), ..Delta::default() }))
                }
                Some(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(thought)))
                    if !thought.is_empty() =>
                {
                    Some(self.delta_chunk(Delta { reasoning_content: Some(thought.clone()), ..Delta::default() }))
                }
                Some(ContentBlockDelta::ToolUse(tool)) if !tool.input().is_empty() => {
                    let block = delta.content_block_index();
                    let Some(index) = self.tool_blocks.iter().rposition(|b| *b == block) else {
                        tracing::warn!(block, "bedrock sent tool input for a block that never started; dropped");
                        return None;
                    };
                    let call = ToolCallDelta {
                        index: index as u32,
                        id: None,
                        kind: None,
                        // OpenAI sends the name only once; Mistral's SDK requires the field on
                        // every tool call. An empty name satisfies both: clients that append
                        // fragments (OpenAI's helpers) keep the name intact.
                        function: FunctionDelta { name: Some(String::new()), arguments: tool.input().to_owned() },
                    };
                    Some(self.delta_chunk(Delta { tool_calls: Some(vec![call]), ..Delta::default() }))
                }
                // Reasoning signatures, citations and empty deltas have nothing to show; the
                // first event still announces the role.
                _ => self.role_chunk(),
            },
            ConverseStreamOutput::MessageStop(stop) => {
                self.finish = Some(finish_reason(stop.stop_reason()));
                None
            }
            ConverseStreamOutput::Metadata(metadata) => {
                let usage = usage_from_tokens(metadata.usage(), self.price.as_ref());
                Some(self.final_chunk(usage))
            }
            _ => self.role_chunk(),
        }
    }

    /// Called when Bedrock's stream has ended: the final chunk if `metadata` never came but the
    /// answer was complete (`messageStop`), or an error if the answer was cut short.
    pub fn end(&mut self) -> Result<Option<ChatChunk>, ApiError> {
        if self.finished {
            return Ok(None);
        }
        if self.finish.is_some() {
            tracing::warn!("bedrock stream ended without its metadata event; usage reported as zero");
            let usage = Usage { cost_usd: self.price.map(|_| 0.0), ..Usage::default() };
            return Ok(Some(self.final_chunk(usage)));
        }
        Err(ApiError::Upstream(format!(
            "Bedrock ended the stream of {} before the answer was complete. Retry the request.",
            self.envelope.model
        )))
    }

    fn role_chunk(&mut self) -> Option<ChatChunk> {
        (!self.role_sent).then(|| self.delta_chunk(Delta { content: Some(String::new()), ..Delta::default() }))
    }

    /// A chunk holding `delta`; the first chunk of the answer also carries the role.
    fn delta_chunk(&mut self, mut delta: Delta) -> ChatChunk {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some("assistant");
        }
        self.chunk(delta, None, None)
    }

    fn final_chunk(&mut self, usage: Usage) -> ChatChunk {
        self.finished = true;
        self.usage = Some(usage);
        let mut delta = Delta::default();
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some("assistant");
            delta.content = Some(String::new());
        }
        if self.finish.is_none() {
            tracing::warn!("bedrock sent metadata before messageStop; finish_reason defaults to stop");
        }
        self.chunk(delta, Some(self.finish.unwrap_or(FinishReason::Stop)), Some(usage))
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>, usage: Option<Usage>) -> ChatChunk {
        ChatChunk {
            id: self.envelope.id.clone(),
            object: "chat.completion.chunk",
            created: self.envelope.created,
            model: self.envelope.model.clone(),
            choices: vec![ChunkChoice { index: 0, delta, finish_reason }],
            usage,
            routing: None,
        }
    }
}

#[cfg(test)]
mod replayed;
#[cfg(test)]
mod tests;

//! ConverseStream events → `chat.completion.chunk`s: the state machine of one streamed answer.
//!
//! Each Bedrock event yields at most one chunk, so a chunk goes out as soon as its event is in:
//! `messageStart` → the role chunk; a text delta → `delta.content`; a reasoning delta →
//! `delta.reasoning_content` (never mixed into the content); `messageStop` is held until
//! `metadata`, so the last chunk carries both `finish_reason` and `usage`, as Mistral's API does
//! (and no chunk with empty `choices`, which naive OpenAI clients index into).
//!
//! A tool call is sent whole, as Mistral's API sends it: its `toolUse` input fragments are
//! buffered until the block ends, and then one `delta.tool_calls` entry carries the index, id,
//! type, name and the complete arguments. OpenAI-style clients accumulate it like any first
//! fragment; Mistral-style clients, which merge by id and require the name on every call
//! (langchain-mistralai, the mistralai SDK), get one intact call instead of fragments with an
//! empty name. The price is that a call's arguments arrive when the call is complete, not
//! token by token; text and reasoning still stream as they come. With
//! [`ToolCalls::One`] (`parallel_tool_calls: false`) only the turn's first call is sent.

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConverseStreamOutput, ReasoningContentBlockDelta,
};

use crate::api::chunk::{ChatChunk, ChunkChoice, Delta, FunctionDelta, ToolCallDelta};
use crate::api::reasoning::ReasoningFormat;
use crate::api::response::FinishReason;
use crate::api::usage::Usage;
use crate::catalog::Price;
use crate::convert::response::{Envelope, ToolCalls, finish_reason, usage_from_tokens};
use crate::error::ApiError;

/// Maps the events of one ConverseStream answer to chunks sharing one `id`, `created`, `model`.
#[derive(Debug)]
pub struct ChunkMapper {
    envelope: Envelope,
    price: Option<Price>,
    role_sent: bool,
    limit: ToolCalls,
    /// Tool calls started so far (sent, or still being buffered); the next call's index.
    calls: usize,
    /// Calls whose block has not ended yet, arguments buffered.
    open: Vec<OpenCall>,
    /// Content blocks of calls left out under [`ToolCalls::One`].
    dropped: Vec<i32>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    finished: bool,
    /// How reasoning deltas are sent.
    reasoning: ReasoningFormat,
}

impl ChunkMapper {
    pub fn new(envelope: Envelope, price: Option<Price>) -> Self {
        ChunkMapper {
            envelope,
            price,
            role_sent: false,
            limit: ToolCalls::Parallel,
            calls: 0,
            open: Vec::new(),
            dropped: Vec::new(),
            finish: None,
            usage: None,
            finished: false,
            reasoning: ReasoningFormat::Field,
        }
    }

    /// Sends at most one tool call per answer with [`ToolCalls::One`].
    pub fn with_tool_calls(mut self, limit: ToolCalls) -> Self {
        self.limit = limit;
        self
    }

    /// Reasoning deltas as `reasoning_content` or as Mistral's `thinking` chunks.
    pub fn with_reasoning_format(mut self, format: ReasoningFormat) -> Self {
        self.reasoning = format;
        self
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// True once the final chunk (finish reason and usage) has been produced.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Tool calls of the answer so far (those left out by the limit not counted).
    pub fn tool_calls(&self) -> usize {
        self.calls
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
                    let block = start.content_block_index();
                    if self.limit == ToolCalls::One && self.calls >= 1 {
                        tracing::info!(
                            block,
                            "parallel_tool_calls is false: a further tool call of the turn is left out"
                        );
                        self.dropped.push(block);
                    } else {
                        self.open.push(OpenCall {
                            block,
                            index: self.calls as u32,
                            id: tool.tool_use_id().to_owned(),
                            name: tool.name().to_owned(),
                            arguments: String::new(),
                        });
                        self.calls += 1;
                    }
                    self.role_chunk()
                }
                _ => self.role_chunk(),
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
                    if let Some(call) = self.open.iter_mut().rfind(|c| c.block == block) {
                        call.arguments.push_str(tool.input());
                    } else if !self.dropped.contains(&block) {
                        tracing::warn!(block, "bedrock sent tool input for a block that never started; dropped");
                    }
                    self.role_chunk()
                }
                // Reasoning signatures, citations and empty deltas have nothing to show; the
                // first event still announces the role.
                _ => self.role_chunk(),
            },
            ConverseStreamOutput::ContentBlockStop(stop) => {
                let block = stop.content_block_index();
                match self.open.iter().rposition(|c| c.block == block) {
                    Some(at) => {
                        let call = self.open.remove(at);
                        Some(self.delta_chunk(Delta { tool_calls: Some(vec![call.whole()]), ..Delta::default() }))
                    }
                    None => self.role_chunk(),
                }
            }
            ConverseStreamOutput::MessageStop(stop) => {
                self.finish = Some(finish_reason(stop.stop_reason()));
                // Calls whose block never ended go out whole before the last chunk.
                self.open_calls().map(|calls| self.delta_chunk(Delta { tool_calls: Some(calls), ..Delta::default() }))
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

    /// Every call still buffered, whole, in index order; `None` when there is none.
    fn open_calls(&mut self) -> Option<Vec<ToolCallDelta>> {
        (!self.open.is_empty()).then(|| self.open.drain(..).map(OpenCall::whole).collect())
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
        let mut delta = Delta { tool_calls: self.open_calls(), ..Delta::default() };
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

    fn chunk(&self, mut delta: Delta, finish_reason: Option<FinishReason>, usage: Option<Usage>) -> ChatChunk {
        delta.reasoning_format = self.reasoning;
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

/// A tool call whose arguments are still arriving.
#[derive(Debug)]
struct OpenCall {
    /// Its Bedrock content-block index.
    block: i32,
    /// Its `tool_calls` index: the order in which calls started.
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

impl OpenCall {
    /// The call as one `tool_calls` entry: id, type, name and the complete arguments (`{}` when
    /// the model sent none, as a whole answer has them).
    fn whole(self) -> ToolCallDelta {
        let arguments = if self.arguments.is_empty() { "{}".to_owned() } else { self.arguments };
        ToolCallDelta {
            index: self.index,
            id: Some(self.id),
            kind: Some("function"),
            function: FunctionDelta { name: Some(self.name), arguments },
        }
    }
}

#[cfg(test)]
mod replayed;
#[cfg(test)]
mod tests;

//! `chat.completion.chunk`: one server-sent event of a streamed answer.

use serde::Serialize;
use serde::ser::Serializer;

use super::reasoning::{self, ReasoningFormat};
use super::response::FinishReason;
use super::routing::RoutingReport;
use super::usage::Usage;

#[derive(Debug, Clone, Serialize)]
pub struct ChatChunk {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// On the last chunk: how the model was chosen and what each attempt cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<FinishReason>,
}

#[derive(Debug, Clone, Default)]
pub struct Delta {
    pub role: Option<&'static str>,
    pub content: Option<String>,
    /// Reasoning, streamed before the content it leads to; as `reasoning_content` or as a
    /// `thinking` chunk, per `reasoning_format`.
    pub reasoning_content: Option<String>,
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    pub reasoning_format: ReasoningFormat,
}

impl Serialize for Delta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        reasoning::map(serializer, |map| {
            reasoning::entry(map, "role", self.role.as_ref())?;
            let (content, thought) = (self.content.as_ref(), self.reasoning_content.as_ref());
            reasoning::serialize_content(map, self.reasoning_format, content, thought, false)?;
            reasoning::entry(map, "tool_calls", self.tool_calls.as_ref())
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub function: FunctionDelta,
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub arguments: String,
}

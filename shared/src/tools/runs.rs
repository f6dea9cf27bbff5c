//! What the tool loop answers: the chat completion with its own finish reasons and the trace of
//! every tool call it ran.

use serde::Serialize;
use serde_json::Value;

use crate::api::response::{ChatCompletion, FinishReason};

/// A `chat.completion` with the trace of the tools the loop ran.
pub type ToolsCompletion = ChatCompletion<LoopFinish, ToolsExtras>;

/// What the tool loop adds to a `chat.completion`.
#[derive(Debug, Clone, Serialize)]
pub struct ToolsExtras {
    /// Every tool call, in the order the model made them.
    pub tool_runs: Vec<ToolRun>,
    /// Model calls made.
    pub steps: u32,
    /// Why the loop stopped before the model finished, when a bound stopped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_detail: Option<String>,
}

/// The model's own finish reason, or the bound that ended the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LoopFinish {
    Model(FinishReason),
    Bound(Bound),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `TOOLS_MAX_STEPS` model calls were made and the last one still asked for tools.
    MaxSteps,
    /// `TOOLS_DEADLINE_MS` ran out.
    Deadline,
}

/// Whether a tool call produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    Ok,
    Error,
}

/// One tool call: what the model asked, what came back, how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct ToolRun {
    /// Bedrock's `toolUseId`.
    pub id: String,
    pub name: String,
    pub arguments: Value,
    pub status: ToolStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// The model call (1-based) that asked for this tool call.
    pub step: u32,
    /// When the call started, in milliseconds since the request started (microsecond precision).
    pub started_ms: f64,
    pub duration_ms: f64,
}

impl ToolRun {
    pub fn is_ok(&self) -> bool {
        self.status == ToolStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_and_statuses_serialize_as_the_api_spells_them() {
        let json = |v: serde_json::Result<String>| v.unwrap();
        assert_eq!(json(serde_json::to_string(&LoopFinish::Model(FinishReason::ToolCalls))), "\"tool_calls\"");
        assert_eq!(json(serde_json::to_string(&LoopFinish::Bound(Bound::MaxSteps))), "\"max_steps\"");
        assert_eq!(json(serde_json::to_string(&ToolStatus::Error)), "\"error\"");
    }
}

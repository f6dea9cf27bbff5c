//! The public HTTP wire types: the chat-completions API as Mistral and OpenAI define it, so their
//! SDKs work unmodified against this service.

pub mod chunk;
pub mod key;
pub mod models;
pub mod reasoning;
pub mod request;
pub mod response;
pub mod responses;
pub mod routing;
pub mod usage;

pub use chunk::{ChatChunk, ChunkChoice, Delta, ToolCallDelta};
pub use request::{
    ChatMessage, ChatRequest, Content, ContentPart, ResponseFormat, ToolCall, ToolChoice, ToolDef, ToolSpec,
};
pub use response::{ChatCompletion, Choice, FinishReason, NoExtras, ResponseMessage};
pub use routing::{AttemptReport, Outcome, RoutingReport, TriageReport};
pub use usage::Usage;

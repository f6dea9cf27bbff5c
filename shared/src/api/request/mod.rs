//! `POST .../chat/completions` request body.
//!
//! Parsing is lenient where the SDKs differ (unknown fields are ignored, `seed` and
//! `random_seed`, `max_tokens` and `max_completion_tokens`, `developer` and `system`) and strict
//! where a wrong value would change the answer: every field Bedrock cannot honour is kept so
//! `convert` can refuse it by name instead of dropping it silently.
//!
//! A malformed body is the API's 400, never the parser's: it names the field by its path
//! (`messages[2].content[0].type`) and the shapes the field takes, in words. So no untagged or
//! internally tagged serde enum is used (the first hides the reason, the second the path):
//! fields that take several shapes have visitors that say which, and messages and content parts
//! are read through plain structs.

mod chat_request;
mod content;
mod message;
mod response_format;
mod tools;
mod wording;

pub use chat_request::{ChatRequest, RoutingOptions, Stop};
pub use content::{Content, ContentPart, ImageUrl};
pub use message::ChatMessage;
pub use response_format::{JsonSchemaFormat, ResponseFormat};
pub use tools::{FunctionCall, FunctionDef, NamedFunction, ToolCall, ToolChoice, ToolDef, ToolSpec};

#[cfg(test)]
mod tests;

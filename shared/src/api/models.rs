//! `GET /v1/models`: the models this deployment allows, in OpenAI's list shape.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelCard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub owned_by: &'static str,
    /// Mistral's SDK tells base models from fine-tunes by this field.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Short names that select this model.
    pub aliases: Vec<String>,
    pub capabilities: Capabilities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub completion_chat: bool,
    pub function_calling: bool,
    pub vision: bool,
    pub system_prompt: bool,
    pub streaming_tool_calls: bool,
    pub json_schema: bool,
    /// Answers carry `reasoning_content` (Magistral).
    pub reasoning: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pricing {
    pub input_usd_per_million_tokens: f64,
    pub output_usd_per_million_tokens: f64,
}

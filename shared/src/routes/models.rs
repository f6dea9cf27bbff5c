//! `GET /v1/models`: the models this deployment allows.

use axum::Json;
use axum::extract::State;

use crate::api::models::{Capabilities, ModelCard, ModelList, Pricing};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>) -> Json<ModelList> {
    let config = &state.config;
    let data = config
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| ModelCard {
            id: m.id.clone(),
            object: "model",
            created: 0,
            owned_by: "mistralai",
            kind: "base",
            aliases: config
                .aliases
                .iter()
                .filter(|(_, target)| **target == i)
                .map(|(alias, _)| alias.clone())
                .collect(),
            capabilities: Capabilities {
                completion_chat: true,
                function_calling: m.capabilities.tools,
                vision: m.capabilities.images,
                system_prompt: m.capabilities.system_prompt,
                streaming_tool_calls: m.capabilities.streaming_tools,
                json_schema: m.capabilities.json_schema,
                reasoning: m.capabilities.reasoning,
            },
            pricing: m.price.map(|p| Pricing {
                input_usd_per_million_tokens: p.input_per_million,
                output_usd_per_million_tokens: p.output_per_million,
            }),
        })
        .collect();
    Json(ModelList { object: "list", data })
}

//! Model choice: which allowed model serves a request (an id, an alias, or `auto`), and the
//! protocols the gateway speaks with models to route between them ([`protocol`]).
//!
//! Anything else is refused before Bedrock is called, with the names the caller may use.

pub mod protocol;

use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart, ResponseFormat};
use crate::catalog::Tier;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

/// The model name that asks for tiered routing.
pub const AUTO: &str = "auto";

pub fn resolve<'c>(config: &'c Config, request: &ChatRequest) -> Result<&'c AllowedModel, ApiError> {
    let Some(name) = request.model.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(config.default_model());
    };
    if name == AUTO {
        return auto(config, request);
    }
    if let Some(model) = config.models.iter().find(|m| m.id == name) {
        return Ok(model);
    }
    if let Some(&index) = config.aliases.get(name) {
        return Ok(&config.models[index]);
    }
    let allowed: Vec<&str> =
        config.models.iter().map(|m| m.id.as_str()).chain(config.aliases.keys().map(String::as_str)).collect();
    let shown: String = name.chars().take(100).collect();
    Err(ApiError::ModelNotFound(format!(
        "model `{shown}` is not available here; use `auto`, one of the aliases or ids this deployment allows ({}), or GET /v1/models",
        allowed.join(", ")
    )))
}

/// `auto`: the smallest allowed model that can do what the request needs, or the largest one
/// for long prompts and tool use, where a small model's savings cost too much quality.
fn auto<'c>(config: &'c Config, request: &ChatRequest) -> Result<&'c AllowedModel, ApiError> {
    let needs_tools = request.tools.as_ref().is_some_and(|t| !t.is_empty());
    let needs_schema = matches!(request.response_format, Some(ResponseFormat::JsonSchema { .. }));
    let mut needs_system = false;
    let mut needs_images = false;
    let mut chars = 0usize;
    for message in &request.messages {
        let content = match message {
            ChatMessage::System { content } => {
                needs_system = true;
                Some(content)
            }
            ChatMessage::User { content } | ChatMessage::Tool { content, .. } => Some(content),
            ChatMessage::Assistant { content, .. } => content.as_ref(),
        };
        match content {
            Some(Content::Text(text)) => chars += text.len(),
            Some(Content::Parts(parts)) => {
                for part in parts {
                    match part {
                        ContentPart::Text { text } => chars += text.len(),
                        ContentPart::ImageUrl { .. } => needs_images = true,
                    }
                }
            }
            None => {}
        }
    }
    let fits = |m: &&AllowedModel| {
        let c = m.capabilities;
        (!needs_tools || c.tools)
            && (!needs_schema || c.json_schema)
            && (!needs_system || c.system_prompt)
            && (!needs_images || c.images)
    };
    let tier = |m: &AllowedModel| m.catalog.map_or(Tier::Medium, |c| c.tier);
    // Ties go to the model listed first (`max_by_key` keeps the last maximum, hence `rev`).
    let candidates = config.models.iter().filter(fits);
    let chosen = if needs_tools || chars >= config.auto_large_from_chars {
        candidates.rev().max_by_key(|m| tier(m))
    } else {
        candidates.min_by_key(|m| tier(m))
    };
    chosen.ok_or_else(|| {
        ApiError::unsupported("model", "`auto` found no allowed model that supports everything this request uses (tools, images, system prompt, JSON schema)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::load(&crate::config::Env::from_pairs([(
            "BEDROCK_MODEL_IDS",
            "mistral.mistral-7b-instruct-v0:2,mistral.mistral-small-2402-v1:0,mistral.mistral-large-2407-v1:0",
        )]))
        .unwrap()
    }

    fn request(json: serde_json::Value) -> ChatRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn ids_aliases_and_default_resolve() {
        let c = config();
        let pick = |model: &str| {
            resolve(&c, &request(serde_json::json!({"model": model, "messages": []}))).map(|m| m.id.clone())
        };
        assert_eq!(pick("mistral-large").unwrap(), "mistral.mistral-large-2407-v1:0");
        assert_eq!(pick("mistral-small-latest").unwrap(), "mistral.mistral-small-2402-v1:0");
        assert_eq!(pick("mistral.mistral-7b-instruct-v0:2").unwrap(), "mistral.mistral-7b-instruct-v0:2");
        assert_eq!(
            resolve(&c, &request(serde_json::json!({"messages": []}))).unwrap().id,
            "mistral.mistral-7b-instruct-v0:2"
        );
        let err = pick("gpt-4o").unwrap_err();
        assert_eq!(err.status().as_u16(), 404);
        assert!(err.to_string().contains("mistral-large"), "{err}");
    }

    #[test]
    fn auto_picks_small_for_chat_and_large_for_tools_or_long_prompts() {
        let c = config();
        let short = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(resolve(&c, &short).unwrap().id, "mistral.mistral-7b-instruct-v0:2");
        let with_system = request(
            serde_json::json!({"model": "auto", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}),
        );
        assert_eq!(resolve(&c, &with_system).unwrap().id, "mistral.mistral-small-2402-v1:0");
        let tools = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}));
        assert_eq!(resolve(&c, &tools).unwrap().id, "mistral.mistral-large-2407-v1:0");
        let long =
            request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "x".repeat(5000)}]}));
        assert_eq!(resolve(&c, &long).unwrap().id, "mistral.mistral-large-2407-v1:0");
        let schema = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}));
        assert_eq!(resolve(&c, &schema).unwrap_err().status().as_u16(), 400);
    }
}

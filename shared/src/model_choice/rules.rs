//! The `rules` policy: the static choice, for deployments that want zero extra calls. Among the
//! routing tiers that can take the request, the smallest model, or the largest one for long
//! prompts and tool use, where a small model's savings cost too much quality.

use super::needs::Needs;
use crate::catalog::Tier;
use crate::config::{AllowedModel, Config};

/// Chooses among `capable` (the tiers that can take the request, cheapest first, never empty).
pub fn choose<'c>(config: &Config, capable: &[&'c AllowedModel], needs: &Needs) -> &'c AllowedModel {
    let tier = |m: &&AllowedModel| m.catalog.map_or(Tier::Medium, |c| c.tier);
    // Ties go to the model listed first (`max_by_key` keeps the last maximum, hence `rev`).
    let chosen = if needs.tools || needs.chars >= config.auto_large_from_chars {
        capable.iter().rev().max_by_key(|m| tier(m))
    } else {
        capable.iter().min_by_key(|m| tier(m))
    };
    chosen.copied().unwrap_or(capable[0])
}

#[cfg(test)]
mod tests {
    use crate::api::request::ChatRequest;
    use crate::config::Config;
    use crate::config::routing::RouteKind;
    use crate::convert::Conversation;
    use crate::error::ApiError;
    use crate::model_choice::Plan;

    fn config() -> Config {
        Config::load(&crate::config::Env::from_pairs([
            (
                "BEDROCK_MODEL_IDS",
                "mistral.mistral-7b-instruct-v0:2,mistral.mistral-small-2402-v1:0,mistral.mistral-large-2407-v1:0",
            ),
            ("ROUTING_POLICY", "rules"),
        ]))
        .unwrap()
    }

    fn request(json: serde_json::Value) -> ChatRequest {
        serde_json::from_value(json).unwrap()
    }

    fn pick(c: &Config, request: &ChatRequest) -> Result<String, ApiError> {
        let conversation = Conversation::from_chat(request, c)?;
        let plan = Plan::new(c, request, &conversation, RouteKind::Chat, None)?;
        assert_eq!(plan.ladder.len(), 1, "rules chooses one model");
        Ok(plan.first().id.clone())
    }

    #[test]
    fn auto_picks_small_for_chat_and_large_for_tools_or_long_prompts() {
        let c = config();
        let short = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(pick(&c, &short).unwrap(), "mistral.mistral-7b-instruct-v0:2");
        let with_system = request(
            serde_json::json!({"model": "auto", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}),
        );
        assert_eq!(pick(&c, &with_system).unwrap(), "mistral.mistral-small-2402-v1:0");
        let tools = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}));
        assert_eq!(pick(&c, &tools).unwrap(), "mistral.mistral-large-2407-v1:0");
        let long =
            request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "x".repeat(5000)}]}));
        assert_eq!(pick(&c, &long).unwrap(), "mistral.mistral-large-2407-v1:0");
        let schema = request(serde_json::json!({"model": "auto", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}));
        // No tier has native JSON-schema output: the smallest one that calls tools answers
        // through the output tool (7B can do neither).
        assert_eq!(pick(&c, &schema).unwrap(), "mistral.mistral-small-2402-v1:0");
    }
}

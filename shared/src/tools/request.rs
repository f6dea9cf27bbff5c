//! A `/tools/v1` request: a chat-completions request whose `tools` select registry tools.
//!
//! `tools` may list tool names (`["retrieve_payment_status"]`), full function objects whose
//! names are in the registry (their descriptions and schemas are replaced by the registry's:
//! the server runs the tool, so its definition is the one that holds), or be left out for every
//! enabled tool. The rest is the ordinary chat request, checked once for every model
//! ([`crate::chat::plan`]); each step's request is made for the model that is called.

use super::Toolbox;
use super::registry::Entry;
use crate::api::request::{ChatMessage, ChatRequest, ToolSpec};
use crate::chat;
use crate::config::Config;
use crate::config::routing::RouteKind;
use crate::convert::Conversation;
use crate::error::ApiError;
use crate::keys::{Budgeter, Caller};
use crate::model_choice::{self, Plan};

/// A validated tool-loop request.
#[derive(Debug)]
pub struct ToolsCall<'c, 't> {
    /// Which models may answer each step.
    pub plan: Plan<'c>,
    /// The conversation, checked for every model; the loop appends the turns that follow.
    pub conversation: Conversation,
    /// The registry tools this request allows the model to call.
    pub tools: Vec<&'t Entry>,
    /// The caller's request, for triage and the routing checks.
    pub chat: ChatRequest,
    /// Under a key, what every model call is reserved and settled through.
    pub budget: Option<Budgeter>,
}

/// Checks `request` against the registry and prepares its first model call.
pub fn prepare<'c, 't>(
    config: &'c Config,
    toolbox: &'t Toolbox,
    mut request: ChatRequest,
    caller: Option<&Caller>,
) -> Result<ToolsCall<'c, 't>, ApiError> {
    let tools = select(toolbox, request.tools.take())?;
    if !tools.is_empty() {
        request.tools = Some(tools.iter().map(|e| ToolSpec::Function(e.definition())).collect());
    }
    if request.stream == Some(true) {
        return Err(ApiError::invalid(
            "stream",
            "the tool loop answers with one JSON body once every tool has run; send stream: false",
        ));
    }
    let names_model = request.model.as_deref().is_some_and(|m| !m.trim().is_empty());
    if !names_model && !tools.is_empty() && !config.default_model().capabilities.tools {
        // The deployment's default model cannot use tools; pick the best allowed model that can.
        request.model = Some(model_choice::AUTO.into());
    }
    if let Some(ChatMessage::Assistant { .. }) = request.messages.last() {
        return Err(ApiError::invalid(
            "messages",
            "the last message must be a user or tool message: the tool loop adds the assistant's turns itself",
        ));
    }
    let chat::Planned { conversation, plan, budget } = chat::plan(config, &request, RouteKind::Tools, caller)?;
    Ok(ToolsCall { plan, conversation, tools, chat: request, budget })
}

/// The registry entries `tools` names (every entry when absent), in request order.
fn select(toolbox: &Toolbox, tools: Option<Vec<ToolSpec>>) -> Result<Vec<&Entry>, ApiError> {
    let Some(items) = tools else { return Ok(toolbox.registry.entries().iter().collect()) };
    let available = || toolbox.registry.names().collect::<Vec<_>>().join(", ");
    let mut chosen: Vec<&Entry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let ToolSpec::Function(def) = item
            && def.kind != "function"
        {
            return Err(ApiError::invalid(format!("tools[{i}].type"), "only `function` tools are supported"));
        }
        let name = item.name();
        let entry = toolbox.registry.get(name).ok_or_else(|| {
            let shown: String = name.chars().take(64).collect();
            ApiError::invalid(
                format!("tools[{i}]"),
                format!("`{shown}` is not a tool of this deployment; the available tools are: {}", available()),
            )
        })?;
        if chosen.iter().any(|e| e.name() == name) {
            return Err(ApiError::invalid(format!("tools[{i}]"), format!("`{name}` is listed twice")));
        }
        chosen.push(entry);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    use crate::config::Env;

    fn config() -> Config {
        Config::load(&Env::empty()).unwrap()
    }

    fn names(call: &ToolsCall<'_, '_>) -> Vec<String> {
        call.tools.iter().map(|e| e.name().to_owned()).collect()
    }

    fn body(v: Value) -> ChatRequest {
        ChatRequest::from_slice(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    fn parse<'c, 't>(
        config: &'c Config,
        toolbox: &'t Toolbox,
        request: ChatRequest,
    ) -> Result<ToolsCall<'c, 't>, ApiError> {
        prepare(config, toolbox, request, None)
    }

    #[test]
    fn tools_default_to_every_registry_tool_and_may_be_named() {
        let (config, toolbox) = (config(), Toolbox::builtin());
        let user = json!([{"role": "user", "content": "status of T1001?"}]);
        let all = parse(&config, &toolbox, body(json!({"model": "mistral-large", "messages": user}))).unwrap();
        assert_eq!(names(&all), ["retrieve_payment_status", "retrieve_payment_date"]);
        assert_eq!(all.conversation.finish(all.plan.first()).unwrap().tool_config.unwrap().tools().len(), 2);

        let named = parse(
            &config,
            &toolbox,
            body(json!({"model": "mistral-large", "messages": user, "tools": ["retrieve_payment_date"]})),
        )
        .unwrap();
        assert_eq!(names(&named), ["retrieve_payment_date"]);

        let object = json!({"type": "function", "function": {"name": "retrieve_payment_status", "parameters": {"type": "object"}}});
        let objects =
            parse(&config, &toolbox, body(json!({"model": "mistral-large", "messages": user, "tools": [object]})))
                .unwrap();
        assert_eq!(names(&objects), ["retrieve_payment_status"]);
    }

    #[test]
    fn unknown_tools_streaming_and_trailing_assistant_turns_are_refused() {
        let (config, toolbox) = (config(), Toolbox::builtin());
        let user = json!([{"role": "user", "content": "hi"}]);
        let refuse = |v: Value| parse(&config, &toolbox, body(v)).unwrap_err();
        let err = refuse(json!({"model": "mistral-large", "messages": user, "tools": ["rm_rf"]}));
        assert_eq!(err.param(), Some("tools[0]"));
        assert!(err.to_string().contains("retrieve_payment_status"), "{err}");
        let err = refuse(json!({"model": "mistral-large", "messages": user, "stream": true}));
        assert_eq!(err.param(), Some("stream"));
        let err = refuse(json!({"model": "mistral-large", "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure"}]}));
        assert_eq!(err.param(), Some("messages"));
    }

    #[test]
    fn without_a_model_a_tool_capable_one_is_chosen() {
        // Mistral 7B, the default here, has no tool use on Bedrock.
        let config = Config::load(&Env::from_pairs([(
            "BEDROCK_MODEL_IDS",
            "mistral.mistral-7b-instruct-v0:2,mistral.mistral-large-2407-v1:0",
        )]))
        .unwrap();
        let toolbox = Toolbox::builtin();
        let user = json!([{"role": "user", "content": "hi"}]);
        let call = parse(&config, &toolbox, body(json!({"messages": user}))).unwrap();
        assert_eq!(call.plan.first().id, "mistral.mistral-large-2407-v1:0");
        // Without tools, the default model is kept.
        let plain = parse(&config, &toolbox, body(json!({"messages": user, "tools": []}))).unwrap();
        assert_eq!(plain.plan.first().id, "mistral.mistral-7b-instruct-v0:2");
        assert!(plain.conversation.finish(plain.plan.first()).unwrap().tool_config.is_none());
    }
}

//! A whole `chat.completion` → a response object: `reasoning`, then the `message`, then one
//! `function_call` per tool call, with the status its finish reason says, the Responses usage
//! (cost included) and the gateway's `routing` report.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::response::ChatCompletion;
use crate::api::responses::{self, Echo, Head, Status, item_id};

/// What a response is built from besides the answer: its head and the namespaces of its tools.
#[derive(Debug, Clone)]
pub struct Context {
    pub head: Head,
    pub namespaces: BTreeMap<String, String>,
}

impl Context {
    /// A new response's context, answered by `model`.
    pub fn new(model: &str, echo: Echo, namespaces: BTreeMap<String, String>) -> Self {
        let created_at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
        let head =
            Head { id: format!("resp_{}", uuid::Uuid::new_v4().simple()), created_at, model: model.to_owned(), echo };
        Context { head, namespaces }
    }

    /// The namespace a called function came in, if any.
    pub fn namespace(&self, name: &str) -> Option<&str> {
        self.namespaces.get(name).map(String::as_str)
    }
}

/// The response object of a whole answer.
pub fn from_completion(completion: &ChatCompletion, context: &Context) -> Value {
    let choice = &completion.choices[0];
    let id = &context.head.id;
    let mut output = Vec::new();
    if let Some(reasoning) = choice.message.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        output.push(responses::reasoning_item(&item_id("rs", id, output.len()), reasoning, "completed"));
    }
    if let Some(text) = choice.message.content.as_deref().filter(|t| !t.is_empty()) {
        output.push(responses::message_item(&item_id("msg", id, output.len()), Some(text), "completed"));
    }
    for call in choice.message.tool_calls.iter().flatten() {
        let arguments = match &call.function.arguments {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let name = &call.function.name;
        output.push(responses::function_call_item(
            &item_id("fc", id, output.len()),
            call.id.as_deref().unwrap_or_default(),
            name,
            &arguments,
            context.namespace(name),
            "completed",
        ));
    }
    let finish = serde_json::to_value(choice.finish_reason).unwrap_or_default();
    let status = Status::of_finish_reason(finish.as_str().unwrap_or("stop"));
    let usage = serde_json::to_value(completion.usage).unwrap_or_default();
    let routing = completion.routing.as_ref().and_then(|r| serde_json::to_value(r).ok());
    let head = Head { model: completion.model.clone(), created_at: completion.created, ..context.head.clone() };
    responses::response(&head, &status, output, Some(responses::usage(&usage)), routing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::{FunctionCall, ToolCall};
    use crate::api::response::{Choice, FinishReason, NoExtras, ResponseMessage};
    use crate::api::usage::Usage;

    fn completion(message: ResponseMessage, finish_reason: FinishReason) -> ChatCompletion {
        ChatCompletion {
            id: "chatcmpl-1".into(),
            object: "chat.completion",
            created: 5,
            model: "mistral.magistral-small-2509".into(),
            choices: vec![Choice { index: 0, message, finish_reason }],
            usage: Usage { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10, cost_usd: Some(0.25) },
            routing: None,
            extra: NoExtras {},
        }
    }

    #[test]
    fn reasoning_text_and_calls_are_output_items_in_order() {
        let call = ToolCall {
            id: Some("call_1".into()),
            kind: "function".into(),
            function: FunctionCall { name: "spawn_agent".into(), arguments: Value::String("{}".into()) },
            index: None,
        };
        let message = ResponseMessage {
            role: "assistant",
            content: Some("Let me check.".into()),
            reasoning_content: Some("Thinking".into()),
            tool_calls: Some(vec![call]),
            reasoning_format: Default::default(),
        };
        let namespaces = BTreeMap::from([("spawn_agent".to_owned(), "multi_agent_v1".to_owned())]);
        let context = Context::new("auto", Echo::new(), namespaces);
        let response = from_completion(&completion(message, FinishReason::ToolCalls), &context);
        let kinds: Vec<&str> =
            response["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(response["output"][0]["content"][0]["text"], "Thinking");
        assert_eq!(response["output"][1]["content"][0]["text"], "Let me check.");
        assert_eq!(response["output"][2]["call_id"], "call_1");
        assert_eq!(response["output"][2]["namespace"], "multi_agent_v1");
        assert_eq!(response["status"], "completed");
        assert_eq!(response["model"], "mistral.magistral-small-2509");
        assert_eq!(response["usage"]["cost_usd"], 0.25);
        assert!(response["id"].as_str().unwrap().starts_with("resp_"));
    }
}

//! The OpenAI Responses API's output shapes as this gateway writes them: output items, the
//! response object, its usage block and the server-sent event frame. They are built as JSON
//! values from one place each, so the answer of `POST /v1/responses`, the items of a stream's
//! `response.output_item.done` events and the `response` of `response.completed` cannot drift
//! apart. Field names and required fields follow the `openai` Python SDK's `types/responses`.

use serde_json::{Map, Value, json};

/// What a response echoes of its request (OpenAI's response object carries the request's
/// settings): the fields are written as they were applied, so an ignored setting reads `null`.
pub type Echo = Map<String, Value>;

/// Ids of a response's output items: `<prefix>_<response suffix>_<output index>`, the same for
/// a streamed and a whole answer.
pub fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    let suffix = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{suffix}_{index}")
}

/// A `reasoning` item: the model's reasoning as `reasoning_text` content. The summary is empty:
/// Mistral's reasoning models write no summary, and the gateway does not invent one.
pub fn reasoning_item(id: &str, text: &str, status: &str) -> Value {
    json!({"id": id, "type": "reasoning", "summary": [], "status": status,
        "content": [{"type": "reasoning_text", "text": text}]})
}

/// An assistant `message` item; `text: None` is the empty item a stream opens with.
pub fn message_item(id: &str, text: Option<&str>, status: &str) -> Value {
    let content: Vec<Value> = text.map(output_text).into_iter().collect();
    json!({"id": id, "type": "message", "role": "assistant", "status": status, "content": content})
}

/// An `output_text` content part.
pub fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `function_call` item. `namespace` is set for a tool that came in a `namespace` group, so
/// the client (Codex) finds the tool it offered.
pub fn function_call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    namespace: Option<&str>,
    status: &str,
) -> Value {
    let mut item = json!({"id": id, "type": "function_call", "call_id": call_id, "name": name,
        "arguments": arguments, "status": status});
    if let Some(namespace) = namespace {
        item["namespace"] = json!(namespace);
    }
    item
}

/// The Responses `usage` block from a chat `usage` block: the same counts under the Responses
/// names, plus this gateway's `cost_usd` where the price is known. Bedrock reports one output
/// count for Mistral's models, reasoning included, so `reasoning_tokens` is 0 and cached input
/// is 0 (no prompt caching on these models).
pub fn usage(chat_usage: &Value) -> Value {
    let count = |name: &str| chat_usage[name].as_u64().unwrap_or(0);
    let mut usage = json!({
        "input_tokens": count("prompt_tokens"),
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": count("completion_tokens"),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": count("total_tokens"),
    });
    if let Some(cost) = chat_usage.get("cost_usd").filter(|c| !c.is_null()) {
        usage["cost_usd"] = cost.clone();
    }
    usage
}

/// How a response ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    InProgress,
    Completed,
    /// Cut short: `max_output_tokens` or `content_filter`.
    Incomplete(&'static str),
    /// Failed, with the error's `code` and `message`.
    Failed {
        code: String,
        message: String,
    },
}

impl Status {
    /// The status of a chat `finish_reason`.
    pub fn of_finish_reason(finish_reason: &str) -> Status {
        match finish_reason {
            "length" => Status::Incomplete("max_output_tokens"),
            "content_filter" => Status::Incomplete("content_filter"),
            "error" => Status::Failed {
                code: "server_error".into(),
                message: "the model's output could not be read (malformed output or tool use)".into(),
            },
            _ => Status::Completed,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete(_) => "incomplete",
            Status::Failed { .. } => "failed",
        }
    }

    /// The event that ends a stream in this status.
    pub fn final_event(&self) -> &'static str {
        match self {
            Status::Incomplete(_) => "response.incomplete",
            Status::Failed { .. } => "response.failed",
            _ => "response.completed",
        }
    }
}

/// The head of a response: who it is and what was asked.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: String,
    pub created_at: u64,
    pub model: String,
    pub echo: Echo,
}

/// The response object. `usage` (Responses shape) and `routing` (the gateway's report) are
/// written when known.
pub fn response(
    head: &Head,
    status: &Status,
    output: Vec<Value>,
    usage: Option<Value>,
    routing: Option<Value>,
) -> Value {
    let mut response = json!({
        "id": head.id,
        "object": "response",
        "created_at": head.created_at,
        "status": status.name(),
        "model": head.model,
        "output": output,
        "error": null,
        "incomplete_details": null,
        "usage": usage,
    });
    match status {
        Status::Incomplete(reason) => response["incomplete_details"] = json!({"reason": reason}),
        Status::Failed { code, message } => response["error"] = json!({"code": code, "message": message}),
        _ => {}
    }
    if let Value::Object(fields) = &mut response {
        for (name, value) in &head.echo {
            fields.entry(name.clone()).or_insert_with(|| value.clone());
        }
        if let Some(routing) = routing {
            fields.insert("routing".into(), routing);
        }
    }
    response
}

/// One server-sent event: `event: <type>` and its JSON `data`, which carries the same `type`.
pub fn event_frame(data: &Value) -> Vec<u8> {
    let kind = data["type"].as_str().unwrap_or("error");
    let mut frame = format!("event: {kind}\ndata: ").into_bytes();
    frame.extend_from_slice(data.to_string().as_bytes());
    frame.extend_from_slice(b"\n\n");
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_renames_the_chat_counts_and_keeps_the_cost() {
        let usage = usage(&json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "cost_usd": 0.5}));
        assert_eq!(usage["input_tokens"], 7);
        assert_eq!(usage["output_tokens"], 3);
        assert_eq!(usage["total_tokens"], 10);
        assert_eq!(usage["cost_usd"], 0.5);
        assert_eq!(usage["input_tokens_details"]["cached_tokens"], 0);
        assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);
    }

    #[test]
    fn a_cut_answer_is_incomplete_with_its_reason() {
        let head = Head { id: "resp_1".into(), created_at: 1, model: "m".into(), echo: Echo::new() };
        let response = response(&head, &Status::of_finish_reason("length"), vec![], None, None);
        assert_eq!(response["status"], "incomplete");
        assert_eq!(response["incomplete_details"]["reason"], "max_output_tokens");
        assert_eq!(Status::of_finish_reason("tool_calls"), Status::Completed);
    }

    #[test]
    fn an_event_frame_names_its_type_twice() {
        let frame = event_frame(&json!({"type": "response.created", "sequence_number": 0}));
        let text = String::from_utf8(frame).unwrap();
        assert!(text.starts_with("event: response.created\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
    }
}

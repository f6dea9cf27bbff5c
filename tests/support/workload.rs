//! What the benches send: a ~2 KB chat (a system prompt and a few turns), the same conversation
//! as the Bedrock Converse body a client would send the model directly, and the API Gateway REST
//! event that carries a chat to a function.

use serde_json::{Value, json};

/// The model `mistral-large` names in the catalog.
pub const MODEL_ID: &str = "mistral.mistral-large-2407-v1:0";

const FILLER: &str = "The quick brown fox jumps over the lazy dog while the model keeps the context. ";

/// The turns of the conversation: (role, text).
fn turns() -> [(&'static str, String); 4] {
    [
        ("system", FILLER.repeat(4)),
        ("user", FILLER.repeat(6)),
        ("assistant", FILLER.repeat(5)),
        ("user", FILLER.repeat(6)),
    ]
}

/// The ~2 KB chat-completions body.
pub fn chat_2kb() -> Value {
    let messages: Vec<Value> = turns().into_iter().map(|(role, text)| json!({"role": role, "content": text})).collect();
    let body = json!({"model": "mistral-large", "temperature": 0.3, "max_tokens": 256, "messages": messages});
    let size = body.to_string().len();
    assert!((1800..2600).contains(&size), "the chat body is {size} bytes");
    body
}

/// The same conversation as a Converse body, for a client that calls Bedrock itself.
pub fn converse_2kb() -> Value {
    let [(_, system), rest @ ..] = turns();
    let messages: Vec<Value> =
        rest.into_iter().map(|(role, text)| json!({"role": role, "content": [{"text": text}]})).collect();
    json!({"system": [{"text": system}], "messages": messages, "inferenceConfig": {"maxTokens": 256, "temperature": 0.3}})
}

/// An API Gateway REST (v1) proxy event for `POST <path>` with `body`, stage `prod`.
pub fn rest_event(path: &str, body: &Value) -> String {
    json!({
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "resourcePath": path, "httpMethod": "POST",
            "path": format!("/prod{path}"), "stage": "prod", "requestId": "r1", "identity": {"sourceIp": "203.0.113.10"}},
        "body": body.to_string(), "isBase64Encoded": false
    })
    .to_string()
}

//! A Responses request → a chat-completions request, what the response echoes, and the tools
//! that were dropped. The top-level fields are read here; input items in [`super::input`],
//! tools in [`super::tools`].
//!
//! Rules (README, "The OpenAI Responses API"): `instructions` is a first system message;
//! `max_output_tokens` is `max_tokens`; `text.format` is `response_format`; `reasoning` is
//! accepted and not applied (Bedrock takes no reasoning budget for Mistral's models; Magistral
//! always reasons) and echoed as `null`s; `include`, `prompt_cache_key`, `metadata`, `user`,
//! `service_tier`, `truncation`, `safety_identifier`, `client_metadata`, `top_logprobs` and
//! `max_tool_calls` are accepted and not applied; state (`store: true`,
//! `previous_response_id`, `conversation`), `background` and stored `prompt`s are refused.

use serde_json::{Map, Value, json};

use super::{input, tools};
use crate::api::request::ChatRequest;
use crate::api::responses::Echo;
use crate::error::ApiError;

/// A translated request.
#[derive(Debug)]
pub struct Translated {
    pub chat: ChatRequest,
    /// The request's settings as the response echoes them.
    pub echo: Echo,
    /// Tool types that were dropped, in request order (for [`super::DROPPED_TOOLS`]).
    pub dropped_tools: Vec<String>,
    /// Function name → the `namespace` group it came in.
    pub namespaces: std::collections::BTreeMap<String, String>,
}

const STATELESS: &str = "this gateway is stateless and stores no responses or conversations: send the whole conversation in `input` (function_call and function_call_output items included) with `store: false`";

/// Parses and translates a request body.
pub fn translate(body: &[u8]) -> Result<Translated, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body is empty; send a JSON Responses request"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let Value::Object(request) = value else {
        return Err(ApiError::bad_request(
            "invalid request: the body must be a JSON object {\"model\": \"...\", \"input\": ...}",
        ));
    };
    translate_object(&request)
}

fn translate_object(request: &Map<String, Value>) -> Result<Translated, ApiError> {
    refuse_state(request)?;
    let given = |name: &str| request.get(name).filter(|v| !v.is_null());

    let instructions = match given("instructions") {
        None => None,
        Some(Value::String(text)) => Some(text.as_str()),
        Some(_) => return Err(ApiError::invalid("instructions", "must be a string")),
    };
    let input = given("input").ok_or_else(|| {
        ApiError::invalid("input", "missing: send the conversation, a string or a list of input items")
    })?;
    let messages = input::messages(input, instructions)?;

    let mut chat = json!({"messages": messages});
    for (from, to) in [
        ("model", "model"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("max_output_tokens", "max_tokens"),
        ("stream", "stream"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("routing", "routing"),
    ] {
        if let Some(value) = given(from) {
            chat[to] = value.clone();
        }
    }
    let offered = tools::translate(given("tools"))?;
    if !offered.functions.is_empty() {
        chat["tools"] = Value::Array(offered.functions.clone());
    }
    if let Some(choice) = given("tool_choice") {
        chat["tool_choice"] = tools::choice(choice, &offered)?;
    }
    let format = given("text").and_then(|text| text.get("format")).filter(|f| !f.is_null());
    if let Some(response_format) = format.map(response_format).transpose()?.flatten() {
        chat["response_format"] = response_format;
    }
    let chat = ChatRequest::from_value(chat)?;

    let mut echo = Echo::new();
    echo.insert("instructions".into(), instructions.map_or(Value::Null, |i| json!(i)));
    echo.insert("tools".into(), applied_tools(given("tools")));
    echo.insert("tool_choice".into(), given("tool_choice").cloned().unwrap_or(json!("auto")));
    echo.insert("parallel_tool_calls".into(), json!(chat.parallel_tool_calls.unwrap_or(true)));
    echo.insert("text".into(), given("text").cloned().unwrap_or(json!({"format": {"type": "text"}})));
    echo.insert("reasoning".into(), json!({"effort": null, "summary": null}));
    echo.insert("store".into(), json!(false));
    echo.insert("previous_response_id".into(), Value::Null);
    for name in ["temperature", "top_p", "max_output_tokens", "metadata", "user", "prompt_cache_key"] {
        echo.insert(name.into(), given(name).cloned().unwrap_or(Value::Null));
    }
    Ok(Translated { chat, echo, dropped_tools: offered.dropped, namespaces: offered.namespaces })
}

/// An error of the chat use case in this API's words: the chat fields a Responses field became
/// are named as the caller sent them (`text.format`, not `response_format`).
pub fn in_responses_terms(error: ApiError) -> ApiError {
    const RENAMED: [(&str, &str); 2] = [("response_format", "text.format"), ("max_tokens", "max_output_tokens")];
    let rename = |param: &str, message: &str| {
        let (from, to) = RENAMED.iter().find(|(from, _)| param == *from || param.starts_with(&format!("{from}.")))?;
        Some((format!("{to}{}", &param[from.len()..]), message.replace(from, to)))
    };
    match error {
        ApiError::BadRequest { message, param: Some(param) } => match rename(&param, &message) {
            Some((param, message)) => ApiError::BadRequest { message, param: Some(param) },
            None => ApiError::BadRequest { message, param: Some(param) },
        },
        ApiError::Unsupported { message, param } => match rename(&param, &message) {
            Some((param, message)) => ApiError::Unsupported { message, param },
            None => ApiError::Unsupported { message, param },
        },
        other => other,
    }
}

/// The tools as applied: the request's, without the ones dropped.
fn applied_tools(tools: Option<&Value>) -> Value {
    let kept = |tool: &&Value| matches!(tool.get("type").and_then(Value::as_str), Some("function" | "namespace"));
    let mut applied: Vec<Value> = tools.and_then(Value::as_array).into_iter().flatten().filter(kept).cloned().collect();
    for group in &mut applied {
        if let Some(Value::Array(members)) = group.get_mut("tools") {
            members.retain(|member| member.get("type").and_then(Value::as_str) == Some("function"));
        }
    }
    Value::Array(applied)
}

/// The fields that need state or work the gateway does not keep or run.
fn refuse_state(request: &Map<String, Value>) -> Result<(), ApiError> {
    let given = |name: &str| request.get(name).filter(|v| !v.is_null() && **v != Value::Bool(false));
    for name in ["previous_response_id", "conversation"] {
        if given(name).is_some() {
            return Err(ApiError::unsupported(name, STATELESS));
        }
    }
    if given("store").is_some() {
        return Err(ApiError::unsupported("store", STATELESS));
    }
    if given("background").is_some() {
        return Err(ApiError::unsupported(
            "background",
            "background responses need stored state, which this gateway does not keep; stream the answer (/stream/v1/responses) instead",
        ));
    }
    if given("prompt").is_some() {
        return Err(ApiError::unsupported(
            "prompt",
            "stored prompt templates live on OpenAI's platform; send the prompt as `instructions` and `input`",
        ));
    }
    Ok(())
}

/// `text.format` → `response_format`; `None` for plain text.
fn response_format(format: &Value) -> Result<Option<Value>, ApiError> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = json!({});
            for field in ["name", "schema", "strict", "description"] {
                if let Some(value) = format.get(field).filter(|v| !v.is_null()) {
                    schema[field] = value.clone();
                }
            }
            if schema.get("schema").is_none() {
                return Err(ApiError::invalid(
                    "text.format.schema",
                    "missing: a json_schema format needs its JSON schema {\"type\": \"json_schema\", \"name\": \"...\", \"schema\": {...}}",
                ));
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        _ => Err(ApiError::invalid("text.format.type", "must be \"text\", \"json_object\" or \"json_schema\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::{ChatMessage, ResponseFormat};

    fn translated(body: Value) -> Result<Translated, ApiError> {
        translate(body.to_string().as_bytes())
    }

    #[test]
    fn instructions_come_first_and_a_string_input_is_one_user_message() {
        let t = translated(json!({"model": "m", "instructions": "Be brief.", "input": "Hi", "max_output_tokens": 9}))
            .unwrap();
        assert!(matches!(t.chat.messages.as_slice(), [ChatMessage::System { .. }, ChatMessage::User { .. }]));
        assert_eq!(t.chat.max_tokens, Some(9));
        assert_eq!(t.echo["instructions"], "Be brief.");
        assert_eq!(t.echo["reasoning"], json!({"effort": null, "summary": null}));
    }

    #[test]
    fn state_is_refused_by_name() {
        for (field, value) in
            [("previous_response_id", json!("resp_1")), ("store", json!(true)), ("conversation", json!("c"))]
        {
            let mut body = json!({"model": "m", "input": "Hi"});
            body[field] = value;
            let error = translated(body).unwrap_err();
            assert_eq!(error.param(), Some(field));
            assert!(error.to_string().contains("stateless"), "{error}");
        }
        assert!(translated(json!({"model": "m", "input": "Hi", "store": false})).is_ok());
    }

    #[test]
    fn a_json_schema_text_format_is_a_response_format() {
        let t =
            translated(json!({"model": "m", "input": "Hi", "text": {"format": {"type": "json_schema", "name": "city",
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}, "strict": true}}}))
            .unwrap();
        let Some(ResponseFormat::JsonSchema { json_schema }) = t.chat.response_format else { panic!() };
        assert_eq!(json_schema.name.as_deref(), Some("city"));
        let error = translated(json!({"model": "m", "input": "Hi", "text": {"format": {"type": "yaml"}}})).unwrap_err();
        assert_eq!(error.param(), Some("text.format.type"));
    }

    #[test]
    fn chat_errors_name_the_responses_fields() {
        let error = in_responses_terms(ApiError::unsupported(
            "response_format",
            "m has no native JSON-schema output; use response_format json_object",
        ));
        assert_eq!(error.param(), Some("text.format"));
        assert_eq!(error.to_string(), "text.format: m has no native JSON-schema output; use text.format json_object");
        let error = in_responses_terms(ApiError::invalid("messages[0]", "bad"));
        assert_eq!(error.param(), Some("messages[0]"));
    }

    #[test]
    fn a_missing_input_is_named() {
        assert_eq!(translated(json!({"model": "m"})).unwrap_err().param(), Some("input"));
    }
}

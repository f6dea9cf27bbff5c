//! Malformed bodies, end to end through `from_slice`: each is refused at its field, in words.

use super::ChatRequest;
use crate::error::ApiError;

/// The field each malformed body is refused at, and words its message must hold: the
/// accepted shapes, never a Rust type or serde's enum vocabulary.
#[test]
fn malformed_bodies_name_the_field_and_the_accepted_shapes() {
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (r#"[]"#, None, &["must be a JSON object"]),
        (r#""hi""#, None, &["must be a JSON object"]),
        (r#"{"model": "x"}"#, None, &["missing field `messages`"]),
        (r#"{"messages": {}}"#, Some("messages"), &["expected a list"]),
        (r#"{"messages": ["hi"]}"#, Some("messages[0]"), &["a message: a JSON object such as"]),
        (r#"{"messages": [[{"role": "user"}]]}"#, Some("messages[0]"), &["invalid type: list, expected a message"]),
        (r#"{"messages": [{"content": "x"}]}"#, Some("messages[0]"), &["missing field `role`"]),
        (
            r#"{"messages": [{"role": "bot", "content": "x"}]}"#,
            Some("messages[0].role"),
            &["`bot`", "`user`", "`assistant`"],
        ),
        (
            r#"{"messages": [{"role": "user"}]}"#,
            Some("messages[0]"),
            &["missing field `content`", "a string or a list of content parts"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": 5}]}"#,
            Some("messages[0].content"),
            &["a string or a list of content parts", "\"type\": \"text\""],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [5]}]}"#,
            Some("messages[0].content[0]"),
            &["a content part: a JSON object such as"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [["text"]]}]}"#,
            Some("messages[0].content[0]"),
            &["invalid type: list, expected a content part"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}"#,
            Some("messages[0].content[0].text"),
            &["expected a string"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "text"}]}]}"#,
            Some("messages[0].content[0]"),
            &["missing field `text`"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "audio"}]}]}"#,
            Some("messages[0].content[0].type"),
            &["`audio`", "`text`", "`image_url`", "`thinking`"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": 5}]}]}"#,
            Some("messages[0].content[0].image_url"),
            &["an image URL: a string, or an object"],
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "thinking", "thinking": []}]}]}"#,
            Some("messages[0]"),
            &["content[0]", "only accepted in assistant messages"],
        ),
        (
            r#"{"messages": [{"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}]}]}"#,
            Some("messages[0].content[0].thinking"),
            &["expected a list"],
        ),
        (
            r#"{"messages": [{"role": "assistant", "content": [{"type": "thinking"}]}]}"#,
            Some("messages[0].content[0]"),
            &["missing field `thinking`", "\"thinking\": [{\"type\": \"text\""],
        ),
        (
            r#"{"messages": [{"role": "assistant", "tool_calls": {}}]}"#,
            Some("messages[0].tool_calls"),
            &["expected a list"],
        ),
        (
            r#"{"messages": [{"role": "assistant", "tool_calls": [5]}]}"#,
            Some("messages[0].tool_calls[0]"),
            &["a tool call {"],
        ),
        (
            r#"{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": 5}}]}]}"#,
            Some("messages[0].tool_calls[0].function.name"),
            &["expected a string"],
        ),
        (
            r#"{"messages": [{"role": "assistant", "tool_calls": [{"id": "a"}]}]}"#,
            Some("messages[0].tool_calls[0]"),
            &["missing field `function`"],
        ),
        (
            r#"{"messages": [{"role": "tool", "content": "x", "tool_call_id": 7}]}"#,
            Some("messages[0].tool_call_id"),
            &["expected a string"],
        ),
        (r#"{"messages": [], "temperature": "hot"}"#, Some("temperature"), &["expected a number"]),
        (r#"{"messages": [], "max_tokens": 1.5}"#, Some("max_tokens"), &["expected an integer"]),
        (r#"{"messages": [], "stream": "yes"}"#, Some("stream"), &["expected a boolean"]),
        (r#"{"messages": [], "stop": 5}"#, Some("stop"), &["a stop sequence (a string) or a list of them"]),
        (r#"{"messages": [], "stop": ["a", 5]}"#, Some("stop[1]"), &["expected a string"]),
        (r#"{"messages": [], "tools": {}}"#, Some("tools"), &["expected a list"]),
        (r#"{"messages": [], "tools": [5]}"#, Some("tools[0]"), &["a function object"]),
        (
            r#"{"messages": [], "tools": [{"type": "function", "function": "f"}]}"#,
            Some("tools[0].function"),
            &["a function definition {"],
        ),
        (
            r#"{"messages": [], "tools": [{"type": "function", "function": []}]}"#,
            Some("tools[0].function"),
            &["expected a function definition {", "not a list"],
        ),
        (
            r#"{"messages": [], "tool_choice": 5}"#,
            Some("tool_choice"),
            &["\"auto\", \"none\", \"any\", \"required\", or {"],
        ),
        (
            r#"{"messages": [], "tool_choice": {"type": "function"}}"#,
            Some("tool_choice"),
            &["missing field `function`"],
        ),
        (
            r#"{"messages": [], "tool_choice": {"function": {"name": 1}}}"#,
            Some("tool_choice.function.name"),
            &["expected a string"],
        ),
        (
            r#"{"messages": [], "response_format": "json"}"#,
            Some("response_format"),
            &["an object {\"type\": \"text\" | \"json_object\" | \"json_schema\""],
        ),
        (
            r#"{"messages": [], "response_format": {"type": "xml"}}"#,
            Some("response_format.type"),
            &["`xml`", "`json_schema`"],
        ),
        (
            r#"{"messages": [], "response_format": {"type": "json_schema"}}"#,
            Some("response_format"),
            &["missing field `json_schema`", "\"schema\""],
        ),
        (
            r#"{"messages": [], "response_format": {"type": "json_schema", "json_schema": {"name": 5}}}"#,
            Some("response_format.json_schema.name"),
            &["expected a string"],
        ),
        (r#"{"messages": [], "routing": {"policy": 1}}"#, Some("routing.policy"), &["expected a string"]),
        (r#"{"messages": [], "routing": "cascade"}"#, Some("routing"), &["an object {\"policy\""]),
    ];
    for (body, param, words) in cases {
        let error = ChatRequest::from_slice(body.as_bytes()).expect_err(body);
        let ApiError::BadRequest { message, param: got } = &error else {
            panic!("{body}: expected a 400, got {error:?}");
        };
        assert_eq!(got.as_deref(), *param, "{body}: {message}");
        for word in *words {
            assert!(message.contains(word), "{body}: `{message}` lacks `{word}`");
        }
        for rust in [
            "f64",
            "i64",
            "u32",
            "struct ",
            "untagged",
            "internally tagged",
            "a sequence",
            "type: sequence",
            " map",
            "line 1 column",
        ] {
            assert!(!message.contains(rust), "{body}: `{message}` speaks of `{rust}`");
        }
    }
}

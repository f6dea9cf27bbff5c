//! InvokeModel and InvokeModelWithResponseStream with Mistral's native bodies: the body kind the
//! model takes (chat or text completion), Bedrock's checks of it, the scripted model run on the
//! Converse-shaped request it stands for, and the answer in the native shapes.
//!
//! - **Kinds.** The catalog's `native` says which body a model takes (`Chat` → `messages`,
//!   `Text` → `prompt`); Mistral Large (24.02) takes both; models without one (and unknown
//!   models) take the chat body. The other kind is a `ValidationException` listing what Bedrock's
//!   schema check finds (`#: required key [prompt] not found#: extraneous key [messages] is not
//!   permitted`).
//! - **Chat → script.** `system` messages are the system prompt, `user` messages text blocks,
//!   assistant `tool_calls` `toolUse` blocks (arguments parsed), `tool` messages `toolResult`
//!   blocks of a user message; `tools` become `toolConfig` (`tool_choice` `any` → any, a named
//!   function → that tool, `none` → no tools offered); `max_tokens` → `maxTokens`;
//!   `response_format` → `outputConfig`.
//! - **Text → script.** The prompt's `[INST] ... [/INST]` turns are user messages, the text
//!   between them (up to `</s>`) assistant messages; a prompt without `[INST]` is one user turn.
//!   A first turn holding `JSON_OBJECT_INSTRUCTION` and a blank line is system text folded in
//!   (the gateway's way of giving a text body a system prompt): its lines become system blocks.
//! - **Answers.** Stop reasons: `tool_use` → `tool_calls`, `max_tokens` and
//!   `model_context_window_exceeded` → `length`, anything else → `stop`. Usage as in Converse
//!   (chat `usage`, stream `amazon-bedrock-invocationMetrics`, InvokeModel headers).

mod chat;
mod checks;
mod render;
mod text;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shared::model_choice::protocol::ESCALATION_INSTRUCTION;

use self::checks::{Problems, type_name};
use self::render::Kind;
use super::faults::BedrockError;
use super::handling::{self, Call};
use super::models::ModelTraits;
use super::{guardrail, streaming};

pub(crate) async fn respond(call: &Call<'_>, parsed: serde_json::Result<Value>) -> Result<Response, BedrockError> {
    let model = call.model()?;
    let guardrail = guardrail::from_headers(call.headers)?;
    let native = handling::json_body(parsed)?;
    let (kind, body) = read(&native, &model)?;
    let (answer, controls) = call.answer(&body, &model, guardrail.as_ref()).await?;
    if call.operation.streams() {
        let mut response = streaming::respond(render::steps(kind, answer), &controls, call.started);
        response.headers_mut().insert("x-amzn-bedrock-content-type", HeaderValue::from_static("application/json"));
        return Ok(response);
    }
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let id = format!("cmpl-{:032x}", fingerprint(call.raw));
    let body = render::body(kind, &answer, &model.foundation_id, &id, created);
    let mut response = Json(body).into_response();
    let latency = streaming::millis(call.started.elapsed());
    for (name, value) in [
        ("x-amzn-bedrock-input-token-count", answer.input_tokens),
        ("x-amzn-bedrock-output-token-count", answer.output_tokens),
        ("x-amzn-bedrock-invocation-latency", latency),
    ] {
        response.headers_mut().insert(name, HeaderValue::from(value));
    }
    Ok(response)
}

/// A batch record's answer, as InvokeModel would have sent it: the same checks and the same
/// scripted model as [`respond`], the body without the HTTP around it, and the token counts.
pub(crate) async fn answer_record(
    call: &Call<'_>,
    model: &ModelTraits,
    native: &Value,
) -> Result<(Value, u64, u64), BedrockError> {
    let (kind, body) = read(native, model)?;
    let (answer, _) = call.answer(&body, model, None).await?;
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let id = format!("cmpl-{:032x}", fingerprint(call.raw));
    let body = render::body(kind, &answer, &model.foundation_id, &id, created);
    Ok((body, answer.input_tokens, answer.output_tokens))
}

/// Checks a native body against the kinds `model` takes (the body's own keys pick the kind;
/// a body with neither `messages` nor `prompt` is read as the model's first kind), and returns
/// its kind and the Converse-shaped request the scripted model reads.
fn read(native: &Value, model: &ModelTraits) -> Result<(Kind, Value), BedrockError> {
    let Some(map) = native.as_object() else {
        return Err(BedrockError::validation(format!(
            "Malformed input request: expected type: JSONObject, found: {}, please reformat your input and try again.",
            type_name(native)
        )));
    };
    let chat = if map.contains_key("messages") && model.chat_body {
        true
    } else if map.contains_key("prompt") && model.text_body {
        false
    } else {
        model.chat_body
    };
    let mut problems = Problems::default();
    if chat {
        chat::check(map, &mut problems);
        problems.into_result()?;
        Ok((Kind::Chat, chat::to_converse(native)))
    } else {
        text::check(map, &mut problems);
        problems.into_result()?;
        Ok((Kind::Text, text::to_converse(native)))
    }
}

/// A user turn's text blocks: the gateway's escalation instruction, when the turn ends with it,
/// becomes a block of its own (native bodies have no blocks to send it in).
fn user_blocks(text: &str) -> Vec<Value> {
    match text.trim_end().strip_suffix(ESCALATION_INSTRUCTION) {
        Some(before) if before.trim().is_empty() => vec![json!({ "text": ESCALATION_INSTRUCTION })],
        Some(before) => vec![json!({ "text": before.trim_end() }), json!({ "text": ESCALATION_INSTRUCTION })],
        None => vec![json!({ "text": text })],
    }
}

/// A completion id that differs per call: FNV-1a over the body and the clock.
fn fingerprint(raw: &[u8]) -> u128 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    let mut hash = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d_u128;
    for byte in raw.iter().copied().chain(nanos.to_le_bytes()) {
        hash = (hash ^ u128::from(byte)).wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::script::{self, Block};

    fn traits(id: &str) -> ModelTraits {
        ModelTraits::of(id)
    }

    fn problem(native: Value, model: &str) -> String {
        read(&native, &traits(model)).unwrap_err().message
    }

    #[test]
    fn each_model_takes_its_native_body_kind() {
        let chat = json!({ "messages": [{ "role": "user", "content": "Hi" }] });
        let text = json!({ "prompt": "<s>[INST] Hi [/INST]" });
        assert_eq!(read(&chat, &traits("mistral.mistral-large-2407-v1:0")).unwrap().0, Kind::Chat);
        assert_eq!(read(&text, &traits("mistral.mixtral-8x7b-instruct-v0:1")).unwrap().0, Kind::Text);
        let both = traits("mistral.mistral-large-2402-v1:0");
        assert_eq!(read(&chat, &both).unwrap().0, Kind::Chat);
        assert_eq!(read(&text, &both).unwrap().0, Kind::Text);
        assert_eq!(read(&chat, &traits("mistral.pixtral-large-2502-v1:0")).unwrap().0, Kind::Chat);
        assert_eq!(
            problem(chat, "mistral.mixtral-8x7b-instruct-v0:1"),
            "Malformed input request: #: required key [prompt] not found#: extraneous key [messages] is not permitted, please reformat your input and try again."
        );
        assert!(problem(text, "mistral.mistral-large-2407-v1:0").contains("required key [messages] not found"));
        assert!(problem(json!([1]), "mistral.mistral-large-2407-v1:0").contains("expected type: JSONObject"));
    }

    #[test]
    fn a_model_refuses_the_body_kind_it_does_not_take() {
        let chat = json!({ "messages": [{ "role": "user", "content": "Hi" }] });
        let text = json!({ "prompt": "<s>[INST] Hi [/INST]" });
        for text_only in ["mistral.mistral-small-2402-v1:0", "mistral.mistral-7b-instruct-v0:2"] {
            let message = problem(chat.clone(), text_only);
            assert!(message.contains("required key [prompt] not found"), "{text_only}: {message}");
            assert!(message.contains("extraneous key [messages] is not permitted"), "{text_only}: {message}");
        }
        // Converse-only models (no native body in the catalog) take the chat body alone.
        for chat_only in ["mistral.ministral-3-14b-instruct", "us.mistral.magistral-small-2509"] {
            let message = problem(text.clone(), chat_only);
            assert!(message.contains("required key [messages] not found"), "{chat_only}: {message}");
            assert!(message.contains("extraneous key [prompt] is not permitted"), "{chat_only}: {message}");
        }
    }

    #[test]
    fn chat_bodies_are_checked_like_bedrock() {
        let large = "mistral.mistral-large-2407-v1:0";
        let with = |extra: Value| {
            let mut body = json!({ "messages": [{ "role": "user", "content": "Hi" }] });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        for (extra, expected) in [
            (json!({ "messages": [] }), "#/messages: expected minimum item count: 1"),
            (json!({ "messages": [{ "role": "robot", "content": "x" }] }), "\"robot\" is not a valid enum value"),
            (json!({ "max_tokens": 0 }), "#/max_tokens: 0 is not greater or equal to 1"),
            (json!({ "temperature": 1.2 }), "#/temperature: 1.2 is not less or equal to 1"),
            (json!({ "top_p": 0 }), "#/top_p: 0 is not greater than 0"),
            (json!({ "tool_choice": "required" }), "#/tool_choice"),
            (json!({ "response_format": { "type": "xml" } }), "#/response_format/type"),
            (json!({ "stop": ["x"] }), "extraneous key [stop]"),
            (json!({ "tools": [{ "name": "x" }] }), "#/tools/0"),
        ] {
            let message = problem(with(extra.clone()), large);
            assert!(message.contains(expected), "{extra}: {message}");
        }
        let orphan = json!({ "messages": [
            { "role": "user", "content": "Hi" },
            { "role": "tool", "tool_call_id": "abc123XYZ", "content": "42" }
        ] });
        assert!(problem(orphan, large).contains("#/messages/1/tool_call_id: abc123XYZ is not the id"));
    }

    #[test]
    fn text_bodies_are_checked_like_bedrock() {
        let mixtral = "mistral.mixtral-8x7b-instruct-v0:1";
        let stops: Vec<String> = (0..11).map(|i| format!("s{i}")).collect();
        for (body, expected) in [
            (json!({ "prompt": "" }), "#/prompt: expected minLength: 1"),
            (json!({ "prompt": "x", "stop": stops }), "#/stop: expected maximum item count: 10, found: 11"),
            (json!({ "prompt": "x", "top_k": 0 }), "#/top_k: 0 is not greater or equal to 1"),
            (json!({ "prompt": "x", "tools": [] }), "extraneous key [tools]"),
        ] {
            let message = problem(body.clone(), mixtral);
            assert!(message.contains(expected), "{body}: {message}");
        }
    }

    #[test]
    fn chat_turns_become_the_conversation_the_script_reads() {
        let native = json!({
            "messages": [
                { "role": "system", "content": "Be brief." },
                { "role": "user", "content": "Weather in Paris?" },
                { "role": "assistant", "content": null, "tool_calls": [
                    { "id": "abc123XYZ", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }
                ] },
                { "role": "tool", "tool_call_id": "abc123XYZ", "content": "21C" }
            ],
            "tools": [{ "type": "function", "function": { "name": "get_weather", "parameters": { "type": "object" } } }]
        });
        let (_, body) = read(&native, &traits("mistral.mistral-large-2407-v1:0")).unwrap();
        assert!(crate::emulator::validate::request(&body).is_ok(), "{body}");
        let answer = script::answer(&body, &traits("mistral.mistral-large-2407-v1:0"));
        assert_eq!(answer.content, [Block::Text("Tool results: name=get_weather -> 21C".into())]);
    }

    #[test]
    fn an_instruction_at_the_end_of_a_turn_is_its_own_block() {
        let text = format!("Prove it [[hard]]\n\n{ESCALATION_INSTRUCTION}");
        assert_eq!(
            user_blocks(&text),
            [json!({ "text": "Prove it [[hard]]" }), json!({ "text": ESCALATION_INSTRUCTION })]
        );
        assert_eq!(user_blocks("Hi"), [json!({ "text": "Hi" })]);
    }
}

//! Chat-completions request → Converse input: system, turns, parameters, capabilities, output.

use aws_sdk_bedrockruntime::types::{ConversationRole, OutputFormatStructure, SystemContentBlock};
use serde_json::{Value, json};

use super::{err, ok, run, texts};

#[test]
fn system_messages_become_the_system_field() {
    let p = ok(json!({"model": "mistral-large", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "developer", "content": "And polite."}
    ]}));
    let system: Vec<_> = p
        .request
        .system
        .iter()
        .map(|s| match s {
            SystemContentBlock::Text(t) => t.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(system, ["Be brief.", "And polite."]);
    assert_eq!(p.request.messages.len(), 1);
    assert_eq!(p.request.model_id, "mistral.mistral-large-2407-v1:0");
}

#[test]
fn consecutive_same_role_messages_are_merged() {
    let p = ok(json!({"model": "mistral-large", "messages": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": [{"type": "text", "text": "two"}]},
        {"role": "assistant", "content": "three"},
        {"role": "assistant", "content": "four"},
        {"role": "user", "content": "five"}
    ]}));
    let m = &p.request.messages;
    assert_eq!(m.len(), 3);
    assert_eq!((m[0].role(), texts(&m[0])), (&ConversationRole::User, vec!["one", "two"]));
    assert_eq!((m[1].role(), texts(&m[1])), (&ConversationRole::Assistant, vec!["three", "four"]));
    assert_eq!(texts(&m[2]), ["five"]);
}

#[test]
fn inference_parameters_map_and_are_range_checked() {
    let p = ok(json!({"model": "mistral-large", "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.3, "top_p": 0.9, "max_tokens": 100, "stop": ["END", "STOP"]}));
    let i = &p.request.inference;
    assert_eq!((i.temperature(), i.top_p(), i.max_tokens()), (Some(0.3), Some(0.9), Some(100)));
    assert_eq!(i.stop_sequences(), ["END", "STOP"]);
    let single =
        ok(json!({"messages": [{"role": "user", "content": "hi"}], "stop": "END", "max_completion_tokens": 5}));
    assert_eq!(single.request.inference.stop_sequences(), ["END"]);
    assert_eq!(single.request.inference.max_tokens(), Some(5));

    for (field, value) in [
        ("temperature", json!(1.5)),
        ("temperature", json!(-0.1)),
        ("top_p", json!(0)),
        ("max_tokens", json!(0)),
        ("max_tokens", json!(-5)),
        ("max_tokens", json!(100_000)),
        ("stop", json!([""])),
    ] {
        let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
        body[field] = value.clone();
        assert_eq!(err(body).param(), Some(field), "{field}={value}");
    }
}

#[test]
fn unsupported_fields_are_refused_not_dropped() {
    for (field, value) in [
        ("random_seed", json!(42)),
        ("seed", json!(7)),
        ("n", json!(2)),
        ("presence_penalty", json!(0.5)),
        ("frequency_penalty", json!(1)),
        ("safe_prompt", json!(true)),
        ("logprobs", json!(true)),
    ] {
        let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
        body[field] = value;
        let e = err(body);
        assert_eq!((e.status().as_u16(), e.param()), (400, Some(field)));
        assert_eq!(e.code(), "unsupported_parameter");
    }
    // Neutral values are accepted, and `parallel_tool_calls: false` is honoured on the answer.
    ok(
        json!({"messages": [{"role": "user", "content": "hi"}], "seed": null, "n": 1, "presence_penalty": 0, "safe_prompt": false, "parallel_tool_calls": false}),
    );
}

#[test]
fn capabilities_the_model_lacks_are_refused_before_bedrock() {
    let small = "mistral.mistral-7b-instruct-v0:2";
    let e = err(
        json!({"model": small, "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]}),
    );
    assert_eq!(e.param(), Some("messages[0].role"));
    let e = err(
        json!({"model": small, "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}]}),
    );
    assert_eq!(e.param(), Some("tools"));
    let e = err(
        json!({"model": "mistral-large", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "data:image/png;base64,AAAA"}]}]}),
    );
    assert_eq!(e.param(), Some("messages[0].content[0]"));
    let e = err(json!({"model": "mistral-7b", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}));
    assert_eq!(e.param(), Some("response_format"));
    assert!(e.to_string().contains("neither native JSON-schema output nor tool use"), "{e}");
}

#[test]
fn images_must_be_inline_data_urls() {
    let image = |url: &str| {
        run(json!({"model": "pixtral-large", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}]}))
    };
    let p = image("data:image/png;base64,iVBORw0KGgo=").unwrap();
    assert_eq!(p.request.model_id, "us.mistral.pixtral-large-2502-v1:0");
    let image_block = p.request.messages[0].content()[1].as_image().unwrap();
    assert_eq!(image_block.format().as_str(), "png");
    assert_eq!(image("https://example.com/cat.png").unwrap_err().param(), Some("messages[0].content[1].image_url"));
    assert_eq!(image("data:image/png;base64,@@@").unwrap_err().param(), Some("messages[0].content[1].image_url"));
    assert_eq!(image("data:text/html;base64,AAAA").unwrap_err().param(), Some("messages[0].content[1].image_url"));
}

#[test]
fn json_schema_output_uses_bedrock_structured_output() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let p = ok(json!({"model": "mistral-large-3", "messages": [{"role": "user", "content": "Capital of France?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema}}}));
    let format = p.request.output_config.unwrap().text_format.unwrap();
    assert_eq!(format.r#type().as_str(), "json_schema");
    let Some(OutputFormatStructure::JsonSchema(definition)) = format.structure() else { panic!("no schema") };
    assert_eq!(definition.name(), Some("City"));
    assert_eq!(serde_json::from_str::<Value>(definition.schema()).unwrap(), schema);
}

#[test]
fn json_object_is_native_where_possible_and_an_instruction_otherwise() {
    let native = ok(
        json!({"model": "mistral-large-3", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}),
    );
    assert!(native.request.output_config.is_some());
    let prompted = ok(
        json!({"model": "mistral-large", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}),
    );
    assert!(prompted.request.output_config.is_none());
    assert!(matches!(prompted.request.system.last(), Some(SystemContentBlock::Text(t)) if t.contains("JSON object")));
    let refused = err(
        json!({"model": "mistral-7b", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}),
    );
    assert_eq!(refused.param(), Some("response_format"));
}

#[test]
fn conversation_shape_is_checked() {
    assert_eq!(err(json!({"messages": []})).param(), Some("messages"));
    assert_eq!(
        err(json!({"messages": [{"role": "assistant", "content": "hello"}, {"role": "user", "content": "hi"}]}))
            .param(),
        Some("messages")
    );
    assert_eq!(
        err(json!({"model": "mistral-large", "messages": [{"role": "system", "content": "only system"}]})).param(),
        Some("messages")
    );
    assert_eq!(err(json!({"messages": [{"role": "user", "content": "  "}]})).param(), Some("messages[0].content"));
    assert_eq!(
        err(json!({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]})).param(),
        Some("messages[1]")
    );
    assert_eq!(err(json!({"messages": [{"role": "robot", "content": "hi"}]})).param(), Some("messages[0].role"));
}

#[test]
fn stream_flag_is_carried() {
    assert!(ok(json!({"messages": [{"role": "user", "content": "hi"}], "stream": true})).stream);
    assert!(!ok(json!({"messages": [{"role": "user", "content": "hi"}]})).stream);
}

/// Mistral's `thinking` chunks (litellm's `mistral/` provider sends a Magistral answer's reasoning
/// back that way) are accepted and, like `reasoning_content`, never shown to the model.
#[test]
fn thinking_chunks_in_assistant_messages_are_dropped() {
    let p = ok(json!({"model": "mistral-large-3", "messages": [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "Two and two make four."}]},
            {"type": "text", "text": "4"}
        ], "reasoning_content": "Two and two make four."},
        {"role": "user", "content": "And 3+3?"}
    ]}));
    let m = &p.request.messages;
    assert_eq!(m.len(), 3);
    assert_eq!(m[1].content(), [aws_sdk_bedrockruntime::types::ContentBlock::Text("4".into())]);

    // Reasoning alone before tool calls leaves just the calls.
    let p = ok(
        json!({"model": "mistral-large-3", "tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
            {"role": "user", "content": "Call f."},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "I should call f."}]}],
             "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}
        ]}),
    );
    assert!(p.request.messages[1].content().iter().all(|b| b.is_tool_use()));

    // Reasoning and nothing else is no message at all.
    let e = err(json!({"model": "mistral-large-3", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}]},
        {"role": "user", "content": "hi again"}
    ]}));
    assert_eq!(e.param(), Some("messages[1]"));
}

#[test]
fn thinking_chunks_outside_assistant_messages_are_refused_by_name() {
    let e = run(json!({"messages": [
        {"role": "user", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "x"}]}, {"type": "text", "text": "hi"}]}
    ]}))
    .unwrap_err();
    assert_eq!(e.param(), Some("messages[0]"));
    assert!(e.to_string().contains("content[0]") && e.to_string().contains("assistant"), "{e}");
}

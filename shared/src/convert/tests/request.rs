//! Chat-completions request → Converse input.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, Message, OutputFormatStructure, SystemContentBlock, ToolChoice,
    ToolResultContentBlock, ToolUseBlock,
};
use serde_json::{Value, json};

use super::config;
use crate::api::request::ChatRequest;
use crate::convert::document::to_json;
use crate::convert::{Prepared, prepare};
use crate::error::ApiError;

fn run(body: Value) -> Result<Prepared, ApiError> {
    let config = config();
    let request = ChatRequest::from_slice(body.to_string().as_bytes())?;
    let plan = crate::model_choice::Plan::new(&config, &request, crate::model_choice::RouteKind::Chat)?;
    prepare(&request, plan.first(), &config)
}

fn ok(body: Value) -> Prepared {
    run(body).unwrap_or_else(|e| panic!("expected success, got {e}"))
}

fn err(body: Value) -> ApiError {
    run(body).expect_err("expected an error")
}

fn texts(message: &Message) -> Vec<&str> {
    message.content().iter().filter_map(|b| b.as_text().ok().map(String::as_str)).collect()
}

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

fn tool_round_trip() -> Value {
    json!({"model": "mistral-large", "tools": [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "get_time"}}
    ], "messages": [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21}"},
        {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
        {"role": "assistant", "content": "It is 21 degrees at noon."},
        {"role": "user", "content": "And tomorrow?"},
        {"role": "assistant", "tool_calls": [
            {"id": "call_3", "function": {"name": "get_weather", "arguments": {"city": "Paris", "day": "tomorrow"}}}
        ]},
        {"role": "tool", "tool_call_id": "call_3", "content": ""}
    ]})
}

#[test]
fn tool_calls_round_trip_over_two_turns() {
    let p = ok(tool_round_trip());
    let m = &p.request.messages;
    assert_eq!(
        m.len(),
        7,
        "user, assistant(tool uses), user(results), assistant, user, assistant, user(results): {m:?}"
    );

    let uses: Vec<&ToolUseBlock> = m[1].content().iter().filter_map(|b| b.as_tool_use().ok()).collect();
    assert_eq!(m[1].content().len(), 2, "the empty assistant text is dropped");
    assert_eq!(uses[0].tool_use_id(), "call_1");
    assert_eq!(to_json(uses[0].input()), json!({"city": "Paris"}));
    assert_eq!(to_json(uses[1].input()), json!({}), "\"\" arguments become {{}}");

    assert_eq!(m[2].role(), &ConversationRole::User);
    let results: Vec<_> = m[2].content().iter().map(|b| b.as_tool_result().expect("only tool results")).collect();
    assert_eq!(results.iter().map(|r| r.tool_use_id()).collect::<Vec<_>>(), ["call_1", "call_2"]);
    assert_eq!(results[0].content()[0], ToolResultContentBlock::Text("{\"temp\": 21}".into()));

    // Second turn: Mistral-style object arguments, and an empty tool result still answered.
    let second = m[5].content()[0].as_tool_use().unwrap();
    assert_eq!(to_json(second.input()), json!({"city": "Paris", "day": "tomorrow"}));
    let last = m[6].content()[0].as_tool_result().unwrap();
    assert_eq!(last.tool_use_id(), "call_3");
    assert!(matches!(&last.content()[0], ToolResultContentBlock::Text(t) if !t.is_empty()));

    let tools = p.request.tool_config.expect("tool config");
    assert_eq!(tools.tools().len(), 2);
    assert!(matches!(tools.tool_choice(), Some(ToolChoice::Auto(_))));
}

#[test]
fn tool_results_and_a_following_user_message_share_one_turn() {
    let mut body = tool_round_trip();
    body["messages"].as_array_mut().unwrap().truncate(4);
    body["messages"].as_array_mut().unwrap().push(json!({"role": "user", "content": "Thanks, summarise."}));
    let p = ok(body);
    let last = p.request.messages.last().unwrap();
    assert_eq!(last.content().len(), 3);
    assert!(last.content()[0].is_tool_result() && last.content()[1].is_tool_result());
    assert_eq!(last.content()[2], ContentBlock::Text("Thanks, summarise.".into()));
}

#[test]
fn tool_choice_modes_map_to_bedrock() {
    let with = |choice: Value| {
        let mut body = tool_round_trip();
        body["tool_choice"] = choice;
        run(body).map(|p| p.request.tool_config.and_then(|t| t.tool_choice().cloned()))
    };
    assert!(matches!(with(json!("auto")).unwrap(), Some(ToolChoice::Auto(_))));
    assert!(matches!(with(json!("any")).unwrap(), Some(ToolChoice::Any(_))));
    assert!(matches!(with(json!("required")).unwrap(), Some(ToolChoice::Any(_))));
    match with(json!({"type": "function", "function": {"name": "get_time"}})).unwrap() {
        Some(ToolChoice::Tool(t)) => assert_eq!(t.name(), "get_time"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        with(json!({"type": "function", "function": {"name": "nope"}})).unwrap_err().param(),
        Some("tool_choice.function.name")
    );
    assert_eq!(with(json!("sometimes")).unwrap_err().param(), Some("tool_choice"));
    // `none` cannot be honoured once the conversation holds tool calls: Bedrock needs the specs.
    assert_eq!(with(json!("none")).unwrap_err().param(), Some("tools"));

    let plain = |choice: Value| {
        run(json!({"model": "mistral-large", "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": choice}))
    };
    assert!(plain(json!("none")).unwrap().request.tool_config.is_none());
}

#[test]
fn invalid_tool_arguments_are_refused_with_their_path() {
    let mut body = tool_round_trip();
    body["messages"][1]["tool_calls"][0]["function"]["arguments"] = json!("{city: Paris");
    let e = err(body);
    assert_eq!(e.status().as_u16(), 400);
    assert_eq!(e.param(), Some("messages[1].tool_calls[0].function.arguments"));
}

#[test]
fn tool_message_must_answer_a_call_and_calls_must_be_answered() {
    let e = err(json!({"model": "mistral-large", "messages": [
        {"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "ghost", "content": "x"}]}));
    assert_eq!(e.param(), Some("messages[1].tool_call_id"));

    let mut body = tool_round_trip();
    body["messages"].as_array_mut().unwrap().remove(3);
    let e = err(body);
    assert!(e.to_string().contains("call_2"), "{e}");
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
        ("parallel_tool_calls", json!(false)),
    ] {
        let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
        body[field] = value;
        let e = err(body);
        assert_eq!((e.status().as_u16(), e.param()), (400, Some(field)));
        assert_eq!(e.code(), "unsupported_parameter");
    }
    // Neutral values are accepted.
    ok(
        json!({"messages": [{"role": "user", "content": "hi"}], "seed": null, "n": 1, "presence_penalty": 0, "safe_prompt": false}),
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
    let e = err(json!({"model": "mistral-large", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}));
    assert_eq!(e.param(), Some("response_format"));
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

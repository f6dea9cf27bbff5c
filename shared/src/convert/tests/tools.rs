//! `tools`, `tool_choice` and the tool turns of a conversation → Converse.

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, ToolChoice, ToolResultContentBlock, ToolUseBlock};
use serde_json::{Value, json};

use super::{err, ok, run};
use crate::bedrock::document::to_json;

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

/// Parallel calls as older Codex releases send them: one assistant message per call, then the
/// tool messages. Bedrock gets the turn it would have got from one message with both calls.
fn calls_one_message_each() -> Value {
    json!({"model": "mistral-large", "tools": [
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "function": {"name": "get_time"}}
    ], "messages": [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": "Looking both up.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "12:00"}
    ]})
}

#[test]
fn parallel_calls_sent_one_assistant_message_each_make_one_turn() {
    let one_message_each = ok(calls_one_message_each());
    let mut merged = calls_one_message_each();
    let messages = merged["messages"].as_array_mut().unwrap();
    let second = messages.remove(2);
    messages[1]["tool_calls"].as_array_mut().unwrap().push(second["tool_calls"][0].clone());
    let one_message = ok(merged);
    assert_eq!(one_message_each.request.messages, one_message.request.messages);

    let m = &one_message_each.request.messages;
    assert_eq!(m.len(), 3, "user, assistant (text and both calls), user (both results): {m:?}");
    assert_eq!(m[1].content()[0], ContentBlock::Text("Looking both up.".into()));
    let uses: Vec<&str> = m[1].content()[1..].iter().map(|b| b.as_tool_use().unwrap().tool_use_id()).collect();
    assert_eq!(uses, ["call_1", "call_2"]);
    let results: Vec<&str> = m[2].content().iter().map(|b| b.as_tool_result().unwrap().tool_use_id()).collect();
    assert_eq!(results, ["call_1", "call_2"]);
}

#[test]
fn calls_split_over_messages_are_refused_where_their_meaning_is_not_clear() {
    // Text in a later call message would land between the calls of one turn.
    let mut body = calls_one_message_each();
    body["messages"][2]["content"] = json!("And the time.");
    assert_eq!(err(body).param(), Some("messages[2].content"));

    // A text-only assistant message after unanswered calls is still a missing answer.
    let mut body = calls_one_message_each();
    body["messages"][2] = json!({"role": "assistant", "content": "Done."});
    assert!(err(body).to_string().contains("call_1"));

    // Calls after some answers have arrived start a new turn: the earlier ones must all be answered.
    let mut body = calls_one_message_each();
    body["messages"][1]["tool_calls"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "call_3", "function": {"name": "get_time", "arguments": "{}"}}));
    let messages = body["messages"].as_array_mut().unwrap();
    let second = messages.remove(2);
    messages.insert(3, second);
    messages.push(json!({"role": "tool", "tool_call_id": "call_3", "content": "x"}));
    let e = err(body);
    assert_eq!(e.param(), Some("messages[3]"));
    assert!(e.to_string().contains("call_3"), "{e}");

    // An id used twice across the messages is refused as before.
    let mut body = calls_one_message_each();
    body["messages"][2]["tool_calls"][0]["id"] = json!("call_1");
    assert_eq!(err(body).param(), Some("messages[2].tool_calls[0].id"));
}

//! The chunk mapping event by event: what each ConverseStream event becomes.

use aws_sdk_bedrockruntime::types::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, ConversationRole,
    ConverseStreamMetadataEvent, MessageStartEvent, MessageStopEvent, ReasoningContentBlockDelta, StopReason,
    TokenUsage, ToolUseBlockDelta, ToolUseBlockStart,
};
use serde_json::{Value, json};

use super::*;
use crate::convert::response::ToolCalls;

fn start() -> ConverseStreamOutput {
    ConverseStreamOutput::MessageStart(MessageStartEvent::builder().role(ConversationRole::Assistant).build().unwrap())
}

fn text(index: i32, text: &str) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(index)
            .delta(ContentBlockDelta::Text(text.into()))
            .build()
            .unwrap(),
    )
}

fn tool_start(index: i32, id: &str, name: &str) -> ConverseStreamOutput {
    let tool = ToolUseBlockStart::builder().tool_use_id(id).name(name).build().unwrap();
    ConverseStreamOutput::ContentBlockStart(
        ContentBlockStartEvent::builder()
            .content_block_index(index)
            .start(ContentBlockStart::ToolUse(tool))
            .build()
            .unwrap(),
    )
}

fn tool_input(index: i32, input: &str) -> ConverseStreamOutput {
    let delta = ToolUseBlockDelta::builder().input(input).build().unwrap();
    ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(index)
            .delta(ContentBlockDelta::ToolUse(delta))
            .build()
            .unwrap(),
    )
}

fn block_stop(index: i32) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockStop(ContentBlockStopEvent::builder().content_block_index(index).build().unwrap())
}

fn stop(reason: StopReason) -> ConverseStreamOutput {
    ConverseStreamOutput::MessageStop(MessageStopEvent::builder().stop_reason(reason).build().unwrap())
}

fn metadata(input: i32, output: i32) -> ConverseStreamOutput {
    let usage =
        TokenUsage::builder().input_tokens(input).output_tokens(output).total_tokens(input + output).build().unwrap();
    ConverseStreamOutput::Metadata(ConverseStreamMetadataEvent::builder().usage(usage).build())
}

fn mapper() -> ChunkMapper {
    ChunkMapper::new(
        Envelope { id: "chatcmpl-test".into(), created: 1_700_000_000, model: "mistral.test".into() },
        Some(Price { input_per_million: 4.0, output_per_million: 12.0 }),
    )
}

/// The JSON of every chunk the events produce.
fn run(mapper: &mut ChunkMapper, events: &[ConverseStreamOutput]) -> Vec<Value> {
    events.iter().filter_map(|e| mapper.map(e)).map(|c| serde_json::to_value(c).unwrap()).collect()
}

#[test]
fn streams_text_with_the_role_first_and_usage_last() {
    let mut m = mapper();
    let chunks = run(
        &mut m,
        &[start(), text(0, "Hello"), text(0, " world"), block_stop(0), stop(StopReason::EndTurn), metadata(10, 2)],
    );
    assert_eq!(chunks.len(), 4, "{chunks:#?}");
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": "Hello"}));
    assert_eq!(chunks[2]["choices"][0]["delta"], json!({"content": " world"}));
    assert!(chunks[..3].iter().all(|c| c["choices"][0]["finish_reason"].is_null() && c.get("usage").is_none()));
    let last = &chunks[3];
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["usage"]["prompt_tokens"], 10);
    assert_eq!(last["usage"]["completion_tokens"], 2);
    assert_eq!(last["usage"]["total_tokens"], 12);
    assert_eq!(last["usage"]["cost_usd"], 0.000064);
    for chunk in &chunks {
        assert_eq!(chunk["id"], "chatcmpl-test");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["created"], 1_700_000_000);
        assert_eq!(chunk["model"], "mistral.test");
        assert_eq!(chunk["choices"][0]["index"], 0);
    }
    assert!(m.is_finished());
    assert!(m.end().unwrap().is_none());
}

#[test]
fn a_tool_call_goes_out_whole_when_its_block_ends() {
    let mut m = mapper();
    let chunks = run(
        &mut m,
        &[
            start(),
            tool_start(0, "tooluse_1", "get_weather"),
            tool_input(0, "{\"city\""),
            tool_input(0, ":\"Paris\"}"),
            block_stop(0),
            stop(StopReason::ToolUse),
            metadata(5, 3),
        ],
    );
    // The role, the one whole call, the last chunk: no fragment, no follow-on delta with an
    // empty name (Mistral's clients would merge it into a second, broken call).
    assert_eq!(chunks.len(), 3, "{chunks:#?}");
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    assert_eq!(
        chunks[1]["choices"][0]["delta"],
        json!({"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
    );
    assert_eq!(chunks[2]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[2]["choices"][0]["delta"], json!({}));
    assert_eq!(m.tool_calls(), 1);
}

#[test]
fn parallel_tool_calls_get_distinct_indexes_in_order_of_appearance() {
    let mut m = mapper();
    let chunks = run(
        &mut m,
        &[
            start(),
            text(0, "Let me check."),
            block_stop(0),
            tool_start(1, "a", "first"),
            tool_input(1, "{}"),
            block_stop(1),
            tool_start(2, "b", "second"),
            tool_input(2, "{\"x\""),
            tool_input(2, ":1}"),
            block_stop(2),
            stop(StopReason::ToolUse),
            metadata(1, 1),
        ],
    );
    let calls: Vec<(u64, Option<&str>, &str, &str)> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .inspect(|calls| assert_eq!(calls.len(), 1, "one call per delta"))
        .map(|calls| &calls[0])
        .map(|call| {
            (
                call["index"].as_u64().unwrap(),
                call["id"].as_str(),
                call["function"]["name"].as_str().unwrap(),
                call["function"]["arguments"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls, [(0, Some("a"), "first", "{}"), (1, Some("b"), "second", "{\"x\":1}")]);
    assert_eq!(m.tool_calls(), 2);
}

#[test]
fn with_one_tool_call_per_turn_the_later_calls_are_left_out() {
    let mut m = mapper().with_tool_calls(ToolCalls::One);
    let chunks = run(
        &mut m,
        &[
            start(),
            tool_start(0, "a", "first"),
            tool_input(0, "{\"n\":1}"),
            block_stop(0),
            tool_start(1, "b", "second"),
            tool_input(1, "{\"n\":2}"),
            block_stop(1),
            stop(StopReason::ToolUse),
            metadata(1, 1),
        ],
    );
    let calls: Vec<&Value> =
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array()).flatten().collect();
    assert_eq!(
        calls,
        [&json!({"index": 0, "id": "a", "type": "function", "function": {"name": "first", "arguments": "{\"n\":1}"}})]
    );
    assert_eq!(m.tool_calls(), 1);
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn a_call_whose_block_never_ends_goes_out_whole_before_the_last_chunk() {
    let mut m = mapper();
    let chunks = run(&mut m, &[start(), tool_start(0, "a", "first"), stop(StopReason::ToolUse), metadata(1, 1)]);
    assert_eq!(chunks.len(), 3, "{chunks:#?}");
    assert_eq!(
        chunks[1]["choices"][0]["delta"]["tool_calls"],
        json!([{"index": 0, "id": "a", "type": "function", "function": {"name": "first", "arguments": "{}"}}])
    );
    assert!(chunks[1]["choices"][0]["finish_reason"].is_null());
    assert_eq!(chunks[2]["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn a_stream_cut_inside_a_tool_call_sends_no_partial_call() {
    let mut m = mapper();
    let chunks = run(&mut m, &[start(), tool_start(0, "a", "first"), tool_input(0, "{\"n\"")]);
    assert!(chunks.iter().all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()), "{chunks:#?}");
    assert_eq!(m.end().unwrap_err().status().as_u16(), 502);
}

#[test]
fn empty_deltas_produce_no_chunk_and_reasoning_stays_out_of_the_content() {
    let mut m = mapper();
    let reasoning = ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(1)
            .delta(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text("hmm".into())))
            .build()
            .unwrap(),
    );
    let chunks =
        run(&mut m, &[start(), text(0, ""), reasoning, text(2, "Hi"), stop(StopReason::EndTurn), metadata(1, 1)]);
    let contents: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(
        contents,
        [
            &json!({"role": "assistant", "content": ""}),
            &json!({"reasoning_content": "hmm"}),
            &json!({"content": "Hi"}),
            &json!({}),
        ]
    );
}

#[test]
fn the_role_rides_on_the_first_chunk_even_without_message_start() {
    let mut m = mapper();
    let chunks = run(&mut m, &[text(0, "Hi"), stop(StopReason::MaxTokens), metadata(1, 1)]);
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": "Hi"}));
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "length");
}

#[test]
fn a_stream_cut_before_message_stop_is_an_error() {
    let mut m = mapper();
    run(&mut m, &[start(), text(0, "Hi")]);
    let error = m.end().unwrap_err();
    assert_eq!(error.status().as_u16(), 502);
}

#[test]
fn a_stream_without_metadata_still_ends_with_finish_and_usage() {
    let mut m = mapper();
    run(&mut m, &[start(), text(0, "Hi"), stop(StopReason::EndTurn)]);
    let last = serde_json::to_value(m.end().unwrap().unwrap()).unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["total_tokens"], 0);
}

//! A whole Converse answer replayed as events maps to the chunks a live stream would give.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseMetrics, ConverseOutput as Output, Message, StopReason, TokenUsage,
    ToolUseBlock,
};
use serde_json::json;

use super::ChunkMapper;
use crate::bedrock::document::to_document;
use crate::bedrock::replay::events;
use crate::convert::response::Envelope;

#[test]
fn a_converse_answer_replays_as_role_content_tool_calls_finish_and_usage() {
    let call = ToolUseBlock::builder()
        .tool_use_id("tooluse_1")
        .name("get_weather")
        .input(to_document(&json!({"city": "Paris"})))
        .build()
        .unwrap();
    let message = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text("Checking.".into()))
        .content(ContentBlock::ToolUse(call))
        .build()
        .unwrap();
    let output = ConverseOutput::builder()
        .output(Output::Message(message))
        .stop_reason(StopReason::ToolUse)
        .usage(TokenUsage::builder().input_tokens(7).output_tokens(5).total_tokens(12).build().unwrap())
        .metrics(ConverseMetrics::builder().latency_ms(3).build().unwrap())
        .build()
        .unwrap();

    let mut mapper = ChunkMapper::new(Envelope::new("mistral.test"), None);
    let chunks: Vec<serde_json::Value> = events(&output)
        .unwrap()
        .iter()
        .filter_map(|e| mapper.map(e))
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let deltas: Vec<&serde_json::Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(
        deltas,
        [
            &json!({"role": "assistant", "content": ""}),
            &json!({"content": "Checking."}),
            &json!({"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}),
            &json!({}),
        ]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(last["usage"]["total_tokens"], 12);
    assert!(mapper.is_finished());
}

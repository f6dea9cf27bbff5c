//! Converse output → chat-completions response.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput as Output, Message, StopReason, TokenUsage, ToolUseBlock,
};
use serde_json::{Value, json};

use super::config;
use crate::api::response::FinishReason;
use crate::bedrock::document::to_document;
use crate::config::{Config, Env};
use crate::convert::response::{Envelope, ToolCalls, completion_from_converse, finish_reason};

fn output(content: Vec<ContentBlock>, stop: StopReason) -> ConverseOutput {
    ConverseOutput::builder()
        .output(Output::Message(
            Message::builder().role(ConversationRole::Assistant).set_content(Some(content)).build().unwrap(),
        ))
        .stop_reason(stop)
        .usage(TokenUsage::builder().input_tokens(1000).output_tokens(500).total_tokens(1500).build().unwrap())
        .build()
        .unwrap()
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    let cases = [
        (StopReason::EndTurn, FinishReason::Stop),
        (StopReason::StopSequence, FinishReason::Stop),
        (StopReason::ToolUse, FinishReason::ToolCalls),
        (StopReason::MaxTokens, FinishReason::Length),
        (StopReason::ModelContextWindowExceeded, FinishReason::Length),
        (StopReason::GuardrailIntervened, FinishReason::ContentFilter),
        (StopReason::ContentFiltered, FinishReason::ContentFilter),
    ];
    for (stop, finish) in cases {
        assert_eq!(finish_reason(&stop), finish, "{stop:?}");
    }
}

#[test]
fn converse_output_becomes_a_chat_completion_with_cost() {
    let config = config();
    let large = &config.models[0];
    let out = output(
        vec![
            ContentBlock::Text("Let me check.".into()),
            ContentBlock::ToolUse(
                ToolUseBlock::builder()
                    .tool_use_id("tooluse_1")
                    .name("get_weather")
                    .input(to_document(&json!({"city": "Paris"})))
                    .build()
                    .unwrap(),
            ),
        ],
        StopReason::ToolUse,
    );
    let completion = completion_from_converse(&out, Envelope::new(&large.id), large.price.as_ref());
    let json = serde_json::to_value(&completion).unwrap();
    assert_eq!(json["object"], "chat.completion");
    assert!(json["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(json["model"], "mistral.mistral-large-2407-v1:0");
    assert_eq!(json["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(json["choices"][0]["message"]["content"], "Let me check.");
    let call = &json["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(
        (call["id"].as_str(), call["type"].as_str(), call["function"]["name"].as_str()),
        (Some("tooluse_1"), Some("function"), Some("get_weather"))
    );
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(
        json["usage"],
        json!({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500, "cost_usd": 0.01})
    );
}

#[test]
fn unknown_prices_give_no_cost_figure() {
    // Every catalog model has a published price; a model the catalog does not know yet has none.
    let config = Config::load(&Env::from_pairs([("BEDROCK_MODEL_IDS", "mistral.future-model-v1:0")])).unwrap();
    let future = &config.models[0];
    let out = output(vec![ContentBlock::Text("{}".into())], StopReason::EndTurn);
    let json =
        serde_json::to_value(completion_from_converse(&out, Envelope::new(&future.id), future.price.as_ref())).unwrap();
    assert!(json["usage"].get("cost_usd").is_none());
    assert_eq!(json["choices"][0]["message"]["content"], "{}");
    assert!(json["choices"][0]["message"].get("tool_calls").is_none());
}

fn call(id: &str, name: &str, n: i64) -> ContentBlock {
    ContentBlock::ToolUse(
        ToolUseBlock::builder().tool_use_id(id).name(name).input(to_document(&json!({"n": n}))).build().unwrap(),
    )
}

#[test]
fn one_tool_call_per_turn_keeps_the_first_call_and_the_text() {
    let blocks = vec![ContentBlock::Text("Checking.".into()), call("a", "first", 1), call("b", "second", 2)];
    let names = |out: &ConverseOutput| -> Vec<String> {
        let json = serde_json::to_value(completion_from_converse(out, Envelope::new("m"), None)).unwrap();
        json["choices"][0]["message"]["tool_calls"].as_array().unwrap().iter().map(|c| c["id"].to_string()).collect()
    };

    let mut parallel = output(blocks.clone(), StopReason::ToolUse);
    assert_eq!(ToolCalls::of(None).limit(&mut parallel), 0);
    assert_eq!(ToolCalls::of(Some(true)).limit(&mut parallel), 0);
    assert_eq!(names(&parallel), ["\"a\"", "\"b\""]);

    let mut one = output(blocks, StopReason::ToolUse);
    assert_eq!(ToolCalls::of(Some(false)).limit(&mut one), 1);
    assert_eq!(names(&one), ["\"a\""]);
    let json = serde_json::to_value(completion_from_converse(&one, Envelope::new("m"), None)).unwrap();
    let message = &json["choices"][0]["message"];
    assert_eq!(message["content"], "Checking.");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "first");
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], "{\"n\":1}");
    assert_eq!(json["choices"][0]["finish_reason"], "tool_calls");
}

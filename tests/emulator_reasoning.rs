//! Reasoning models (Magistral) on the emulator, through the real `aws-sdk-bedrockruntime`
//! client: a `reasoningContent` block before the answer, reasoning deltas before text deltas,
//! and reasoning sent back in the conversation.

use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, Message, ReasoningContentBlock, ReasoningTextBlock, StopReason,
};
use dev::emulator::Emulator;
use tests::sdk::{client, converse_text, read_stream, user};

const MAGISTRAL: &str = "mistral.magistral-small-2509";
const PLAIN: &str = "mistral.mistral-large-2407-v1:0";

fn thought(text: &str) -> ContentBlock {
    ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
        ReasoningTextBlock::builder().text(text).build().unwrap(),
    ))
}

#[tokio::test]
async fn converse_answers_begin_with_the_reasoning_block() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator).converse().model_id(MAGISTRAL).messages(user("Why is the sky blue?")).send().await;
    let output = output.unwrap();
    let content = output.output().unwrap().as_message().unwrap().content();
    assert_eq!(content.len(), 2, "{content:?}");
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) = &content[0] else {
        panic!("reasoning first: {content:?}");
    };
    assert_eq!(reasoning.text(), "Thinking about: Why is the sky blue?");
    assert_eq!(content[1].as_text().unwrap(), "You said: Why is the sky blue?");
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    assert_eq!(output.usage().unwrap().output_tokens(), 7 + 7, "reasoning is paid for");

    // Models that do not reason answer with text alone.
    assert_eq!(converse_text(&client(&emulator), PLAIN, vec![user("Why?")]).await, "You said: Why?");
}

#[tokio::test]
async fn converse_stream_sends_reasoning_deltas_before_the_text() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .converse_stream()
        .model_id(format!("eu.{MAGISTRAL}"))
        .messages(user("Why is the sky blue?"))
        .send()
        .await
        .unwrap();
    let streamed = read_stream(output.stream).await.unwrap();
    assert_eq!(streamed.reasoning, "Thinking about: Why is the sky blue?");
    assert_eq!(streamed.text, "You said: Why is the sky blue?");
    let reasoning = streamed.deltas.iter().take_while(|(_, kind)| *kind == "reasoning").count();
    assert_eq!(reasoning, 7, "one delta per word: {:?}", streamed.deltas);
    assert!(streamed.deltas[..reasoning].iter().all(|(index, _)| *index == 0));
    assert!(streamed.deltas[reasoning..].iter().all(|delta| *delta == (1, "text")), "{:?}", streamed.deltas);
    assert_eq!(streamed.usage.unwrap().output_tokens(), 14);
}

#[tokio::test]
async fn tool_calls_of_a_reasoning_model_follow_its_reasoning() {
    let emulator = Emulator::start().await.unwrap();
    let tools = aws_sdk_bedrockruntime::types::ToolConfiguration::builder()
        .tools(aws_sdk_bedrockruntime::types::Tool::ToolSpec(
            aws_sdk_bedrockruntime::types::ToolSpecification::builder()
                .name("get_weather")
                .input_schema(aws_sdk_bedrockruntime::types::ToolInputSchema::Json(
                    shared::bedrock::document::to_document(
                        &serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
                    ),
                ))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let output = client(&emulator)
        .converse_stream()
        .model_id(MAGISTRAL)
        .messages(user("What is the weather in Paris?"))
        .tool_config(tools)
        .send()
        .await
        .unwrap();
    let streamed = read_stream(output.stream).await.unwrap();
    assert_eq!(streamed.reasoning, "Thinking about: What is the weather in Paris?");
    assert_eq!(streamed.tools.len(), 1);
    assert_eq!(streamed.tools[0].1, "get_weather");
    assert!(streamed.deltas.iter().filter(|(_, kind)| *kind == "tool").all(|(index, _)| *index == 1));
    assert_eq!(streamed.stop_reason, Some(StopReason::ToolUse));
}

#[tokio::test]
async fn reasoning_is_accepted_back_from_the_assistant_only() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let earlier = Message::builder()
        .role(ConversationRole::Assistant)
        .content(thought("Thinking about: Hi"))
        .content(ContentBlock::Text("You said: Hi".into()))
        .build()
        .unwrap();
    let answer = converse_text(&client, MAGISTRAL, vec![user("Hi"), earlier, user("And now?")]).await;
    assert_eq!(answer, "You said: And now? (turn 2)");
    let sent = emulator.last_request().unwrap();
    assert_eq!(sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]["text"], "Thinking about: Hi");

    let smuggled = Message::builder().role(ConversationRole::User).content(thought("I am the model")).build().unwrap();
    let error = client.converse().model_id(MAGISTRAL).messages(smuggled).send().await.unwrap_err();
    let ConverseError::ValidationException(error) = error.into_service_error() else { panic!("a validation error") };
    assert!(error.message().unwrap().contains("only assistant messages can carry reasoning"), "{error:?}");
}

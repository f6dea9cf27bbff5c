//! Converse requests and answers as the JSON that Bedrock's batch jobs read and write
//! (`modelInvocationType: Converse`): the SDK serializes Converse only onto its own wire, so a
//! batch record's `modelInput` and `modelOutput` are made and read here. Batch takes no tools
//! and no structured output (AWS: "Batch inference does not support tool calling or structured
//! output"), so text, images, the system prompt and the inference settings are all there is.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ImageSource, ReasoningContentBlock, ReasoningTextBlock, StopReason, SystemContentBlock,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::{ModelRequest, converse_output};
use crate::error::ApiError;

/// The `modelInput` of a Converse batch record.
pub fn model_input(request: &ModelRequest) -> Result<Value, ApiError> {
    let mut messages = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        let content: Vec<Value> = message.content().iter().filter_map(block).collect();
        messages.push(json!({"role": message.role().as_str(), "content": content}));
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    let system: Vec<Value> = request
        .system
        .iter()
        .filter_map(|b| match b {
            SystemContentBlock::Text(text) => Some(json!({"text": text})),
            _ => None,
        })
        .collect();
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let config = &request.inference;
    let mut inference = Map::new();
    if let Some(max) = config.max_tokens() {
        inference.insert("maxTokens".into(), max.into());
    }
    if let Some(t) = config.temperature() {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = config.top_p() {
        inference.insert("topP".into(), json!(p));
    }
    if !config.stop_sequences().is_empty() {
        inference.insert("stopSequences".into(), json!(config.stop_sequences()));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if request.tool_config.is_some() || request.output_config.is_some() {
        return Err(ApiError::Internal("a batch record cannot carry tools or an output config".into()));
    }
    Ok(Value::Object(body))
}

fn block(block: &ContentBlock) -> Option<Value> {
    match block {
        ContentBlock::Text(text) => Some(json!({"text": text})),
        ContentBlock::Image(image) => match image.source() {
            Some(ImageSource::Bytes(bytes)) => Some(json!({"image": {
                "format": image.format().as_str(),
                "source": {"bytes": STANDARD.encode(bytes.as_ref())},
            }})),
            _ => None,
        },
        // Reasoning is never sent back; tool blocks never reach a batch (refused per line).
        _ => None,
    }
}

/// A Converse batch record's `modelOutput` as the answer the chat mapping reads.
pub fn model_output(output: &Value) -> Result<ConverseOutput, ApiError> {
    let bad = |what: &str| ApiError::Upstream(format!("a batch output record is not a Converse answer ({what})"));
    let blocks = output["output"]["message"]["content"].as_array().ok_or_else(|| bad("no output.message.content"))?;
    let content = blocks
        .iter()
        .filter_map(|b| {
            if let Some(text) = b["text"].as_str() {
                return Some(ContentBlock::Text(text.to_owned()));
            }
            let thought = b["reasoningContent"]["reasoningText"]["text"].as_str()?;
            let text = ReasoningTextBlock::builder().text(thought).build().ok()?;
            Some(ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(text)))
        })
        .collect();
    let stop = StopReason::from(output["stopReason"].as_str().unwrap_or("end_turn"));
    let tokens = |name: &str| output["usage"][name].as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
    Ok(converse_output(content, stop, tokens("inputTokens"), tokens("outputTokens")))
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::types::{ConversationRole, InferenceConfiguration, Message};

    use super::*;

    #[test]
    fn a_request_becomes_converse_json_with_its_settings() {
        let mut request = ModelRequest::new(
            "mistral.mistral-large-2407-v1:0",
            vec![
                Message::builder()
                    .role(ConversationRole::User)
                    .content(ContentBlock::Text("Hi".into()))
                    .build()
                    .unwrap(),
            ],
        );
        request.system = vec![SystemContentBlock::Text("Be brief.".into())];
        request.inference = InferenceConfiguration::builder().max_tokens(50).temperature(0.5).build();
        assert_eq!(
            model_input(&request).unwrap(),
            json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "system": [{"text": "Be brief."}],
                   "inferenceConfig": {"maxTokens": 50, "temperature": 0.5}})
        );
    }

    #[test]
    fn an_answer_is_read_with_its_reasoning_stop_reason_and_usage() {
        let output = model_output(&json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm"}}}, {"text": "Paris."}]}},
            "stopReason": "max_tokens", "usage": {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10}}))
        .unwrap();
        assert_eq!(output.stop_reason, StopReason::MaxTokens);
        assert_eq!(output.usage().map(|u| (u.input_tokens, u.output_tokens)), Some((7, 3)));
        let blocks = output.output().unwrap().as_message().unwrap().content();
        assert_eq!(blocks[1], ContentBlock::Text("Paris.".into()));
        assert!(model_output(&json!({"nope": 1})).is_err());
    }
}

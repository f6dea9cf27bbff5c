//! The answer of a request asked for JSON through its output tool (`json_schema` on a model
//! without native structured output): the tool's call is the answer, so it is turned back into
//! the text a native structured answer would have been, before anyone reads it (the cascade
//! checks, the chat mapping, a replayed stream, the tool loop).

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConverseOutput as Output, StopReason};

use super::document::to_json;
use super::{Bedrock, ModelRequest};
use crate::error::ApiError;

/// One whole answer to `request`, its output tool's call turned into text: the one way the
/// gateway asks Bedrock for a whole answer.
pub async fn answer(bedrock: &dyn Bedrock, request: ModelRequest) -> Result<ConverseOutput, ApiError> {
    let tool = request.output_tool.clone();
    let output = bedrock.answer(request).await?;
    Ok(match tool {
        Some(name) => as_text(output, &name),
        None => output,
    })
}

/// `output` with the first call of `tool` as a text block of its input's JSON (later calls of it
/// dropped). When no other tool is called, the answer ends its turn as a text answer does.
pub fn as_text(mut output: ConverseOutput, tool: &str) -> ConverseOutput {
    let Some(Output::Message(message)) = &mut output.output else { return output };
    let mut answered = false;
    let mut content = Vec::with_capacity(message.content.len());
    for block in std::mem::take(&mut message.content) {
        match block {
            ContentBlock::ToolUse(call) if call.name() == tool => {
                if !answered {
                    content.push(ContentBlock::Text(to_json(call.input()).to_string()));
                    answered = true;
                }
            }
            other => content.push(other),
        }
    }
    let calls_left = content.iter().any(|block| matches!(block, ContentBlock::ToolUse(_)));
    message.content = content;
    if answered && !calls_left && output.stop_reason == StopReason::ToolUse {
        output.stop_reason = StopReason::EndTurn;
    }
    output
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bedrock::fake;

    fn blocks(output: &ConverseOutput) -> Vec<ContentBlock> {
        output.output().and_then(|o| o.as_message().ok()).map(|m| m.content().to_vec()).unwrap_or_default()
    }

    #[test]
    fn the_output_tool_call_becomes_the_text_and_ends_the_turn() {
        let output = fake::tool_calls(&[("t1", "city", json!({"city": "Paris"}))], 3, 4);
        let text = as_text(output, "city");
        assert_eq!(blocks(&text), vec![ContentBlock::Text(r#"{"city":"Paris"}"#.into())]);
        assert_eq!(text.stop_reason, StopReason::EndTurn);
        assert_eq!(text.usage().map(|u| u.output_tokens), Some(4));
    }

    #[test]
    fn other_tool_calls_stay_and_keep_the_turn_a_tool_turn() {
        let calls = [
            ("t1", "get_weather", json!({"city": "Paris"})),
            ("t2", "city", json!({"city": "Paris"})),
            ("t3", "city", json!({"city": "Rome"})),
        ];
        let text = as_text(fake::tool_calls(&calls, 3, 4), "city");
        let kept = blocks(&text);
        assert_eq!(kept.len(), 2);
        assert!(matches!(&kept[0], ContentBlock::ToolUse(call) if call.name() == "get_weather"));
        assert_eq!(kept[1], ContentBlock::Text(r#"{"city":"Paris"}"#.into()));
        assert_eq!(text.stop_reason, StopReason::ToolUse);
    }

    #[test]
    fn answers_without_the_tool_are_unchanged() {
        let plain = fake::text("Paris.", 1, 1);
        assert_eq!(as_text(plain.clone(), "city"), plain);
    }
}

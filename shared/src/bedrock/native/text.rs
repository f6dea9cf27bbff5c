//! Mistral's native text-completion body (Mistral 7B, Mixtral, Small and Large 24.02): the
//! conversation as one `[INST]` prompt, system text folded into the first instruction (Mistral's
//! prompt format has no system role), answered by `outputs[].text`.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole};
use serde_json::{Map, Value, json};

use super::{Tokens, metrics, stop_reason};
use crate::bedrock::{ModelRequest, converse_output};
use crate::error::ApiError;

pub fn body(request: &ModelRequest) -> Result<Value, ApiError> {
    let mut system: Vec<&str> = request.system.iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect();
    let mut prompt = String::from("<s>");
    for message in &request.messages {
        let text: Vec<&str> = message.content().iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect();
        let text = text.join("\n");
        match message.role() {
            ConversationRole::Assistant => {
                prompt.push(' ');
                prompt.push_str(&text);
                prompt.push_str("</s>");
            }
            _ => {
                let instruction = match system.is_empty() {
                    true => text,
                    false => format!("{}\n\n{text}", std::mem::take(&mut system).join("\n")),
                };
                prompt.push_str(&format!("[INST] {instruction} [/INST]"));
            }
        }
    }
    let mut body = Map::new();
    body.insert("prompt".into(), Value::String(prompt));
    super::sampling(request, &mut body);
    let inference = &request.inference;
    if !inference.stop_sequences().is_empty() {
        body.insert("stop".into(), json!(inference.stop_sequences()));
    }
    Ok(Value::Object(body))
}

/// `{"outputs": [{"text": ..., "stop_reason": ...}]}` as a Converse output.
pub fn answer(body: &Value, tokens: Option<Tokens>) -> Result<ConverseOutput, ApiError> {
    let output = &body["outputs"][0];
    let text = output["text"].as_str().ok_or_else(|| {
        ApiError::Upstream("Bedrock's native answer has no outputs[0].text. Retry the request.".into())
    })?;
    let tokens = tokens.or_else(|| metrics(body)).unwrap_or_default();
    let reason = output["stop_reason"].as_str();
    Ok(converse_output(
        vec![ContentBlock::Text(text.trim_start().to_owned())],
        stop_reason(reason, body),
        tokens.input,
        tokens.output,
    ))
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::types::{Message, SystemContentBlock};

    use super::*;

    fn message(role: ConversationRole, text: &str) -> Message {
        Message::builder().role(role).content(ContentBlock::Text(text.into())).build().unwrap()
    }

    #[test]
    fn turns_become_one_inst_prompt_with_the_system_text_folded_in() {
        let mut request = ModelRequest::new(
            "mistral.mixtral-8x7b-instruct-v0:1",
            vec![
                message(ConversationRole::User, "Hi"),
                message(ConversationRole::Assistant, "Hello!"),
                message(ConversationRole::User, "Bye"),
            ],
        );
        request.system = vec![SystemContentBlock::Text("Be brief.".into())];
        let body = body(&request).unwrap();
        assert_eq!(body["prompt"], "<s>[INST] Be brief.\n\nHi [/INST] Hello!</s>[INST] Bye [/INST]");
    }
}

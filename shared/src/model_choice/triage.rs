//! The `triage` call: the cheapest tier with structured output reads the conversation (its
//! latest [`TRIAGE_MAX_CHARS`] characters) and says how hard it is, in a few tokens. Whatever goes
//! wrong (a fault, a timeout, an answer that is not the schema's JSON) is recorded and yields
//! `None`, never an error: the request then starts at the cheapest tier, as `cascade` would.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, JsonSchemaDefinition, Message, OutputConfig, OutputFormat,
    OutputFormatStructure, OutputFormatType,
};
use tokio::time::{Instant, timeout_at};

use super::ledger::Ledger;
use super::protocol::{
    Difficulty, TRIAGE_INSTRUCTION, TRIAGE_MAX_CHARS, TRIAGE_SCHEMA_NAME, read_triage, triage_schema,
};
use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart};
use crate::bedrock::{Bedrock, ModelRequest};
use crate::config::{AllowedModel, Config};

/// The most tokens a triage answer needs (`{"difficulty": "medium"}`).
const TRIAGE_MAX_TOKENS: i32 = 24;

/// The model that triages: the cheapest tier with native structured output.
pub fn triage_model(config: &Config) -> Option<&AllowedModel> {
    config.tiers().find(|m| m.capabilities.json_schema)
}

/// Asks `model` how hard `request` is; records the call in `ledger`.
pub async fn classify(
    bedrock: &dyn Bedrock,
    model: &AllowedModel,
    request: &ChatRequest,
    ledger: &mut Ledger,
    deadline: Instant,
) -> Option<Difficulty> {
    let call = match triage_request(model, request) {
        Ok(call) => call,
        Err(why) => {
            ledger.record_triage(model, Err(why), None);
            return None;
        }
    };
    match timeout_at(deadline, bedrock.complete(call)).await {
        Err(_) => {
            ledger.record_triage(model, Err("the triage call ran out of time".into()), None);
            None
        }
        Ok(Err(error)) => {
            ledger.record_triage(model, Err(format!("the triage call failed: {}", error.code())), None);
            None
        }
        Ok(Ok(output)) => {
            let text: String = output
                .output()
                .and_then(|o| o.as_message().ok())
                .map(|m| m.content().iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect())
                .unwrap_or_default();
            let difficulty = read_triage(&text).ok_or_else(|| "the triage answer is not the schema's JSON".to_owned());
            tracing::info!(model = %model.id, difficulty = ?difficulty.as_ref().ok(), "triage");
            ledger.record_triage(model, difficulty.clone(), output.usage());
            difficulty.ok()
        }
    }
}

fn triage_request(model: &AllowedModel, request: &ChatRequest) -> Result<ModelRequest, String> {
    let prompt = format!("{TRIAGE_INSTRUCTION}{}", transcript(request, TRIAGE_MAX_CHARS));
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(prompt))
        .build()
        .map_err(|e| e.to_string())?;
    let definition = JsonSchemaDefinition::builder()
        .name(TRIAGE_SCHEMA_NAME)
        .schema(triage_schema().to_string())
        .build()
        .map_err(|e| e.to_string())?;
    let format = OutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(definition))
        .build()
        .map_err(|e| e.to_string())?;
    let mut call = ModelRequest::new(model.id.clone(), vec![message]);
    call.inference = InferenceConfiguration::builder().max_tokens(TRIAGE_MAX_TOKENS).temperature(0.0).build();
    call.output_config = Some(OutputConfig::builder().text_format(format).build());
    Ok(call)
}

/// The conversation as `role: text` lines, its latest `limit` characters.
pub fn transcript(request: &ChatRequest, limit: usize) -> String {
    let mut lines = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        let (role, content) = match message {
            ChatMessage::System { content } => ("system", Some(content)),
            ChatMessage::User { content } => ("user", Some(content)),
            ChatMessage::Assistant { content, .. } => ("assistant", content.as_ref()),
            ChatMessage::Tool { content, .. } => ("tool", Some(content)),
        };
        let text = match content {
            None => String::new(),
            Some(Content::Text(text)) => text.clone(),
            Some(Content::Parts(parts)) => parts
                .iter()
                .map(|part| match part {
                    ContentPart::Text { text } => text.as_str(),
                    ContentPart::ImageUrl { .. } => "[image]",
                })
                .collect::<Vec<_>>()
                .join(" "),
        };
        lines.push(format!("{role}: {text}"));
    }
    let all = lines.join("\n");
    let skip = all.chars().count().saturating_sub(limit);
    all.chars().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_transcript_keeps_the_latest_characters() {
        let request = ChatRequest::from_value(json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": [{"type": "text", "text": "the hard one"}, {"type": "image_url", "image_url": "data:image/png;base64,AA"}]}
        ]}))
        .unwrap();
        let full = transcript(&request, 10_000);
        assert_eq!(full, "system: Be brief.\nuser: first question\nassistant: an answer\nuser: the hard one [image]");
        assert_eq!(transcript(&request, 20), "user: the hard one [image]"[6..]);
    }
}

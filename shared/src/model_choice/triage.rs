//! The `triage` call: the cheapest tier that can answer in structured output reads the
//! conversation (its latest [`TRIAGE_MAX_CHARS`] characters) and says how hard it is, in a few
//! tokens. The call is a conversation like any other, finished for the triage model by the same
//! request builder (so a model configured for its native body gets its native body), and made
//! by the router. Whatever goes wrong (a fault, a timeout, an answer that is not the schema's
//! JSON) is recorded and yields no difficulty, never an error: the request then starts at the
//! cheapest tier, as `cascade` would.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, InferenceConfiguration, Message};

use super::protocol::{
    Difficulty, TRIAGE_INSTRUCTION, TRIAGE_MAX_CHARS, TRIAGE_SCHEMA_NAME, read_triage, triage_schema,
};
use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart, JsonSchemaFormat, ResponseFormat};
use crate::config::{AllowedModel, Config};
use crate::convert::Conversation;
use crate::error::ApiError;

/// The most tokens a triage answer needs (`{"difficulty": "medium"}`).
const TRIAGE_MAX_TOKENS: i32 = 24;

/// The triage call for `request`.
pub fn conversation(request: &ChatRequest) -> Result<Conversation, ApiError> {
    let prompt = format!("{TRIAGE_INSTRUCTION}{}", transcript(request, TRIAGE_MAX_CHARS));
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(prompt))
        .build()
        .map_err(|e| ApiError::Internal(format!("could not build the triage call: {e}")))?;
    let mut call = Conversation::of_messages(vec![message]);
    call.inference = InferenceConfiguration::builder().max_tokens(TRIAGE_MAX_TOKENS).temperature(0.0).build();
    call.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: Some(TRIAGE_SCHEMA_NAME.to_owned()),
            description: None,
            schema: Some(triage_schema()),
            strict: None,
        },
    });
    Ok(call)
}

/// The model that triages: the cheapest tier the triage call can be made for (it needs
/// structured output) among those `allowed` (the caller's key may use).
pub fn triage_model<'c>(
    config: &'c Config,
    call: &Conversation,
    allowed: impl Fn(&AllowedModel) -> bool,
) -> Option<&'c AllowedModel> {
    config.tiers().find(|m| allowed(m) && call.fit(m).is_ok())
}

/// The difficulty a triage answer names, or why it names none.
pub fn read(output: &ConverseOutput) -> Result<Difficulty, String> {
    let text: String = output
        .output()
        .and_then(|o| o.as_message().ok())
        .map(|m| m.content().iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect())
        .unwrap_or_default();
    read_triage(&text).ok_or_else(|| "the triage answer is not the schema's JSON".to_owned())
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

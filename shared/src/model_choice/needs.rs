//! What a request uses, and whether a model can serve it: the capability filter every policy
//! applies before choosing among models.

use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart, ResponseFormat};
use crate::config::AllowedModel;

/// The capabilities a request needs and its prompt size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub tools: bool,
    pub json_schema: bool,
    pub system_prompt: bool,
    pub images: bool,
    /// Characters of text in the conversation.
    pub chars: usize,
}

impl Needs {
    pub fn of(request: &ChatRequest) -> Self {
        let mut needs = Needs {
            tools: request.tools.as_ref().is_some_and(|t| !t.is_empty()),
            json_schema: matches!(request.response_format, Some(ResponseFormat::JsonSchema { .. })),
            ..Needs::default()
        };
        for message in &request.messages {
            let content = match message {
                ChatMessage::System { content } => {
                    needs.system_prompt = true;
                    Some(content)
                }
                ChatMessage::User { content } | ChatMessage::Tool { content, .. } => Some(content),
                ChatMessage::Assistant { content, .. } => content.as_ref(),
            };
            match content {
                Some(Content::Text(text)) => needs.chars += text.len(),
                Some(Content::Parts(parts)) => {
                    for part in parts {
                        match part {
                            ContentPart::Text { text } => needs.chars += text.len(),
                            ContentPart::ImageUrl { .. } => needs.images = true,
                        }
                    }
                }
                None => {}
            }
        }
        needs
    }

    /// True when `model` can do everything the request uses.
    pub fn served_by(&self, model: &AllowedModel) -> bool {
        let c = model.capabilities;
        (!self.tools || c.tools)
            && (!self.json_schema || c.json_schema)
            && (!self.system_prompt || c.system_prompt)
            && (!self.images || c.images)
    }
}

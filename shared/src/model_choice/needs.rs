//! What the static choice (`rules`) reads of a request: whether it uses tools, and how long its
//! prompt is. Whether a model can take a request at all is the request's own question
//! ([`crate::convert::Conversation::fit`]), asked of every model before it is put on a ladder.

use crate::api::request::{ChatMessage, ChatRequest, Content, ContentPart};

/// What a request uses that the `rules` policy weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub tools: bool,
    /// Characters (not bytes: a CJK character is one) of text in the conversation.
    pub chars: usize,
}

impl Needs {
    pub fn of(request: &ChatRequest) -> Self {
        let mut needs = Needs { tools: request.tools.as_ref().is_some_and(|t| !t.is_empty()), ..Needs::default() };
        for message in &request.messages {
            let content = match message {
                ChatMessage::System { content } | ChatMessage::User { content } | ChatMessage::Tool { content, .. } => {
                    Some(content)
                }
                ChatMessage::Assistant { content, .. } => content.as_ref(),
            };
            match content {
                Some(Content::Text(text)) => needs.chars += text.chars().count(),
                Some(Content::Parts(parts)) => {
                    for part in parts {
                        if let ContentPart::Text { text } = part {
                            needs.chars += text.chars().count();
                        }
                    }
                }
                None => {}
            }
        }
        needs
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_prompt_is_measured_in_characters_not_bytes() {
        let request =
            |text: String| ChatRequest::from_value(json!({"messages": [{"role": "user", "content": text}]})).unwrap();
        assert_eq!(Needs::of(&request("漢".repeat(1500))).chars, 1500);
        assert_eq!(Needs::of(&request("x".repeat(1500))).chars, 1500);
    }
}

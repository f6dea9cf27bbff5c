//! The conversation's shape, as Bedrock checks it: roles that alternate from a user message,
//! no empty content, and tool results that answer exactly the previous turn's tool calls.

use serde_json::Value;

use super::{constraint, invalid};
use crate::emulator::faults::BedrockError;

const START_WITH_USER: &str =
    "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
const ALTERNATE_ROLES: &str = "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";

fn blocks<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"].as_array().into_iter().flatten().filter_map(|block| block.get(kind)).collect()
}

fn tool_use_ids(message: &Value, kind: &str) -> Vec<String> {
    blocks(message, kind).into_iter().map(|block| block["toolUseId"].as_str().unwrap_or_default().to_owned()).collect()
}

/// `reasoningContent` blocks: only in assistant messages (a model's earlier thinking sent
/// back), and holding `reasoningText.text` or `redactedContent`.
fn reasoning(message: &Value, index: usize) -> Result<(), BedrockError> {
    for block in blocks(message, "reasoningContent") {
        if message["role"] != "assistant" {
            return invalid(format!(
                "messages.{index}.content holds a reasoningContent block, but only assistant messages can carry reasoning."
            ));
        }
        let text = block["reasoningText"]["text"].is_string();
        let redacted = block["redactedContent"].is_string();
        if text == redacted {
            return invalid(format!(
                "The reasoningContent block at messages.{index}.content must hold exactly one of reasoningText (with a text field) or redactedContent."
            ));
        }
    }
    Ok(())
}

pub(super) fn messages(body: &Value) -> Result<(), BedrockError> {
    let messages = match &body["messages"] {
        Value::Null => {
            return constraint(&Value::Null, "messages", "not be null");
        }
        Value::Array(messages) => messages,
        _ => return invalid("The messages field must be a list of Message objects."),
    };
    if messages.is_empty() {
        return invalid(START_WITH_USER);
    }
    let mut uses_tools = false;
    for (index, message) in messages.iter().enumerate() {
        let role = &message["role"];
        if role != "user" && role != "assistant" {
            return constraint(
                role,
                &format!("messages.{index}.member.role"),
                "satisfy enum value set: [user, assistant]",
            );
        }
        if message["content"].as_array().is_none_or(Vec::is_empty) {
            return invalid(format!(
                "The content field in the Message object at messages.{index} is empty. Add a ContentBlock object to the content field and try again."
            ));
        }
        if index == 0 && role != "user" {
            return invalid(START_WITH_USER);
        }
        if index > 0 && messages[index - 1]["role"] == *role {
            return invalid(ALTERNATE_ROLES);
        }

        reasoning(message, index)?;
        let results = tool_use_ids(message, "toolResult");
        let calls = tool_use_ids(message, "toolUse");
        uses_tools |= !results.is_empty() || !calls.is_empty();
        if role == "assistant" && !results.is_empty() {
            return invalid(format!(
                "messages.{index}.content holds a toolResult block, but only user messages can carry tool results."
            ));
        }
        if role == "user" && !calls.is_empty() {
            return invalid(format!(
                "messages.{index}.content holds a toolUse block, but only assistant messages can carry tool calls."
            ));
        }
        if role == "user" {
            let asked =
                index.checked_sub(1).map(|previous| tool_use_ids(&messages[previous], "toolUse")).unwrap_or_default();
            if let Some(unknown) = results.iter().find(|id| !asked.contains(*id)) {
                return invalid(format!(
                    "The toolUseId {unknown} of the toolResult at messages.{index}.content does not match any toolUse block of the previous assistant turn. Send one toolResult per toolUse of the previous turn."
                ));
            }
            let missing: Vec<&str> = asked.iter().filter(|id| !results.contains(*id)).map(String::as_str).collect();
            if !missing.is_empty() {
                return invalid(format!(
                    "Expected toolResult blocks at messages.{index}.content for the following Ids: {}",
                    missing.join(", ")
                ));
            }
        }
    }
    if uses_tools && body["toolConfig"].is_null() {
        return invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::emulator::validate::request;

    fn message_of(body: Value) -> String {
        request(&body).unwrap_err().message
    }

    #[test]
    fn conversations_must_start_with_user_and_alternate() {
        let assistant = json!({ "role": "assistant", "content": [{ "text": "hi" }] });
        let user = json!({ "role": "user", "content": [{ "text": "hi" }] });
        assert_eq!(message_of(json!({ "messages": [assistant] })), START_WITH_USER);
        assert_eq!(message_of(json!({ "messages": [] })), START_WITH_USER);
        assert_eq!(message_of(json!({ "messages": [user, user] })), ALTERNATE_ROLES);
        assert!(message_of(json!({ "messages": [{ "role": "user", "content": [] }] })).contains("messages.0 is empty"));
    }

    #[test]
    fn tool_results_must_answer_the_previous_calls() {
        let call = json!({ "role": "assistant", "content": [
            { "toolUse": { "toolUseId": "tooluse_a", "name": "x", "input": {} } }
        ]});
        let tools = json!({ "tools": [{ "toolSpec": { "name": "x", "inputSchema": { "json": {} } } }] });
        let first = json!({ "role": "user", "content": [{ "text": "go" }] });
        let wrong = json!({ "role": "user", "content": [
            { "toolResult": { "toolUseId": "tooluse_b", "content": [{ "text": "1" }] } }
        ]});
        let text = json!({ "role": "user", "content": [{ "text": "next" }] });
        let right = json!({ "role": "user", "content": [
            { "toolResult": { "toolUseId": "tooluse_a", "content": [{ "text": "1" }] } }
        ]});
        assert!(message_of(json!({ "messages": [first, call, wrong], "toolConfig": tools })).contains("tooluse_b"));
        assert_eq!(
            message_of(json!({ "messages": [first, call, text], "toolConfig": tools })),
            "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_a"
        );
        assert!(message_of(json!({ "messages": [first, call, right] })).contains("toolConfig"));
        assert!(request(&json!({ "messages": [first, call, right], "toolConfig": tools })).is_ok());
    }

    #[test]
    fn reasoning_is_accepted_from_the_assistant_only() {
        let user = |content: Value| json!({ "role": "user", "content": content });
        let thought = json!({ "reasoningContent": { "reasoningText": { "text": "Hmm." } } });
        let assistant = json!({ "role": "assistant", "content": [thought, { "text": "Paris." }] });
        let question = user(json!([{ "text": "Capital?" }]));
        assert!(request(&json!({ "messages": [question, assistant, question] })).is_ok());
        assert!(message_of(json!({ "messages": [user(json!([thought]))] })).contains("only assistant messages"));
        let empty = json!({ "role": "assistant", "content": [{ "reasoningContent": {} }] });
        assert!(message_of(json!({ "messages": [question, empty, question] })).contains("exactly one of"));
    }
}

//! Structured output: the JSON a request asks for (a schema in `outputConfig`, or a JSON object
//! through the gateway's system instruction), the value the model answers with, and the broken
//! JSON of `[[broken-json]]`.

use serde_json::{Value, json};
use shared::convert::request::JSON_OBJECT_INSTRUCTION;

use super::values::{generate, output_schema};

/// The JSON a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonRequest {
    /// `outputConfig.textFormat` of type `json_schema`: a value that validates.
    Schema(Value),
    /// A system block equal to `JSON_OBJECT_INSTRUCTION`: a JSON object.
    Object,
}

/// What the request asks for, if JSON (triage calls are answered before this is asked).
pub fn requested(body: &Value) -> Option<JsonRequest> {
    if let Some(schema) = output_schema(body) {
        return Some(JsonRequest::Schema(schema));
    }
    body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|block| is_json_instruction(&block["text"]))
        .then_some(JsonRequest::Object)
}

pub fn is_json_instruction(text: &Value) -> bool {
    text.as_str() == Some(JSON_OBJECT_INSTRUCTION)
}

/// The compact JSON text of the answer: a value built from the schema, or `{"answer": echo}`.
pub fn value_text(request: &JsonRequest, echo: impl FnOnce() -> String) -> String {
    match request {
        JsonRequest::Schema(schema) => generate(schema, schema, None, None, 0).to_string(),
        JsonRequest::Object => json!({ "answer": echo() }).to_string(),
    }
}

/// JSON text that does not parse: the valid text cut before its last character, the way a
/// model that stops early leaves an object unclosed.
pub fn broken(valid: &str) -> String {
    let mut text = valid.to_owned();
    text.pop();
    text
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shared::convert::request::JSON_OBJECT_INSTRUCTION;

    use crate::emulator::models::ModelTraits;
    use crate::emulator::script::answer;

    fn schema_request(prompt: &str) -> Value {
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}}).to_string();
        json!({
            "messages": [{ "role": "user", "content": [{ "text": prompt }] }],
            "outputConfig": { "textFormat": { "type": "json_schema",
                "structure": { "jsonSchema": { "name": "City", "schema": schema } } } }
        })
    }

    fn object_request(prompt: &str) -> Value {
        json!({
            "system": [{ "text": "Be brief." }, { "text": JSON_OBJECT_INSTRUCTION }],
            "messages": [{ "role": "user", "content": [{ "text": prompt }] }]
        })
    }

    fn text(body: &Value, model: &str) -> String {
        answer(body, &ModelTraits::of(model)).text()
    }

    const SMALL: &str = "mistral.mistral-small-2402-v1:0";
    const LARGE: &str = "mistral.mistral-large-2407-v1:0";

    #[test]
    fn the_json_instruction_is_answered_with_a_json_object() {
        let answer = text(&object_request("Capital of France?"), LARGE);
        let value: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(value, json!({ "answer": "[system: Be brief.] You said: Capital of France?" }));
    }

    #[test]
    fn broken_json_comes_from_models_below_large_only() {
        for request in [schema_request("Paris [[broken-json]]"), object_request("Paris [[broken-json]]")] {
            let broken = text(&request, SMALL);
            assert!(serde_json::from_str::<Value>(&broken).is_err(), "{broken}");
            assert!(broken.starts_with('{'), "{broken}");
            let fine = text(&request, LARGE);
            assert!(serde_json::from_str::<Value>(&fine).unwrap().is_object(), "{fine}");
        }
        assert_eq!(text(&schema_request("Paris [[broken-json]]"), SMALL), r#"{"city":"example""#);
        // Not a JSON request: the directive changes nothing.
        let plain = json!({ "messages": [{ "role": "user", "content": [{ "text": "Paris [[broken-json]]" }] }] });
        assert_eq!(text(&plain, SMALL), "You said: Paris");
    }
}

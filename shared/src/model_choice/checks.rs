//! The `cascade` checks: an answer is accepted unless the model asked to escalate, its JSON does
//! not parse or validate, or it calls a tool that was not offered or with arguments that break
//! the tool's schema. Each failure carries a reason for the routing report.

use std::sync::Arc;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::ContentBlock;
use serde_json::Value;

use super::protocol;
use crate::api::request::{ChatRequest, ResponseFormat, ToolSpec};
use crate::bedrock::document::to_json;
use crate::schema::ArgumentSchema;

/// Why an answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("the model said it cannot answer reliably")]
    AskedToEscalate,
    #[error("the answer is not valid JSON ({0})")]
    InvalidJson(String),
    #[error("the answer breaks the JSON schema ({0})")]
    SchemaViolation(String),
    #[error("the model called `{0}`, a tool that was not offered")]
    UnknownTool(String),
    #[error("the model called `{tool}` with {problem}")]
    ToolArguments { tool: String, problem: String },
}

/// What an acceptable answer looks like for one request.
#[derive(Default)]
pub struct Expectations {
    json: Option<JsonExpectation>,
    /// Offered tools and their argument schemas (`None`: the schema could not be compiled, so
    /// arguments are not checked).
    tools: Vec<(String, Option<Arc<ArgumentSchema>>)>,
}

enum JsonExpectation {
    Object,
    Schema(jsonschema::Validator),
}

impl Expectations {
    /// From the caller's `response_format` and `tools`.
    pub fn of(request: &ChatRequest) -> Self {
        let json = match &request.response_format {
            Some(ResponseFormat::JsonObject) => Some(JsonExpectation::Object),
            Some(ResponseFormat::JsonSchema { json_schema }) => json_schema
                .schema
                .as_ref()
                .and_then(|schema| jsonschema::options().build(schema).ok())
                .map(JsonExpectation::Schema),
            _ => None,
        };
        let tools = request
            .tools
            .iter()
            .flatten()
            .filter_map(|spec| match spec {
                ToolSpec::Function(def) => {
                    let schema = ArgumentSchema::compile(def.function.parameters.as_ref()).ok().map(Arc::new);
                    Some((def.function.name.clone(), schema))
                }
                ToolSpec::Name(_) => None,
            })
            .collect();
        Expectations { json, tools }
    }

    /// The same with these tools and argument schemas instead of the request's (the tools
    /// route runs its registry's tools, so their schemas hold).
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = (String, Option<Arc<ArgumentSchema>>)>) -> Self {
        self.tools = tools.into_iter().collect();
        self
    }

    /// Checks an answer; `Ok` accepts it.
    pub fn check(&self, output: &ConverseOutput) -> Result<(), Reason> {
        let blocks = output.output().and_then(|o| o.as_message().ok()).map(|m| m.content()).unwrap_or_default();
        let text: String = blocks.iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect();
        if protocol::asks_to_escalate(&text) {
            return Err(Reason::AskedToEscalate);
        }
        let mut called = false;
        for block in blocks {
            let ContentBlock::ToolUse(call) = block else { continue };
            called = true;
            let Some((_, schema)) = self.tools.iter().find(|(name, _)| name == call.name()) else {
                return Err(Reason::UnknownTool(call.name().chars().take(64).collect()));
            };
            if let Some(schema) = schema {
                schema
                    .check(&to_json(call.input()))
                    .map_err(|v| Reason::ToolArguments { tool: call.name().to_owned(), problem: v.to_string() })?;
            }
        }
        // A turn that calls tools is not the final answer the JSON format applies to.
        if called {
            return Ok(());
        }
        match &self.json {
            None => Ok(()),
            Some(expectation) => {
                let value: Value = serde_json::from_str(text.trim()).map_err(|e| Reason::InvalidJson(e.to_string()))?;
                match expectation {
                    JsonExpectation::Object if value.is_object() => Ok(()),
                    JsonExpectation::Object => Err(Reason::InvalidJson("not a JSON object".into())),
                    JsonExpectation::Schema(validator) => match validator.iter_errors(&value).next() {
                        None => Ok(()),
                        Some(error) => Err(Reason::SchemaViolation(format!("{}: {error}", error.instance_path()))),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bedrock::fake;

    fn request(extra: Value) -> ChatRequest {
        let mut body = json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        ChatRequest::from_value(body).unwrap()
    }

    #[test]
    fn plain_answers_pass_and_the_marker_escalates() {
        let expect = Expectations::of(&request(json!({})));
        assert_eq!(expect.check(&fake::text("Paris.", 1, 1)), Ok(()));
        assert_eq!(expect.check(&fake::text(protocol::ESCALATION_MARKER, 1, 1)), Err(Reason::AskedToEscalate));
    }

    #[test]
    fn json_answers_must_parse_and_validate() {
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        let expect = Expectations::of(&request(
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}}),
        ));
        assert_eq!(expect.check(&fake::text(r#"{"city": "Paris"}"#, 1, 1)), Ok(()));
        assert!(matches!(expect.check(&fake::text(r#"{"city": "Par"#, 1, 1)), Err(Reason::InvalidJson(_))));
        assert!(matches!(expect.check(&fake::text(r#"{"town": "Paris"}"#, 1, 1)), Err(Reason::SchemaViolation(_))));
        let object = Expectations::of(&request(json!({"response_format": {"type": "json_object"}})));
        assert!(matches!(object.check(&fake::text("[1]", 1, 1)), Err(Reason::InvalidJson(_))));
    }

    #[test]
    fn tool_calls_must_name_offered_tools_with_valid_arguments() {
        let tool = json!({"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}});
        let expect = Expectations::of(&request(json!({"tools": [tool]})));
        let call = |name: &str, args: Value| fake::tool_calls(&[("t1", name, args)], 1, 1);
        assert_eq!(expect.check(&call("get_weather", json!({"city": "Paris"}))), Ok(()));
        assert_eq!(expect.check(&call("rm_rf", json!({}))), Err(Reason::UnknownTool("rm_rf".into())));
        assert!(matches!(expect.check(&call("get_weather", json!({}))), Err(Reason::ToolArguments { .. })));
    }
}

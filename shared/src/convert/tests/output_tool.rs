//! `json_schema` on models without native structured output: the forced output tool.

use aws_sdk_bedrockruntime::types::{Tool, ToolChoice};
use serde_json::{Value, json};

use super::{err, ok};
use crate::bedrock::document::to_json;
use crate::convert::request::{OUTPUT_TOOL_DESCRIPTION, OUTPUT_TOOL_NAME};

fn schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
}

fn body(model: &str, extra: Value) -> Value {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": "Capital of France?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema()}}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// (name, description, schema) of each tool, and the tool choice.
fn tools(body: Value) -> (Vec<(String, String, Value)>, ToolChoice, Option<String>) {
    let p = ok(body);
    let config = p.request.tool_config.expect("a tool config");
    let specs = config
        .tools()
        .iter()
        .map(|tool| {
            let Tool::ToolSpec(spec) = tool else { panic!("not a tool spec") };
            let schema = to_json(spec.input_schema().unwrap().as_json().unwrap());
            (spec.name().to_owned(), spec.description().unwrap_or_default().to_owned(), schema)
        })
        .collect();
    assert!(p.request.output_config.is_none(), "no native structured output is asked for");
    (specs, config.tool_choice().unwrap().clone(), p.request.output_tool)
}

#[test]
fn a_model_without_structured_output_is_forced_to_call_the_schema_tool() {
    for model in ["mistral-large", "pixtral-large"] {
        let (specs, choice, output_tool) = tools(body(model, json!({})));
        assert_eq!(specs.len(), 1, "{model}");
        assert_eq!(specs[0].0, "City");
        assert!(specs[0].1.starts_with(OUTPUT_TOOL_DESCRIPTION));
        assert_eq!(specs[0].2, schema());
        assert!(choice.is_any(), "{model}: {choice:?}");
        assert_eq!(output_tool.as_deref(), Some("City"));
    }
}

#[test]
fn models_with_structured_output_keep_the_native_path() {
    let p = ok(body("mistral-large-3", json!({})));
    assert!(p.request.output_config.is_some());
    assert!(p.request.tool_config.is_none() && p.request.output_tool.is_none());
}

#[test]
fn the_callers_tools_stay_beside_the_output_tool() {
    let weather = json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}});
    let (specs, choice, _) = tools(body("mistral-large", json!({"tools": [weather]})));
    let names: Vec<&str> = specs.iter().map(|(name, ..)| name.as_str()).collect();
    assert_eq!(names, ["get_weather", "City"]);
    assert!(choice.is_any(), "a tool call or the answer through the output tool: {choice:?}");

    let named = json!({"type": "function", "function": {"name": "get_weather"}});
    let (_, choice, _) = tools(body("mistral-large", json!({"tools": [weather], "tool_choice": named})));
    assert!(choice.is_tool(), "a named choice stays: {choice:?}");

    let (specs, choice, _) = tools(body("mistral-large", json!({"tools": [weather], "tool_choice": "none"})));
    assert_eq!(specs.len(), 1, "tool_choice none: only the output tool");
    assert!(choice.is_any());
}

#[test]
fn a_schema_name_that_is_taken_or_invalid_gives_the_default_name() {
    let city_tool = json!({"type": "function", "function": {"name": "City", "parameters": {"type": "object"}}});
    let (specs, _, output_tool) = tools(body("mistral-large", json!({"tools": [city_tool]})));
    assert_eq!(specs[1].0, OUTPUT_TOOL_NAME);
    assert_eq!(output_tool.as_deref(), Some(OUTPUT_TOOL_NAME));
    let mut spaced = body("mistral-large", json!({}));
    spaced["response_format"]["json_schema"]["name"] = json!("city answer");
    assert_eq!(tools(spaced).2.as_deref(), Some(OUTPUT_TOOL_NAME));
}

#[test]
fn models_that_can_do_neither_are_refused_naming_both() {
    let e = err(body("mistral-7b", json!({})));
    assert_eq!(e.param(), Some("response_format"));
    assert!(e.to_string().contains("function_calling"), "{e}");
}

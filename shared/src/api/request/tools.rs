//! Tools: the calls an assistant message carries, the `tools` a request offers, and
//! `tool_choice`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(
    expecting = "a tool call {\"id\": \"...\", \"type\": \"function\", \"function\": {\"name\": \"...\", \"arguments\": \"{...}\"}}"
)]
pub struct ToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
    /// Mistral sends the position of the call; OpenAI omits it outside streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

fn function_type() -> String {
    "function".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(expecting = "a function call {\"name\": \"...\", \"arguments\": \"{...}\"}")]
pub struct FunctionCall {
    pub name: String,
    /// A JSON text (OpenAI) or an object (Mistral accepts both).
    #[serde(default = "empty_arguments")]
    pub arguments: Value,
}

fn empty_arguments() -> Value {
    Value::String(String::new())
}

/// An entry of `tools`: a function definition, or, on `/tools/v1` only, the name of a
/// server-side tool. A custom `Deserialize` (not `untagged`) keeps serde's precise errors for a
/// malformed function object.
#[derive(Debug, Clone)]
pub enum ToolSpec {
    Name(String),
    Function(ToolDef),
}

impl<'de> Deserialize<'de> for ToolSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ToolSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a function object {\"type\": \"function\", \"function\": {...}} or a tool name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ToolSpec, E> {
                Ok(ToolSpec::Name(name.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ToolSpec, A::Error> {
                ToolDef::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ToolSpec::Function)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl ToolSpec {
    /// The tool's name, whichever form it was given in.
    pub fn name(&self) -> &str {
        match self {
            ToolSpec::Name(name) => name,
            ToolSpec::Function(def) => &def.function.name,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    expecting = "a function object {\"type\": \"function\", \"function\": {\"name\": \"...\", \"parameters\": {...}}}"
)]
pub struct ToolDef {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "a function definition {\"name\": \"...\", \"description\": \"...\", \"parameters\": {...}}")]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum ToolChoice {
    /// `auto`, `none`, `any`, `required`.
    Mode(String),
    /// `{"type": "function", "function": {"name": ...}}`.
    Named { function: NamedFunction },
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(expecting = "a named tool choice {\"type\": \"function\", \"function\": {\"name\": \"...\"}}")]
        struct Named {
            function: NamedFunction,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ToolChoice;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"auto\", \"none\", \"any\", \"required\", or {\"type\": \"function\", \"function\": {\"name\": \"...\"}}")
            }

            fn visit_str<E: serde::de::Error>(self, mode: &str) -> Result<ToolChoice, E> {
                Ok(ToolChoice::Mode(mode.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ToolChoice, A::Error> {
                let Named { function } = Named::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ToolChoice::Named { function })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "an object {\"name\": \"...\"}")]
pub struct NamedFunction {
    pub name: String,
}

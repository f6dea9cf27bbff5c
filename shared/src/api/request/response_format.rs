//! `response_format`: text, a JSON object, or a JSON schema the answer must follow.

use serde::Deserialize;
use serde_json::Value;

use super::wording::one_of;

/// `response_format`, parsed through a plain struct so errors keep their path.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawResponseFormat")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Clone, Copy)]
enum FormatType {
    Text,
    JsonObject,
    JsonSchema,
}

impl<'de> Deserialize<'de> for FormatType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use FormatType::*;
        one_of(deserializer, &["text", "json_object", "json_schema"], &[Text, JsonObject, JsonSchema])
    }
}

#[derive(Deserialize)]
#[serde(expecting = "an object {\"type\": \"text\" | \"json_object\" | \"json_schema\", ...}")]
struct RawResponseFormat {
    #[serde(rename = "type")]
    kind: FormatType,
    #[serde(default)]
    json_schema: Option<JsonSchemaFormat>,
}

impl TryFrom<RawResponseFormat> for ResponseFormat {
    type Error = &'static str;

    fn try_from(raw: RawResponseFormat) -> Result<Self, Self::Error> {
        Ok(match (raw.kind, raw.json_schema) {
            (FormatType::Text, _) => ResponseFormat::Text,
            (FormatType::JsonObject, _) => ResponseFormat::JsonObject,
            (FormatType::JsonSchema, Some(json_schema)) => ResponseFormat::JsonSchema { json_schema },
            (FormatType::JsonSchema, None) => {
                return Err(
                    "missing field `json_schema`: {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"...\", \"schema\": {...}}}",
                );
            }
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(expecting = "an object {\"name\": \"...\", \"schema\": {...}}")]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "schema_definition")]
    pub schema: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

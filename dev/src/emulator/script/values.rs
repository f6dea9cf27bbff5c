//! Values built from a JSON schema, so generated tool arguments and structured output validate:
//! strings, numbers within bounds, enums, objects with every property, references followed.

use serde_json::{Map, Value, json};

/// The first token shaped like an identifier (`T1001`, `INV42`): capitals, then digits.
pub fn identifier_in(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).find(|token| {
        let digits = token.trim_start_matches(|c: char| c.is_ascii_uppercase());
        digits.len() < token.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// A value that satisfies `schema`: strings "example" (or the prompt's identifier for properties
/// whose name contains "id"), numbers 1 (within minimum/maximum), booleans true, enums their first
/// value, objects with every property, arrays empty unless `minItems` asks for items.
pub fn generate(schema: &Value, root: &Value, property: Option<&str>, id: Option<&str>, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(target) = schema["$ref"].as_str() {
        let resolved = target.strip_prefix('#').and_then(|pointer| root.pointer(pointer)).unwrap_or(&Value::Null);
        return generate(resolved, root, property, id, depth + 1);
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(variants) = schema[combinator].as_array() {
            let variant = variants.iter().find(|v| v["type"] != "null").or(variants.first());
            if let Some(variant) = variant {
                return generate(variant, root, property, id, depth + 1);
            }
        }
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|kind| *kind != "null").unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property_schema) in properties {
                    let value = generate(property_schema, root, Some(name), id, depth + 1);
                    object.insert(name.clone(), value);
                }
            }
            Value::Object(object)
        }
        "array" => {
            let wanted = schema["minItems"].as_u64().unwrap_or(0).min(8);
            let items = &schema["items"];
            Value::Array((0..wanted).map(|_| generate(items, root, property, id, depth + 1)).collect())
        }
        "integer" | "number" => {
            let mut number = 1.0_f64;
            if let Some(minimum) = schema["minimum"].as_f64() {
                number = number.max(minimum.ceil());
            }
            if let Some(maximum) = schema["maximum"].as_f64() {
                number = number.min(maximum.floor());
            }
            json!(number as i64)
        }
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => {
            let wants_id = property.is_some_and(|name| name.to_lowercase().contains("id"));
            match id {
                Some(id) if wants_id => Value::String(id.to_owned()),
                _ => Value::String("example".to_owned()),
            }
        }
    }
}

/// The schema of `outputConfig.textFormat` when it asks for JSON.
pub fn output_schema(body: &Value) -> Option<Value> {
    let format = &body["outputConfig"]["textFormat"];
    if format["type"] != "json_schema" {
        return None;
    }
    serde_json::from_str(format["structure"]["jsonSchema"]["schema"].as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_satisfy_their_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "order_id": { "type": "string" },
                "size": { "enum": ["small", "large"] },
                "count": { "type": "integer", "minimum": 3, "maximum": 9 },
                "tags": { "type": "array", "minItems": 2, "items": { "type": "boolean" } },
                "address": { "$ref": "#/$defs/address" },
                "note": { "anyOf": [{ "type": "null" }, { "type": "string" }] }
            },
            "$defs": { "address": { "type": "object", "properties": { "city": { "type": "string" } } } }
        });
        assert_eq!(
            generate(&schema, &schema, None, identifier_in("Where is order AB123?"), 0),
            json!({
                "order_id": "AB123",
                "size": "small",
                "count": 3,
                "tags": [true, true],
                "address": { "city": "example" },
                "note": "example"
            })
        );
        assert_eq!(identifier_in("no id here"), None);
    }
}

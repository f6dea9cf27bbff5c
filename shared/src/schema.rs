//! Tool-argument validation against each tool's JSON schema (the tool loop runs it before a
//! tool, the routing checks on a cascade answer), with validators compiled once at
//! cold start (the `jsonschema` crate; remote `$ref`s are not fetched).

use serde_json::Value;

/// At most this many violations are reported back to the model: enough to fix its call.
const MAX_REPORTED: usize = 5;

/// Why a parameters schema cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("the parameters schema must have \"type\": \"object\"")]
    NotAnObjectType,
    #[error("the parameters schema must be a JSON object")]
    NotAnObject,
    #[error("the parameters schema is not a valid JSON schema: {0}")]
    Invalid(String),
}

/// Arguments that break the schema: the first violations, each with where it is, phrased for
/// the model to correct its call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid arguments: {}{}", .problems.join("; "), if *.more > 0 { format!(" (and {} more)", .more) } else { String::new() })]
pub struct Violations {
    pub problems: Vec<String>,
    pub more: usize,
}

/// A tool's parameter schema and its compiled validator.
pub struct ArgumentSchema {
    schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ArgumentSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgumentSchema").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl ArgumentSchema {
    /// Compiles `schema`, which must describe an object (tool arguments always are one);
    /// `None` means "no arguments".
    pub fn compile(schema: Option<&Value>) -> Result<Self, SchemaError> {
        let schema = match schema {
            None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
            Some(schema @ Value::Object(map)) => {
                if map.get("type").is_some_and(|t| t != "object") {
                    return Err(SchemaError::NotAnObjectType);
                }
                schema.clone()
            }
            Some(_) => return Err(SchemaError::NotAnObject),
        };
        let validator = jsonschema::options().build(&schema).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        Ok(ArgumentSchema { schema, validator })
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// `Ok` when `arguments` satisfy the schema, else the violations, each with where it is,
    /// phrased for the model to correct its call.
    pub fn check(&self, arguments: &Value) -> Result<(), Violations> {
        let mut problems: Vec<String> = Vec::new();
        let mut more = 0usize;
        for error in self.validator.iter_errors(arguments) {
            if problems.len() == MAX_REPORTED {
                more += 1;
                continue;
            }
            let path = error.instance_path().to_string();
            let at = if path.is_empty() { "arguments".to_owned() } else { format!("arguments{path}") };
            problems.push(format!("{at}: {error}"));
        }
        if problems.is_empty() { Ok(()) } else { Err(Violations { problems, more }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_where_and_why_arguments_fail() {
        let schema = ArgumentSchema::compile(Some(&json!({
            "type": "object",
            "properties": {"transaction_id": {"type": "string", "pattern": "^T[0-9]+$"}},
            "required": ["transaction_id"],
            "additionalProperties": false
        })))
        .unwrap();
        assert!(schema.check(&json!({"transaction_id": "T1001"})).is_ok());
        let missing = schema.check(&json!({})).unwrap_err().to_string();
        assert!(missing.contains("transaction_id") && missing.contains("required"), "{missing}");
        let wrong = schema.check(&json!({"transaction_id": 5})).unwrap_err().to_string();
        assert!(wrong.contains("arguments/transaction_id"), "{wrong}");
        let extra = schema.check(&json!({"transaction_id": "T1", "x": 1})).unwrap_err().to_string();
        assert!(extra.contains("x"), "{extra}");
    }

    #[test]
    fn refuses_schemas_that_are_not_object_schemas() {
        assert!(ArgumentSchema::compile(Some(&json!({"type": "string"}))).is_err());
        assert!(ArgumentSchema::compile(Some(&json!([1]))).is_err());
        assert!(ArgumentSchema::compile(Some(&json!({"type": "object", "minProperties": "two"}))).is_err());
        assert!(ArgumentSchema::compile(None).unwrap().check(&json!({})).is_ok());
    }

    #[test]
    fn does_not_fetch_remote_references() {
        let remote = json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}});
        assert!(ArgumentSchema::compile(Some(&remote)).is_err());
    }
}

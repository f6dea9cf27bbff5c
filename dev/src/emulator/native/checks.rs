//! The schema checks Bedrock runs on a native body before the model sees it, and its way of
//! reporting them: `Malformed input request: #/path: problem, please reformat your input and try
//! again.`, every failed check listed.

use serde_json::{Map, Value};

use crate::emulator::faults::BedrockError;

/// The failed checks of one body, in the order found.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn add(&mut self, path: &str, problem: impl AsRef<str>) {
        self.0.push(format!("#{path}: {}", problem.as_ref()));
    }

    /// Keys of `body` outside `allowed` are refused, as Bedrock's schemas for Mistral allow no
    /// additional properties.
    pub fn only_keys(&mut self, body: &Map<String, Value>, allowed: &[&str]) {
        for key in body.keys().filter(|key| !allowed.contains(&key.as_str())) {
            self.add("", format!("extraneous key [{key}] is not permitted"));
        }
    }

    pub fn required(&mut self, body: &Map<String, Value>, key: &str) {
        if !body.contains_key(key) {
            self.add("", format!("required key [{key}] not found"));
        }
    }

    /// An integer of at least `minimum` (and at most `maximum`), when present.
    pub fn integer(&mut self, value: &Value, path: &str, minimum: i64, maximum: Option<i64>) {
        if value.is_null() {
            return;
        }
        match value.as_i64() {
            None => self.add(path, format!("expected type: Integer, found: {}", type_name(value))),
            Some(n) if n < minimum => self.add(path, format!("{n} is not greater or equal to {minimum}")),
            Some(n) if maximum.is_some_and(|max| n > max) => {
                self.add(path, format!("{n} is not less or equal to {}", maximum.unwrap_or_default()))
            }
            Some(_) => {}
        }
    }

    /// A number in [`minimum`, 1] (or (0, 1] when `exclusive_zero`), when present.
    pub fn fraction(&mut self, value: &Value, path: &str, exclusive_zero: bool) {
        if value.is_null() {
            return;
        }
        match value.as_f64() {
            None => self.add(path, format!("expected type: Number, found: {}", type_name(value))),
            Some(n) if exclusive_zero && n <= 0.0 => self.add(path, format!("{value} is not greater than 0")),
            Some(n) if n < 0.0 => self.add(path, format!("{value} is not greater or equal to 0")),
            Some(n) if n > 1.0 => self.add(path, format!("{value} is not less or equal to 1")),
            Some(_) => {}
        }
    }

    pub fn into_result(self) -> Result<(), BedrockError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(BedrockError::validation(format!(
            "Malformed input request: {}, please reformat your input and try again.",
            self.0.join("")
        )))
    }
}

/// The JSON-schema name of a value's type, as the messages say it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_problem_is_listed_in_bedrocks_words() {
        let body = json!({"messages": [], "top_k": 0});
        let mut problems = Problems::default();
        problems.required(body.as_object().unwrap(), "prompt");
        problems.only_keys(body.as_object().unwrap(), &["prompt", "top_k"]);
        problems.integer(&body["top_k"], "/top_k", 1, Some(200));
        problems.fraction(&json!(1.5), "/temperature", false);
        problems.fraction(&json!(0), "/top_p", true);
        assert_eq!(
            problems.into_result().unwrap_err().message,
            "Malformed input request: #: required key [prompt] not found#: extraneous key [messages] is not permitted\
             #/top_k: 0 is not greater or equal to 1#/temperature: 1.5 is not less or equal to 1\
             #/top_p: 0 is not greater than 0, please reformat your input and try again."
        );
        assert!(Problems::default().into_result().is_ok());
    }
}

//! One EMF record: the `_aws` block that declares the metrics and dimension sets, the values,
//! and the line written to stdout (or kept in memory for tests).

use std::io::Write;

use serde_json::{Map, Value, json};

use super::{DIMENSION_SETS, FUNCTION, MODEL, Metric, REQUESTS, ROUTE};

/// The metrics of one request, with its dimensions and a few non-metric properties
/// (`ErrorClass`, `RoutingPolicy`) that Logs Insights can query.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub function: String,
    pub model: String,
    pub route: String,
    values: Vec<(Metric, f64)>,
    properties: Map<String, Value>,
}

impl Record {
    pub fn new(function: impl Into<String>, model: impl Into<String>, route: impl Into<String>) -> Self {
        Record {
            function: function.into(),
            model: model.into(),
            route: route.into(),
            values: vec![(REQUESTS, 1.0)],
            properties: Map::new(),
        }
    }

    /// Sets `metric` (a second call replaces the value).
    pub fn set(&mut self, metric: Metric, value: f64) -> &mut Self {
        match self.values.iter_mut().find(|(m, _)| *m == metric) {
            Some(slot) => slot.1 = value,
            None => self.values.push((metric, value)),
        }
        self
    }

    /// A property that is not a metric (no prompt or answer text belongs here).
    pub fn property(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.values.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v)
    }

    /// The EMF JSON object, stamped `timestamp_ms`.
    pub fn to_emf(&self, namespace: &str, timestamp_ms: u64) -> Value {
        let definitions: Vec<Value> =
            self.values.iter().map(|(m, _)| json!({"Name": m.name, "Unit": m.unit.as_str()})).collect();
        let mut root = self.properties.clone();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": DIMENSION_SETS,
                    "Metrics": definitions,
                }],
            }),
        );
        root.insert(FUNCTION.into(), self.function.clone().into());
        root.insert(MODEL.into(), self.model.clone().into());
        root.insert(ROUTE.into(), self.route.clone().into());
        for (metric, value) in &self.values {
            root.insert(metric.name.into(), json!(value));
        }
        Value::Object(root)
    }

    /// Writes the record as one line on stdout, where Lambda sends it to CloudWatch Logs (or
    /// keeps it, after [`capture`]).
    pub fn emit(&self, namespace: &str) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let emf = self.to_emf(namespace, now as u64);
        if let Some(kept) = CAPTURED.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            kept.push(emf);
            return;
        }
        let mut line = serde_json::to_vec(&emf).unwrap_or_default();
        line.push(b'\n');
        // One write of the whole line, so concurrent requests never interleave their records.
        let _ = std::io::stdout().lock().write_all(&line);
    }
}

static CAPTURED: std::sync::Mutex<Option<Vec<Value>>> = std::sync::Mutex::new(None);

/// Keeps the records of this process in memory instead of writing them, so end-to-end tests can
/// read what each request recorded.
pub fn capture() {
    CAPTURED.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Vec::new);
}

/// The records kept since [`capture`] whose namespace is `namespace`.
pub fn captured(namespace: &str) -> Vec<Value> {
    let kept = CAPTURED.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter().flatten().filter(|emf| emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{COST, INPUT_TOKENS};

    #[test]
    fn a_record_is_valid_emf_with_definitions_matching_values() {
        let mut record = Record::new("converse", "mistral.mistral-large-2407-v1:0", "/v1/chat/completions");
        record.set(INPUT_TOKENS, 12.0).set(COST, 0.0001).property("ErrorClass", "none");
        let emf = record.to_emf("Test", 1_700_000_000_000);
        let aws = &emf["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000_u64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Test");
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                assert!(emf[dimension.as_str().unwrap()].is_string(), "dimension {dimension} has a value");
            }
        }
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Requests", "InputTokens", "CostUSD"]);
        for name in names {
            assert!(emf[name].is_number(), "{name} has a value");
        }
        assert_eq!(emf["ErrorClass"], "none");
    }
}

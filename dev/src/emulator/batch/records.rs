//! A job's records: the input lines read and checked as Bedrock's Validating step checks them,
//! each record answered by the scripted model the runtime operations use, and the output lines
//! and manifest written back ("Format and upload your batch inference data", "View the results
//! of a batch inference job" in Bedrock's user guide).

use std::time::Instant;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::job::Counts;
use crate::emulator::handling::Call;
use crate::emulator::models::ModelTraits;
use crate::emulator::server::{Operation, Shared};
use crate::emulator::{converse, native};

/// One input line: `{"recordId": "...", "modelInput": {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub(crate) record_id: String,
    pub(crate) model_input: Value,
}

/// The records of one `.jsonl` file, or why the job fails on it. Blank lines are skipped; a
/// record without `recordId` gets one, as Bedrock adds one in the output (11 characters, like
/// the ids of AWS's examples).
pub(crate) fn parse(file: &str, body: &str, next_id: &mut u64) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    for (index, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |why: &str| {
            format!(
                "Invalid JSONL format in the input file {file} at line {}: {why}. Fix the record and try again.",
                index + 1
            )
        };
        let value: Value =
            serde_json::from_str(line).map_err(|error| malformed(&format!("not valid JSON ({error})")))?;
        let Some(model_input) = value.get("modelInput").filter(|input| input.is_object()) else {
            return Err(malformed("the record has no modelInput object"));
        };
        let record_id = match value.get("recordId") {
            Some(Value::String(id)) => id.clone(),
            None | Some(Value::Null) => {
                *next_id += 1;
                format!("{:011}", *next_id)
            }
            Some(_) => return Err(malformed("recordId is not a string")),
        };
        records.push(Record { record_id, model_input: model_input.clone() });
    }
    Ok(records)
}

/// The output line of one record and what it adds to the counts.
pub(crate) async fn answer(
    shared: &Shared,
    model: &ModelTraits,
    converse_job: bool,
    record: &Record,
) -> (Value, Counts) {
    let raw = serde_json::to_vec(&record.model_input).unwrap_or_default();
    let headers = HeaderMap::new();
    let call = Call {
        shared,
        model_id: &model.foundation_id,
        operation: if converse_job { Operation::Converse } else { Operation::Invoke },
        headers: &headers,
        raw: &raw,
        started: Instant::now(),
    };
    let outcome = if converse_job {
        if record.model_input.get("toolConfig").is_some() {
            // "Batch inference doesn't support tool calling for jobs that use the Converse
            // invocation type. Records that include toolConfig fail with a 400 error."
            Err((400, "Tool calling (toolConfig) is not supported for batch inference jobs that use the Converse invocation type.".to_owned()))
        } else {
            converse::answer_record(&call, model, &record.model_input)
                .await
                .map_err(|e| (e.kind.status().as_u16(), e.message))
        }
    } else {
        native::answer_record(&call, model, &record.model_input)
            .await
            .map_err(|e| (e.kind.status().as_u16(), e.message))
    };
    let mut counts = Counts { total: 1, processed: 1, ..Counts::default() };
    let line = match outcome {
        Ok((output, input_tokens, output_tokens)) => {
            counts.success = 1;
            counts.input_tokens = input_tokens;
            counts.output_tokens = output_tokens;
            json!({ "recordId": record.record_id, "modelInput": record.model_input, "modelOutput": output })
        }
        Err((code, message)) => {
            counts.error = 1;
            json!({
                "recordId": record.record_id,
                "modelInput": record.model_input,
                "error": { "errorCode": code, "errorMessage": message },
            })
        }
    };
    (line, counts)
}

impl Counts {
    pub(crate) fn add(&mut self, other: Counts) {
        self.total += other.total;
        self.processed += other.processed;
        self.success += other.success;
        self.error += other.error;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }

    /// `manifest.json.out`.
    pub(crate) fn manifest(&self) -> Value {
        json!({
            "totalRecordCount": self.total,
            "processedRecordCount": self.processed,
            "successRecordCount": self.success,
            "errorRecordCount": self.error,
            "inputTokenCount": self.input_tokens,
            "outputTokenCount": self.output_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_records_and_missing_ids_are_added() {
        let body = "{\"recordId\":\"a1\",\"modelInput\":{\"prompt\":\"hi\"}}\n\n{\"modelInput\":{\"prompt\":\"yo\"}}\n";
        let mut next = 0;
        let records = parse("in.jsonl", body, &mut next).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].record_id, "a1");
        assert_eq!(records[1].record_id, "00000000001");
        assert_eq!(records[1].model_input, json!({ "prompt": "yo" }));
    }

    #[test]
    fn a_malformed_line_names_its_file_and_line() {
        let mut next = 0;
        let error = parse("in.jsonl", "{\"modelInput\":{}}\nnot json\n", &mut next).unwrap_err();
        assert!(error.contains("in.jsonl at line 2"), "{error}");
        let error = parse("in.jsonl", "{\"recordId\":\"x\"}\n", &mut next).unwrap_err();
        assert!(error.contains("no modelInput"), "{error}");
    }

    #[tokio::test]
    async fn records_are_answered_by_the_scripted_model_and_faults_become_error_lines() {
        let shared = Shared::default();
        let model = ModelTraits::of("mistral.mistral-large-2407-v1:0");
        let ok = Record {
            record_id: "r1".into(),
            model_input: json!({ "messages": [{ "role": "user", "content": "hello there" }] }),
        };
        let (line, counts) = answer(&shared, &model, false, &ok).await;
        assert_eq!(line["modelOutput"]["choices"][0]["message"]["content"], "You said: hello there");
        assert_eq!((counts.success, counts.error), (1, 0));
        assert!(counts.input_tokens > 0 && counts.output_tokens > 0);

        let faulty = Record {
            record_id: "r2".into(),
            model_input: json!({ "messages": [{ "role": "user", "content": "x [[fault:throttle]]" }] }),
        };
        let (line, counts) = answer(&shared, &model, false, &faulty).await;
        assert_eq!(line["error"]["errorCode"], 429);
        assert!(line.get("modelOutput").is_none());
        assert_eq!((counts.success, counts.error), (0, 1));

        let converse = Record {
            record_id: "r3".into(),
            model_input: json!({ "messages": [{ "role": "user", "content": [{ "text": "hi" }] }] }),
        };
        let (line, _) = answer(&shared, &model, true, &converse).await;
        assert_eq!(line["modelOutput"]["output"]["message"]["content"][0]["text"], "You said: hi");
    }
}

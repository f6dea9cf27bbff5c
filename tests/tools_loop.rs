//! The tool loop end to end: HTTP client → `/tools/v1/chat/completions` → real
//! aws-sdk-bedrockruntime → the Bedrock emulator's scripted model, over loopback HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Harness;
use tests::tools::{SEED_PROMPT, Sleeper, answer, ask, runs};

#[tokio::test]
async fn seed_scenario_calls_payment_status_once_and_answers_paid() {
    let stack = Harness::with_config(&[]).await;
    let (status, body) = stack.ask(&ask(SEED_PROMPT)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(answer(&body).contains("Paid"), "{body}");

    let trace = runs(&body);
    assert_eq!(trace.len(), 1, "{body}");
    let run = &trace[0];
    assert_eq!(run["name"], "retrieve_payment_status");
    assert_eq!(run["arguments"], json!({"transaction_id": "T1001"}));
    assert_eq!(run["status"], "ok");
    assert_eq!(run["result"], json!({"status": "Paid"}));
    assert!(run["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["steps"], 2);

    // Two Bedrock calls, both counted in usage, with the cost of Mistral Large.
    assert_eq!(stack.emulator().requests(), 2);
    let usage = &body["usage"];
    let (prompt, completion) = (usage["prompt_tokens"].as_u64().unwrap(), usage["completion_tokens"].as_u64().unwrap());
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), prompt + completion);
    assert!(prompt > 8, "both calls' prompts are summed: {usage}");
    let cost = usage["cost_usd"].as_f64().unwrap();
    assert!((cost - (prompt as f64 * 4.0 + completion as f64 * 12.0) / 1e6).abs() < 1e-9, "{usage}");

    // The second call carried the tool result as a JSON toolResult.
    let sent = stack.emulator().last_request().unwrap();
    let result = &sent["messages"][2]["content"][0]["toolResult"];
    assert_eq!(result["content"][0]["json"], json!({"status": "Paid"}));
    assert_eq!(result["status"], "success");
}

#[tokio::test]
async fn two_tools_in_one_turn_run_concurrently() {
    let slow = |name| Arc::new(Sleeper { name, sleep: Duration::from_millis(300) }) as _;
    let stack = Harness::with_tools(&[], vec![slow("slow_alpha"), slow("slow_beta")]).await;
    let (status, body) = stack.ask(&ask("[[call:slow_alpha {}]] [[call:slow_beta {}]]")).await;
    assert_eq!(status, 200, "{body}");
    let trace = runs(&body);
    assert_eq!(trace.len(), 2, "{body}");
    let span = |run: &Value| {
        let start = run["started_ms"].as_f64().unwrap();
        (start, start + run["duration_ms"].as_f64().unwrap())
    };
    let (a, b) = (span(&trace[0]), span(&trace[1]));
    assert!(a.0 < b.1 && b.0 < a.1, "the two calls did not overlap: {a:?} {b:?}");
    assert!(trace.iter().all(|r| r["step"] == 1 && r["status"] == "ok"));
    assert_eq!(
        answer(&body),
        r#"Tool results: name=slow_alpha -> {"slept_ms":300}; name=slow_beta -> {"slept_ms":300}"#
    );
}

#[tokio::test]
async fn a_two_step_chain_runs_each_tool_in_its_own_turn() {
    let stack = Harness::with_config(&[]).await;
    let prompt = r#"Check T1003 [[call:retrieve_payment_status {"transaction_id": "T1003"}]] [[then:retrieve_payment_date {"transaction_id": "T1003"}]]"#;
    let (status, body) = stack.ask(&ask(prompt)).await;
    assert_eq!(status, 200, "{body}");
    let trace = runs(&body);
    assert_eq!(trace.len(), 2, "{body}");
    assert_eq!((trace[0]["name"].as_str(), trace[0]["step"].as_u64()), (Some("retrieve_payment_status"), Some(1)));
    assert_eq!((trace[1]["name"].as_str(), trace[1]["step"].as_u64()), (Some("retrieve_payment_date"), Some(2)));
    assert_eq!(trace[1]["result"], json!({"date": "2021-10-07"}));
    assert_eq!(body["steps"], 3);
    assert_eq!(answer(&body), r#"Tool results: name=retrieve_payment_date -> {"date":"2021-10-07"}"#);
    assert_eq!(stack.emulator().requests(), 3);
}

#[tokio::test]
async fn arguments_that_break_the_schema_are_fed_back_as_an_error() {
    let stack = Harness::with_config(&[]).await;
    let (status, body) = stack.ask(&ask(r#"[[call:retrieve_payment_status {"transaction_id": 1001}]]"#)).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["status"], "error");
    assert_eq!(run["error_code"], "invalid_arguments");
    assert!(run["error"].as_str().unwrap().contains("transaction_id"), "{run}");
    // The model saw the error result and answered from it.
    assert!(
        answer(&body).starts_with("Tool results: name=retrieve_payment_status -> error: invalid arguments"),
        "{body}"
    );
    let sent = stack.emulator().last_request().unwrap();
    assert_eq!(sent["messages"][2]["content"][0]["toolResult"]["status"], "error");
}

#[tokio::test]
async fn an_unknown_or_unselected_tool_gets_an_error_result() {
    let stack = Harness::with_config(&[]).await;
    let mut request = ask("[[call:launch_rockets {}]] [[call:retrieve_payment_date {\"transaction_id\": \"T1001\"}]]");
    request["tools"] = json!(["retrieve_payment_status"]);
    let (status, body) = stack.ask(&request).await;
    assert_eq!(status, 200, "{body}");
    let trace = runs(&body);
    assert!(trace.iter().all(|r| r["error_code"] == "unknown_tool"), "{body}");
    assert!(trace[0]["error"].as_str().unwrap().contains("retrieve_payment_status"), "names what is available");
}

#[tokio::test]
async fn the_step_bound_returns_the_last_answer_with_max_steps() {
    let stack = Harness::with_config(&[("TOOLS_MAX_STEPS", "3")]).await;
    let (status, body) =
        stack.ask(&ask(r#"Again and again [[loop:retrieve_payment_status {"transaction_id": "T1002"}]]"#)).await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "max_steps");
    assert_eq!(choice["message"]["tool_calls"][0]["function"]["name"], "retrieve_payment_status");
    assert_eq!(body["steps"], 3);
    assert_eq!(runs(&body).len(), 2, "the last turn's calls are not run");
    assert!(body["stop_detail"].as_str().unwrap().contains("TOOLS_MAX_STEPS"));
    assert_eq!(stack.emulator().requests(), 3);
}

#[tokio::test]
async fn the_deadline_cuts_a_slow_tool_and_returns_with_finish_reason_deadline() {
    let sleepy = Arc::new(Sleeper { name: "sleepy", sleep: Duration::from_secs(10) }) as _;
    let stack =
        Harness::with_tools(&[("TOOLS_DEADLINE_MS", "1000"), ("TOOLS_TIMEOUT_MS", "60000")], vec![sleepy]).await;
    let started = Instant::now();
    let (status, body) = stack.ask(&ask("[[call:sleepy {}]]")).await;
    assert!(started.elapsed() < Duration::from_secs(5), "the loop did not stop at its deadline");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "deadline");
    assert_eq!(runs(&body)[0]["error_code"], "timeout");
    assert!(body["stop_detail"].as_str().unwrap().contains("TOOLS_DEADLINE_MS"));
}

#[tokio::test]
async fn a_model_slower_than_the_deadline_is_a_504_not_a_hang() {
    let stack = Harness::with_config(&[("TOOLS_DEADLINE_MS", "1000")]).await;
    let (status, body) = stack.ask(&ask("Hello [[slow:5000]]")).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["code"], "timeout");
}

#[tokio::test]
async fn a_slow_tool_times_out_and_the_model_is_told() {
    let stack = Harness::with_tools(
        &[("TOOLS_TIMEOUT_MS", "200")],
        vec![Arc::new(Sleeper { name: "sleepy", sleep: Duration::from_secs(5) }) as _],
    )
    .await;
    let (status, body) = stack.ask(&ask("[[call:sleepy {}]]")).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["error_code"], "timeout");
    assert!(run["duration_ms"].as_f64().unwrap() < 1000.0, "{run}");
    assert_eq!(answer(&body), "Tool results: name=sleepy -> error: the tool did not answer within 200 ms");
}

#[tokio::test]
async fn requests_naming_unknown_tools_are_refused_before_bedrock() {
    let stack = Harness::with_config(&[]).await;
    let mut request = ask(SEED_PROMPT);
    request["tools"] = json!(["retrieve_payment_status", "format_disk"]);
    let (status, body) = stack.ask(&request).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "tools[1]");
    assert_eq!(stack.emulator().requests(), 0);
}

#[tokio::test]
async fn a_forced_tool_choice_applies_to_the_first_turn_only() {
    let stack = Harness::with_config(&[]).await;
    let mut request = ask("Tell me anything about T1004");
    request["tool_choice"] = json!("any");
    let (status, body) = stack.ask(&request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(runs(&body).len(), 1);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let sent = stack.emulator().last_request().unwrap();
    assert!(sent["toolConfig"]["toolChoice"].get("auto").is_some(), "{}", sent["toolConfig"]);
}

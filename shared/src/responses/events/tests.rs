//! The event sequence of chat chunk streams: order, reassembly of split frames, failures.

use super::*;
use crate::api::responses::Echo;

fn types(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    text.split_terminator("\n\n")
        .map(|frame| frame.lines().next().unwrap().trim_start_matches("event: ").to_owned())
        .collect()
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let mut chunk = json!({"model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    if finish.is_some() {
        chunk["usage"] = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5});
    }
    format!("data: {chunk}\n\n")
}

#[test]
fn reasoning_text_and_a_call_stream_as_three_items_then_completed() {
    let mut events = Events::new(Context::new("m", Echo::new(), Default::default()));
    let mut out = events.start();
    let body = [
        chunk(json!({"role": "assistant", "reasoning_content": "Hmm"}), None),
        chunk(json!({"content": "Hel"}), None),
        chunk(json!({"content": "lo"}), None),
        chunk(json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}), None),
        chunk(json!({}), Some("tool_calls")),
    ]
    .concat()
        + "data: [DONE]\n\n";
    // Split mid-frame: frames are reassembled.
    let (a, b) = body.as_bytes().split_at(37);
    out.extend(events.feed(a));
    out.extend(events.feed(b));
    out.extend(events.end());
    assert_eq!(
        types(&out),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_text.delta",
            "response.reasoning_text.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let last = std::str::from_utf8(&out).unwrap().split_terminator("\n\n").last().unwrap().to_owned();
    let completed: Value = serde_json::from_str(last.split_once("data: ").unwrap().1).unwrap();
    assert_eq!(completed["sequence_number"], 17);
    assert_eq!(completed["response"]["output"][1]["content"][0]["text"], "Hello");
    assert_eq!(completed["response"]["output"][2]["call_id"], "c1");
    assert_eq!(completed["response"]["usage"]["total_tokens"], 5);
}

#[test]
fn an_error_frame_is_an_error_event_and_response_failed() {
    let mut events = Events::new(Context::new("m", Echo::new(), Default::default()));
    events.start();
    let mut out = events.feed(chunk(json!({"content": "Hi"}), None).as_bytes());
    out.extend(events.feed(
        br#"data: {"error":{"message":"slow down","type":"rate_limit_error","code":"throttled"}}

"#,
    ));
    out.extend(events.end());
    let kinds = types(&out);
    assert_eq!(kinds[kinds.len() - 2..], ["error", "response.failed"]);
    assert!(std::str::from_utf8(&out).unwrap().contains(r#""error":{"code":"throttled","message":"slow down"}"#));
}

#[test]
fn a_stream_that_stops_early_fails() {
    let mut events = Events::new(Context::new("m", Echo::new(), Default::default()));
    events.start();
    events.feed(chunk(json!({"content": "Hi"}), None).as_bytes());
    assert_eq!(types(&events.end()), ["error", "response.failed"]);
}

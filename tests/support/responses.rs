//! The caller's side of the Responses API's server-sent events: a reader that checks every
//! frame's shape, and the checks every complete event sequence must pass.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Harness;

/// POSTs `body` and reads the SSE answer, which must be a 200 event stream: each event as its
/// `event:` name and `data`.
pub async fn events(h: &Harness, path: &str, body: &Value) -> (http::HeaderMap, Vec<(String, Value)>) {
    let response = h.http.post(h.url(path)).json(body).send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/event-stream");
    (headers, parse(&text))
}

/// The checks every event sequence must pass; returns the final response. Sequence numbers
/// count from 0; created and in_progress come first; every item added is done, at the same
/// index with the same id; the final response's output is exactly the done items.
pub fn assert_complete(events: &[(String, Value)], last: &str) -> Value {
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names[..2], ["response.created", "response.in_progress"], "{names:?}");
    assert_eq!(names.last(), Some(&last), "{names:?}");
    for (n, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], n, "{data}");
    }
    let id = &events[0].1["response"]["id"];
    assert!(id.as_str().unwrap().starts_with("resp_"));
    let mut added = BTreeMap::new();
    let mut done = BTreeMap::new();
    for (name, data) in events {
        let index = data["output_index"].as_u64();
        match name.as_str() {
            "response.output_item.added" => assert!(added.insert(index.unwrap(), data["item"].clone()).is_none()),
            "response.output_item.done" => assert!(done.insert(index.unwrap(), data["item"].clone()).is_none()),
            _ => {}
        }
    }
    assert_eq!(added.keys().collect::<Vec<_>>(), done.keys().collect::<Vec<_>>(), "every item added is done");
    for (index, item) in &added {
        assert_eq!(item["id"], done[index]["id"]);
        assert_eq!(done[index]["status"], "completed");
    }
    let response = events.last().unwrap().1["response"].clone();
    assert_eq!(&response["id"], id, "one response id throughout");
    assert_eq!(response["output"], Value::Array(done.into_values().collect()));
    response
}

/// The events of a Responses SSE body: each as its `event:` name and `data`, whose `type` must
/// be the same name.
pub fn parse(text: &str) -> Vec<(String, Value)> {
    assert!(text.ends_with("\n\n"), "the body ends with a whole event: {text:?}");
    text.split_terminator("\n\n")
        .map(|frame| {
            let (event, data) = frame.split_once('\n').unwrap_or_else(|| panic!("two lines per event: {frame:?}"));
            let name = event.strip_prefix("event: ").unwrap_or_else(|| panic!("an event line: {frame:?}"));
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").expect("a data line")).expect("JSON");
            assert_eq!(data["type"], name, "the data names its event");
            (name.to_owned(), data)
        })
        .collect()
}

//! The caller's side of server-sent events: a parser and a reader that yields events as they
//! arrive, the checks every successful chat-completions stream must pass, and what the chunks add
//! up to (text, tool calls).

use std::collections::VecDeque;

use serde_json::Value;

/// One server-sent event as a chat-completions client sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Chunk(Value),
    Error(Value),
    Done,
}

impl Event {
    pub fn chunk(&self) -> Option<&Value> {
        match self {
            Event::Chunk(chunk) => Some(chunk),
            _ => None,
        }
    }

    /// `choices[0].delta` of a chunk.
    pub fn delta(&self) -> Option<&Value> {
        self.chunk().map(|c| &c["choices"][0]["delta"])
    }
}

/// Splits an SSE body into events; panics on anything that is not `data: ...` + blank line.
pub fn parse_sse(body: &[u8]) -> Vec<Event> {
    let text = std::str::from_utf8(body).expect("SSE is UTF-8");
    assert!(text.is_empty() || text.ends_with("\n\n"), "the body must end with a complete event: {text:?}");
    text.split_terminator("\n\n").map(parse_event).collect()
}

fn parse_event(block: &str) -> Event {
    let data = block.strip_prefix("data: ").unwrap_or_else(|| panic!("not a data event: {block:?}"));
    assert!(!data.contains('\n'), "one data line per event: {block:?}");
    if data == "[DONE]" {
        return Event::Done;
    }
    let value: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("not JSON ({e}): {data}"));
    if value.get("error").is_some() { Event::Error(value) } else { Event::Chunk(value) }
}

/// Reads an SSE response event by event, as they arrive.
pub struct SseReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
    pending: VecDeque<Event>,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        SseReader { response, buffer: Vec::new(), pending: VecDeque::new() }
    }

    /// The next event, or `None` at the end of the body (which must not hold a partial event).
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self.response.chunk().await.expect("the body reads without error") {
                Some(bytes) => {
                    self.buffer.extend_from_slice(&bytes);
                    while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                        let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                        self.pending.push_back(parse_event(std::str::from_utf8(&block[..end]).unwrap()));
                    }
                }
                None => {
                    assert!(
                        self.buffer.is_empty(),
                        "partial event at the end: {:?}",
                        String::from_utf8_lossy(&self.buffer)
                    );
                    return None;
                }
            }
        }
    }

    /// Every remaining event, to the end of the body.
    pub async fn rest(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// Checks the shape every successful stream must have and returns its chunks: the first with
/// the role, all with one id/created/model, the last with finish_reason and usage, then
/// `[DONE]` and nothing after it.
pub fn assert_complete_stream(events: &[Event]) -> Vec<Value> {
    assert!(events.len() >= 3, "{events:#?}");
    assert_eq!(events.last(), Some(&Event::Done), "{events:#?}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| e.chunk().unwrap_or_else(|| panic!("only chunks before [DONE]: {events:#?}")).clone())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let first = &chunks[0];
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], first["id"]);
        assert_eq!(chunk["created"], first["created"]);
        assert_eq!(chunk["model"], first["model"]);
        assert_eq!(chunk["choices"].as_array().map(Vec::len), Some(1), "{chunk}");
    }
    assert!(first["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let (last, others) = chunks.split_last().unwrap();
    assert!(last["choices"][0]["finish_reason"].is_string(), "{last}");
    assert!(last["usage"]["total_tokens"].is_u64(), "{last}");
    for chunk in others {
        assert!(chunk["choices"][0]["finish_reason"].is_null(), "{chunk}");
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert!(chunk["choices"][0]["delta"].get("role").is_none() || chunk == first, "{chunk}");
    }
    chunks
}

/// The concatenated `delta.content` of the chunks.
pub fn content(chunks: &[Value]) -> String {
    chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect()
}

/// Tool calls reassembled from their fragments, by index: (id, name, arguments).
pub fn tool_calls(chunks: &[Value]) -> Vec<(String, String, String)> {
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for chunk in chunks {
        for call in chunk["choices"][0]["delta"]["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap() as usize;
            if index == calls.len() {
                calls.push(Default::default());
            }
            let entry = &mut calls[index];
            if let Some(id) = call["id"].as_str() {
                entry.0.push_str(id);
            }
            entry.1.push_str(call["function"]["name"].as_str().unwrap_or_default());
            entry.2.push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    calls
}

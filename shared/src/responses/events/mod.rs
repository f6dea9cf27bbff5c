//! A chat chunk stream → the Responses event sequence. The chat use case's stream (its SSE
//! frames, as `/stream/v1/chat/completions` sends them: accounts, deadline and metrics
//! included) is read frame by frame and rewritten: `response.created` and
//! `response.in_progress` first; per output item `response.output_item.added`, its deltas
//! (`response.reasoning_text.delta`, `response.output_text.delta` inside a
//! `response.content_part.added`/`.done` pair, `response.function_call_arguments.delta`), its
//! `.done` events and `response.output_item.done`; then `response.completed` (or
//! `response.incomplete` when cut short) carrying the whole response. A failure after the start
//! is an `error` event followed by `response.failed`; nothing follows it.

use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::output::Context;
use crate::api::responses::{self, Status, item_id};

/// The item being streamed: one at a time, since the chat stream sends reasoning, then text,
/// then each tool call whole.
#[derive(Debug)]
enum Open {
    Reasoning { index: usize, text: String },
    Message { index: usize, text: String },
    Call { chat_index: u64, index: usize, call_id: String, name: String, arguments: String },
}

/// The translation's state.
pub struct Events {
    context: Context,
    sequence: u64,
    output: Vec<Value>,
    open: Option<Open>,
    finished: bool,
    pending: Vec<u8>,
}

impl Events {
    pub fn new(context: Context) -> Self {
        Events { context, sequence: 0, output: Vec::new(), open: None, finished: false, pending: Vec::new() }
    }

    /// `response.created` and `response.in_progress`.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let response = responses::response(&self.context.head, &Status::InProgress, Vec::new(), None, None);
        self.emit(&mut out, json!({"type": "response.created", "response": response}));
        self.emit(&mut out, json!({"type": "response.in_progress", "response": response}));
        out
    }

    /// The events of the chat SSE bytes `bytes` (whole frames or parts of them).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = self.pending.drain(..end + 2).collect();
            let Some(data) = frame.strip_prefix(b"data: ") else { continue };
            let data = &data[..data.len() - 2];
            if self.finished || data == b"[DONE]" {
                continue;
            }
            match serde_json::from_slice::<Value>(data) {
                Ok(value) if value.get("error").is_some() => self.fail(&mut out, &value["error"]),
                Ok(chunk) => self.chunk(&mut out, &chunk),
                Err(e) => self.fail(
                    &mut out,
                    &json!({"code": "internal_error", "message": format!("unreadable stream frame: {e}")}),
                ),
            }
        }
        out
    }

    /// At the end of the chat stream: a failure if the answer did not finish.
    pub fn end(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.finished {
            let error =
                json!({"code": "internal_error", "message": "the answer stream ended before the answer was complete"});
            self.fail(&mut out, &error);
        }
        out
    }

    fn emit(&mut self, out: &mut Vec<u8>, mut data: Value) {
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.extend(responses::event_frame(&data));
    }

    fn chunk(&mut self, out: &mut Vec<u8>, chunk: &Value) {
        let delta = &chunk["choices"][0]["delta"];
        if let Some(text) = delta["reasoning_content"].as_str().filter(|t| !t.is_empty()) {
            self.reasoning(out, text);
        }
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            self.text(out, text);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            self.call(out, call);
        }
        if let Some(finish_reason) = chunk["choices"][0]["finish_reason"].as_str() {
            self.close(out);
            let status = Status::of_finish_reason(finish_reason);
            let usage = chunk.get("usage").filter(|u| !u.is_null()).map(responses::usage);
            let routing = chunk.get("routing").filter(|r| !r.is_null()).cloned();
            if let Some(model) = chunk["model"].as_str() {
                self.context.head.model = model.to_owned();
            }
            let response = responses::response(&self.context.head, &status, self.output.clone(), usage, routing);
            if let Status::Failed { code, message } = &status {
                self.emit(out, json!({"type": "error", "code": code, "message": message, "param": null}));
            }
            self.emit(out, json!({"type": status.final_event(), "response": response}));
            self.finished = true;
        }
    }

    fn reasoning(&mut self, out: &mut Vec<u8>, text: &str) {
        if !matches!(self.open, Some(Open::Reasoning { .. })) {
            self.close(out);
            let index = self.output.len();
            let item = responses::reasoning_item(&self.id("rs", index), "", "in_progress");
            self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": item}));
            self.open = Some(Open::Reasoning { index, text: String::new() });
        }
        let Some(Open::Reasoning { index, text: so_far }) = &mut self.open else { return };
        so_far.push_str(text);
        let index = *index;
        let id = self.id("rs", index);
        self.emit(
            out,
            json!({"type": "response.reasoning_text.delta", "item_id": id, "output_index": index,
            "content_index": 0, "delta": text}),
        );
    }

    fn text(&mut self, out: &mut Vec<u8>, text: &str) {
        if !matches!(self.open, Some(Open::Message { .. })) {
            self.close(out);
            let index = self.output.len();
            let id = self.id("msg", index);
            let item = responses::message_item(&id, None, "in_progress");
            self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": item}));
            self.emit(
                out,
                json!({"type": "response.content_part.added", "item_id": id, "output_index": index,
                "content_index": 0, "part": responses::output_text("")}),
            );
            self.open = Some(Open::Message { index, text: String::new() });
        }
        let Some(Open::Message { index, text: so_far }) = &mut self.open else { return };
        so_far.push_str(text);
        let index = *index;
        let id = self.id("msg", index);
        self.emit(
            out,
            json!({"type": "response.output_text.delta", "item_id": id, "output_index": index,
            "content_index": 0, "delta": text, "logprobs": []}),
        );
    }

    fn call(&mut self, out: &mut Vec<u8>, call: &Value) {
        let chat_index = call["index"].as_u64().unwrap_or(0);
        if !matches!(&self.open, Some(Open::Call { chat_index: open, .. }) if *open == chat_index) {
            self.close(out);
            let index = self.output.len();
            let call_id = call["id"].as_str().unwrap_or_default().to_owned();
            let name = call["function"]["name"].as_str().unwrap_or_default().to_owned();
            let item = responses::function_call_item(
                &self.id("fc", index),
                &call_id,
                &name,
                "",
                self.context.namespace(&name),
                "in_progress",
            );
            self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": item}));
            self.open = Some(Open::Call { chat_index, index, call_id, name, arguments: String::new() });
        }
        let fragment = match &call["function"]["arguments"] {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let Some(Open::Call { index, arguments, .. }) = &mut self.open else { return };
        if fragment.is_empty() {
            return;
        }
        arguments.push_str(&fragment);
        let index = *index;
        let id = self.id("fc", index);
        self.emit(
            out,
            json!({"type": "response.function_call_arguments.delta", "item_id": id,
            "output_index": index, "delta": fragment}),
        );
    }

    /// Ends the open item: its `.done` events and `response.output_item.done`.
    fn close(&mut self, out: &mut Vec<u8>) {
        let item = match self.open.take() {
            None => return,
            Some(Open::Reasoning { index, text }) => {
                let id = self.id("rs", index);
                self.emit(
                    out,
                    json!({"type": "response.reasoning_text.done", "item_id": id, "output_index": index,
                    "content_index": 0, "text": text}),
                );
                responses::reasoning_item(&id, &text, "completed")
            }
            Some(Open::Message { index, text }) => {
                let id = self.id("msg", index);
                self.emit(
                    out,
                    json!({"type": "response.output_text.done", "item_id": id, "output_index": index,
                    "content_index": 0, "text": text, "logprobs": []}),
                );
                self.emit(
                    out,
                    json!({"type": "response.content_part.done", "item_id": id, "output_index": index,
                    "content_index": 0, "part": responses::output_text(&text)}),
                );
                responses::message_item(&id, Some(&text), "completed")
            }
            Some(Open::Call { index, call_id, name, arguments, .. }) => {
                let id = self.id("fc", index);
                self.emit(
                    out,
                    json!({"type": "response.function_call_arguments.done", "item_id": id,
                    "output_index": index, "name": name, "arguments": arguments}),
                );
                responses::function_call_item(
                    &id,
                    &call_id,
                    &name,
                    &arguments,
                    self.context.namespace(&name),
                    "completed",
                )
            }
        };
        let index = self.output.len();
        self.emit(out, json!({"type": "response.output_item.done", "output_index": index, "item": item}));
        self.output.push(item);
    }

    /// An `error` event and `response.failed`, with what was finished before the failure.
    fn fail(&mut self, out: &mut Vec<u8>, error: &Value) {
        let code = error["code"].as_str().unwrap_or("server_error").to_owned();
        let message = error["message"].as_str().unwrap_or("the answer failed").to_owned();
        self.open = None;
        self.emit(out, json!({"type": "error", "code": code, "message": message, "param": error.get("param").cloned().unwrap_or(Value::Null)}));
        let status = Status::Failed { code, message };
        let response = responses::response(&self.context.head, &status, self.output.clone(), None, None);
        self.emit(out, json!({"type": "response.failed", "response": response}));
        self.finished = true;
    }

    fn id(&self, prefix: &str, index: usize) -> String {
        item_id(prefix, &self.context.head.id, index)
    }
}

/// The Responses event stream of a chat SSE stream. The chat stream is read to its end even
/// after the answer is complete, so it settles its accounts and writes its metrics record.
pub fn sse<S>(chat: S, context: Context) -> impl Stream<Item = Result<Bytes, Infallible>> + Send
where
    S: Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
{
    let chat: Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>> = Box::pin(chat);
    let state = (chat, Events::new(context), false, false);
    futures_util::stream::unfold(state, |(mut chat, mut events, started, ended)| async move {
        if ended {
            return None;
        }
        if !started {
            let head = events.start();
            return Some((Ok(Bytes::from(head)), (chat, events, true, false)));
        }
        loop {
            match chat.next().await {
                Some(Ok(bytes)) => {
                    let out = events.feed(&bytes);
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), (chat, events, true, false)));
                    }
                }
                Some(Err(never)) => match never {},
                None => {
                    let out = events.end();
                    return (!out.is_empty()).then(|| (Ok(Bytes::from(out)), (chat, events, true, true)));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests;

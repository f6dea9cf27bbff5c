//! Replies a test queues for the next calls, answered instead of the scripted model: a recorded
//! reply played back byte for byte, or event-stream frames given one by one; either can be held
//! at a frame until the test releases it, and a [`Gate`] reports what became of it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use tokio::sync::Semaphore;

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// What the emulator answers to one call, instead of running the scripted model: see
/// [`Emulator::enqueue`](super::Emulator::enqueue).
pub struct Reply {
    status: StatusCode,
    content_type: String,
    error_type: Option<String>,
    pieces: Pieces,
    /// Known for a recorded body that is not a stream: sent as `content-length`, as recorded.
    length: Option<usize>,
    hold_at: Option<usize>,
}

/// The body, as the pieces it is sent in.
type Pieces = Box<dyn Iterator<Item = Bytes> + Send>;

impl Reply {
    /// A recorded reply, sent as it is: `status`, `content_type` and the raw `body` (for example
    /// decoded from a fixture cassette). An event-stream body is sent frame by frame, split at
    /// its frames' length prefixes; any other body is one piece.
    pub fn recorded(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        let body = body.into();
        let length = (content_type != EVENT_STREAM).then_some(body.len());
        let pieces: Vec<Bytes> = if content_type == EVENT_STREAM { split_frames(body) } else { vec![body] };
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: content_type.to_owned(),
            error_type: None,
            pieces: Box::new(pieces.into_iter()),
            length,
            hold_at: None,
        }
    }

    /// An HTTP error as Bedrock sends it: `status`, `x-amzn-ErrorType: <error_type>` and
    /// `{"message": <message>}`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Reply {
        let body = json!({ "message": message }).to_string();
        Reply::recorded(status, "application/json", body).error_type(error_type)
    }

    /// A `200` event stream of these frames (from `frames::event_frame` and friends). Each frame
    /// is taken from the iterator only when its turn comes, so a long lazy answer costs nothing
    /// up front.
    pub fn frames<I>(frames: I) -> Reply
    where
        I: IntoIterator<Item = Bytes>,
        I::IntoIter: Send + 'static,
    {
        Reply {
            status: StatusCode::OK,
            content_type: EVENT_STREAM.to_owned(),
            error_type: None,
            pieces: Box::new(frames.into_iter()),
            length: None,
            hold_at: None,
        }
    }

    /// Adds the `x-amzn-ErrorType` header the SDKs name errors by.
    pub fn error_type(mut self, name: &str) -> Reply {
        self.error_type = Some(name.to_owned());
        self
    }

    /// Sends the frames before index `frame`, then waits for [`Gate::release`] before sending
    /// the rest (`0` holds even the response's first byte of body).
    pub fn hold_at(mut self, frame: usize) -> Reply {
        self.hold_at = Some(frame);
        self
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("error_type", &self.error_type)
            .field("hold_at", &self.hold_at)
            .finish_non_exhaustive()
    }
}

/// Splits an event-stream body at its frames' length prefixes, bytes unchanged; a tail that is
/// not a whole frame stays one last piece, so a damaged recording is played back as damaged.
fn split_frames(mut body: Bytes) -> Vec<Bytes> {
    let mut frames = Vec::new();
    while body.len() >= 4 {
        let length = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
        if length < 4 || length > body.len() {
            break;
        }
        frames.push(body.split_to(length));
    }
    if !body.is_empty() {
        frames.push(body);
    }
    frames
}

/// What a test holds on a queued reply: releases its held frames and sees what was sent.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    state: Arc<GateState>,
}

#[derive(Debug)]
struct GateState {
    released: Semaphore,
    sent: AtomicUsize,
    dropped_early: AtomicBool,
    first_sent_at: Mutex<Option<Instant>>,
}

impl Default for GateState {
    fn default() -> Self {
        GateState {
            released: Semaphore::new(0),
            sent: AtomicUsize::new(0),
            dropped_early: AtomicBool::new(false),
            first_sent_at: Mutex::new(None),
        }
    }
}

impl Gate {
    /// Lets the held frames go (all of them). Releasing before the hold is reached is fine.
    pub fn release(&self) {
        self.state.released.add_permits(1);
    }

    /// Frames (pieces of the body) handed to the HTTP server so far.
    pub fn sent(&self) -> usize {
        self.state.sent.load(Ordering::SeqCst)
    }

    /// True once the body was dropped before its end: the connection went away mid-reply.
    pub fn dropped_early(&self) -> bool {
        self.state.dropped_early.load(Ordering::SeqCst)
    }

    /// When the first frame was handed to the HTTP server.
    pub fn first_sent_at(&self) -> Option<Instant> {
        *self.state.first_sent_at.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// The replies waiting for calls, first in first out.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    waiting: Mutex<VecDeque<(Reply, Gate)>>,
}

impl Queue {
    pub(crate) fn push(&self, reply: Reply) -> Gate {
        let gate = Gate::default();
        self.lock().push_back((reply, gate.clone()));
        gate
    }

    pub(crate) fn pop(&self) -> Option<(Reply, Gate)> {
        self.lock().pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Reply, Gate)>> {
        self.waiting.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// The body being sent; dropping it before the end is what [`Gate::dropped_early`] reports.
struct Playing {
    pieces: Pieces,
    index: usize,
    hold_at: Option<usize>,
    gate: Gate,
    finished: bool,
}

impl Playing {
    /// Marks the body as sent to its end (a method, so the write is visibly read by `drop`).
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        if !self.finished {
            self.gate.state.dropped_early.store(true, Ordering::SeqCst);
        }
    }
}

/// The HTTP response of a queued reply.
pub(crate) fn respond(reply: Reply, gate: Gate) -> Response {
    let Reply { status, content_type, error_type, pieces, length, hold_at } = reply;
    let playing = Playing { pieces, index: 0, hold_at, gate, finished: false };
    let body = futures_util::stream::unfold(playing, |mut playing| async move {
        if Some(playing.index) == playing.hold_at {
            // The semaphore is never closed, so acquiring only fails if it were.
            if let Ok(permit) = playing.gate.state.released.acquire().await {
                permit.forget();
            }
        }
        let Some(piece) = playing.pieces.next() else {
            playing.finish();
            return None;
        };
        if playing.index == 0 {
            *playing.gate.state.first_sent_at.lock().unwrap_or_else(|poison| poison.into_inner()) =
                Some(Instant::now());
        }
        playing.index += 1;
        playing.gate.state.sent.fetch_add(1, Ordering::SeqCst);
        Some((Ok::<_, Infallible>(piece), playing))
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Some(value) = error_type.and_then(|name| HeaderValue::from_str(&name).ok()) {
        headers.insert("x-amzn-ErrorType", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::frames;

    #[test]
    fn recorded_event_streams_are_split_into_their_frames() {
        let first = frames::event_frame("messageStart", &json!({"role": "assistant"}), 3);
        let second = frames::event_frame("messageStop", &json!({"stopReason": "end_turn"}), 5);
        let body = [first.clone(), second.clone(), Bytes::from_static(b"tail")].concat();
        assert_eq!(split_frames(Bytes::from(body)), [first, second, Bytes::from_static(b"tail")]);
    }

    #[test]
    fn queued_replies_are_taken_in_order() {
        let queue = Queue::default();
        queue.push(Reply::error(429, "ThrottlingException", "slow down"));
        queue.push(Reply::recorded(200, "application/json", "{}").hold_at(0));
        let (first, _) = queue.pop().unwrap();
        assert_eq!((first.status.as_u16(), first.error_type.as_deref()), (429, Some("ThrottlingException")));
        let (second, _) = queue.pop().unwrap();
        assert_eq!(second.hold_at, Some(0));
        assert!(queue.pop().is_none());
    }
}

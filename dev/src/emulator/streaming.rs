//! Streamed bodies, frame by frame: each frame is encoded only when its turn comes,
//! `[[delay:MS]]` apart, and `[[midstream:TYPE]]` cuts the stream with an exception frame, so a
//! client sees the first events long before the last one exists. ConverseStream and
//! InvokeModelWithResponseStream both stream this way.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use super::faults;
use super::frames;
use super::script::Controls;

/// When the stream started and when its first frame went out, for latency figures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) started: Instant,
    pub(crate) first_frame: Option<Instant>,
}

impl Timing {
    pub(crate) fn latency_ms(&self) -> u64 {
        millis(self.started.elapsed())
    }

    pub(crate) fn first_byte_ms(&self) -> u64 {
        self.first_frame.map_or_else(|| self.latency_ms(), |at| millis(at - self.started))
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// One frame still to send.
pub(crate) enum Frame {
    /// A ConverseStream event: `:event-type` and payload (padded when sent).
    Event(&'static str, Value),
    /// An InvokeModelWithResponseStream `chunk`: the JSON its `bytes` carry.
    Chunk(Value),
    /// A frame made when its turn comes, from the timing so far (usage, latency).
    Late(Box<dyn FnOnce(&Timing) -> Frame + Send>),
}

/// A frame and its place in the answer, which `[[midstream:TYPE]]` cuts by.
pub(crate) struct Step {
    frame: Frame,
    delta: bool,
    closing: bool,
}

impl Step {
    /// A frame before or between the answer's pieces.
    pub(crate) fn other(frame: Frame) -> Step {
        Step { frame, delta: false, closing: false }
    }

    /// A frame carrying a piece of the answer.
    pub(crate) fn delta(frame: Frame) -> Step {
        Step { frame, delta: true, closing: false }
    }

    /// The first frame of the end of the answer (the stop).
    pub(crate) fn closing(frame: Frame) -> Step {
        Step { frame, delta: false, closing: true }
    }
}

/// A frame ready to go: events and chunks, or the exception of `[[midstream]]`.
enum Planned {
    Frame(Frame),
    Exception(String, Value),
}

/// The `200` event-stream response of `steps`, with the stream directives of `controls`.
pub(crate) fn respond(steps: Vec<Step>, controls: &Controls, started: Instant) -> Response {
    let mut plan = Vec::with_capacity(steps.len());
    let mut deltas = 0;
    for step in steps {
        if let Some(exception) = &controls.midstream
            && (deltas == 2 || step.closing)
        {
            let (wire, payload) = faults::stream_exception(exception);
            plan.push(Planned::Exception(wire, payload));
            break;
        }
        deltas += usize::from(step.delta);
        plan.push(Planned::Frame(step.frame));
    }

    let delay = controls.delay_ms.map(Duration::from_millis);
    let timing = Timing { started, first_frame: None };
    let frames = futures_util::stream::unfold((plan.into_iter().enumerate(), timing), move |(mut plan, mut timing)| {
        async move {
            let (index, next) = plan.next()?;
            if let Some(delay) = delay
                && index > 0
            {
                tokio::time::sleep(delay).await;
            }
            timing.first_frame.get_or_insert_with(Instant::now);
            // Padding lengths vary like the recordings' do, but deterministically.
            let padding = 1 + (index * 23 + 11) % 52;
            let frame = match next {
                Planned::Frame(frame) => encode(frame, padding, &timing),
                Planned::Exception(kind, payload) => frames::exception_frame(&kind, &payload),
            };
            Some((Ok::<Bytes, Infallible>(frame), (plan, timing)))
        }
    });
    let mut response = Response::new(Body::from_stream(frames));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.amazon.eventstream"));
    response
}

fn encode(frame: Frame, padding: usize, timing: &Timing) -> Bytes {
    match frame {
        Frame::Event(kind, payload) => frames::event_frame(kind, &payload, padding),
        Frame::Chunk(payload) => frames::chunk_frame(&payload),
        Frame::Late(make) => encode(make(timing), padding, timing),
    }
}

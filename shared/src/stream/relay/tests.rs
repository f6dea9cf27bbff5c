//! The relay frame by frame: order, errors after the start, the deadline, dropped callers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ConversationRole, ConverseStreamMetadataEvent, MessageStartEvent,
    MessageStopEvent, StopReason,
};
use futures_util::FutureExt;
use tokio::sync::mpsc;

use super::*;
use crate::bedrock::EventStream;
use crate::convert::response::Envelope;

fn start() -> ConverseStreamOutput {
    ConverseStreamOutput::MessageStart(MessageStartEvent::builder().role(ConversationRole::Assistant).build().unwrap())
}

fn text(text: &str) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(0)
            .delta(ContentBlockDelta::Text(text.into()))
            .build()
            .unwrap(),
    )
}

fn end() -> [ConverseStreamOutput; 2] {
    [
        ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder().stop_reason(StopReason::EndTurn).build().unwrap(),
        ),
        ConverseStreamOutput::Metadata(ConverseStreamMetadataEvent::builder().build()),
    ]
}

fn mapper() -> ChunkMapper {
    ChunkMapper::new(Envelope::new("mistral.test"), None)
}

/// A Bedrock stream fed by the test through a channel.
fn channel() -> (mpsc::UnboundedSender<Result<ConverseStreamOutput, ApiError>>, EventStream) {
    let (tx, rx) = mpsc::unbounded_channel();
    let events = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    (tx, Box::pin(events))
}

fn frames_text(frames: &[Bytes]) -> Vec<String> {
    frames.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect()
}

#[tokio::test]
async fn relays_one_frame_per_chunk_and_ends_with_done() {
    let rest: Vec<_> = [text("Hi"), text(" there")].into_iter().chain(end()).map(Ok).collect();
    let started = Started { first: start(), events: Box::pin(futures_util::stream::iter(rest)) };
    let frames: Vec<Bytes> =
        sse(started, mapper(), Deadline::after(Duration::from_secs(5))).map(|f| f.unwrap()).collect().await;
    let frames = frames_text(&frames);
    assert_eq!(frames.len(), 4, "{frames:#?}");
    assert!(frames.iter().all(|f| f.starts_with("data: {") && f.ends_with("\n\n")));
    assert!(frames[0].contains(r#""role":"assistant""#));
    assert!(frames[3].contains(r#""finish_reason":"stop""#) && frames[3].contains(r#""usage""#));
    assert!(frames[3].ends_with("\n\ndata: [DONE]\n\n"));
}

#[tokio::test]
async fn each_frame_leaves_before_the_next_event_exists() {
    let (tx, events) = channel();
    let started = Started { first: start(), events };
    let mut body = Box::pin(sse(started, mapper(), Deadline::after(Duration::from_secs(5))));
    let role = body.next().await.unwrap().unwrap();
    assert!(std::str::from_utf8(&role).unwrap().contains("assistant"));
    assert!(body.next().now_or_never().is_none(), "nothing to send before Bedrock's next event");
    tx.send(Ok(text("Hi"))).unwrap();
    let hi = body.next().await.unwrap().unwrap();
    assert!(std::str::from_utf8(&hi).unwrap().contains(r#""content":"Hi""#));
    assert!(body.next().now_or_never().is_none());
}

#[tokio::test]
async fn an_error_after_the_first_event_is_the_last_frame() {
    let rest = vec![
        Ok(text("Hi")),
        Err(ApiError::Throttled { message: "slow down".into(), retry_after: 2 }),
        Ok(text("never sent")),
    ];
    let started = Started { first: start(), events: Box::pin(futures_util::stream::iter(rest)) };
    let frames: Vec<Bytes> =
        sse(started, mapper(), Deadline::after(Duration::from_secs(5))).map(|f| f.unwrap()).collect().await;
    let frames = frames_text(&frames);
    assert_eq!(frames.len(), 3, "{frames:#?}");
    let error: serde_json::Value = serde_json::from_str(frames[2].strip_prefix("data: ").unwrap().trim()).unwrap();
    assert_eq!(error["error"]["code"], "throttled");
    assert_eq!(error["error"]["type"], "rate_limit_error");
    assert!(frames.iter().all(|f| !f.contains("[DONE]") && !f.contains("never sent")));
}

#[tokio::test]
async fn a_stream_cut_short_ends_with_an_error_event() {
    let started = Started { first: start(), events: Box::pin(futures_util::stream::iter(vec![Ok(text("Hi"))])) };
    let frames: Vec<Bytes> =
        sse(started, mapper(), Deadline::after(Duration::from_secs(5))).map(|f| f.unwrap()).collect().await;
    let last = frames_text(&frames).pop().unwrap();
    assert!(last.contains(r#""code":"bedrock_error""#), "{last}");
}

#[tokio::test]
async fn the_deadline_ends_a_stalled_stream_with_a_timeout_event() {
    let (_tx, events) = channel();
    let started = Started { first: start(), events };
    let frames: Vec<Bytes> =
        sse(started, mapper(), Deadline::after(Duration::from_millis(50))).map(|f| f.unwrap()).collect().await;
    let frames = frames_text(&frames);
    assert_eq!(frames.len(), 2, "{frames:#?}");
    assert!(frames[1].contains(r#""code":"timeout""#) && frames[1].contains("STREAM_TIMEOUT_MS"), "{}", frames[1]);
}

#[tokio::test]
async fn dropping_the_body_drops_the_bedrock_stream() {
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Guard(dropped.clone());
    let (_tx, events) = channel();
    let events = events.map(move |e| {
        let _ = &guard;
        e
    });
    let started = Started { first: start(), events: Box::pin(events) };
    let mut body = Box::pin(sse(started, mapper(), Deadline::after(Duration::from_secs(5))));
    body.next().await.unwrap().unwrap();
    assert!(!dropped.load(Ordering::SeqCst));
    drop(body);
    assert!(dropped.load(Ordering::SeqCst), "the Bedrock stream must go with the body");
}

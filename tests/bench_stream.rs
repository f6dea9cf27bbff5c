//! What the stream function adds between Bedrock and the caller, measured over real loopback
//! HTTP with the real SDK: the Bedrock emulator playing queued event-stream frames (encoded one
//! by one as they are sent) → `aws-sdk-bedrockruntime` → the stream route (chunk mapping, SSE
//! framing) → an HTTP client. Prints:
//! - first-event latency: from the moment Bedrock's first event is handed to its HTTP server to
//!   the first SSE byte at the client, p50/p99;
//! - throughput for long answers (2,000 and 20,000 deltas), over HTTP and for the mapping alone,
//!   and the same with the Bedrock emulator as upstream;
//! - peak heap in use while streaming, 2,000 vs 20,000 deltas (a counting allocator): flat if
//!   nothing of the answer accumulates; and the process's peak RSS.
//!
//! Run with `cargo bench -p tests --bench stream`. Everything runs on one thread, so the figures
//! are the CPU path itself, without cross-thread wake-ups.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ConversationRole, ConverseStreamOutput, MessageStartEvent,
};
use dev::emulator::{Emulator, Reply};
use shared::convert::response::Envelope;
use shared::stream::{ChunkMapper, sse};
use tests::frames::{text_frames, word_frames};
use tests::measure::{micros, peak_rss_kib, percentile};
use tests::{serve_stream_routes, stream_request};

const LATENCY_ROUNDS: usize = 1000;
const LATENCY_WARMUP: usize = 100;
const PATH: &str = "/stream/v1/chat/completions";

// ---------------------------------------------------------------------------------------------
// Heap accounting

struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = IN_USE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a new peak measurement; returns the heap in use now.
fn reset_peak() -> usize {
    let now = IN_USE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

// ---------------------------------------------------------------------------------------------

/// Reads a whole SSE response without keeping it: (events, bytes, time to the end).
async fn drain(mut response: reqwest::Response) -> (usize, usize, bool) {
    let (mut events, mut bytes, mut newline, mut tail) = (0, 0, false, Vec::new());
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        for &b in chunk.iter() {
            events += usize::from(newline && b == b'\n');
            newline = b == b'\n' && !newline;
        }
        tail = chunk[chunk.len().saturating_sub(16)..].to_vec();
    }
    (events, bytes, tail.ends_with(b"data: [DONE]\n\n"))
}

struct Run {
    elapsed: Duration,
    events: usize,
    bytes: usize,
    peak_heap: usize,
}

async fn long_answer(client: &reqwest::Client, url: &str, bedrock: &Emulator, deltas: usize) -> Run {
    bedrock.enqueue(Reply::frames(word_frames(deltas)));
    let body = stream_request("mistral-large", "Tell me a long story").to_string();
    let baseline = reset_peak();
    let started = Instant::now();
    let response = client.post(format!("{url}{PATH}")).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (events, bytes, done) = drain(response).await;
    let elapsed = started.elapsed();
    let peak_heap = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(done, "the stream ends with [DONE]");
    // Role chunk, one chunk per delta, the final chunk, [DONE].
    assert_eq!(events, deltas + 3);
    Run { elapsed, events, bytes, peak_heap }
}

fn mapping_only(deltas: usize) -> Duration {
    let start = ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder().role(ConversationRole::Assistant).build().unwrap(),
    );
    let events: Vec<ConverseStreamOutput> = std::iter::once(start)
        .chain((0..deltas).map(|i| {
            ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(0)
                    .delta(ContentBlockDelta::Text(format!(" word{i}")))
                    .build()
                    .unwrap(),
            )
        }))
        .collect();
    let mut mapper = ChunkMapper::new(Envelope::new("mistral.mistral-large-2407-v1:0"), None);
    let started = Instant::now();
    let mut bytes = 0;
    for event in &events {
        if let Some(chunk) = mapper.map(event) {
            bytes += sse::chunk(&chunk).len();
        }
    }
    let elapsed = started.elapsed();
    assert!(bytes > deltas * 100);
    elapsed
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let bedrock = Emulator::start().await.unwrap();
    let url = serve_stream_routes(&bedrock.url()).await;
    let client = reqwest::Client::new();
    let short = stream_request("mistral-large", "Hi").to_string();

    // First event → first SSE byte. Bedrock holds its first event until the request is waiting
    // for it, so connection set-up and request parsing are not part of the figure.
    let mut latencies = Vec::with_capacity(LATENCY_ROUNDS);
    for round in 0..LATENCY_WARMUP + LATENCY_ROUNDS {
        let gate = bedrock.enqueue(Reply::frames(text_frames(&["one", "two", "three"])).hold_at(0));
        let request = client.post(format!("{url}{PATH}")).body(short.clone()).send();
        let reader = tokio::spawn(async move {
            let mut response = request.await.unwrap();
            let first = response.chunk().await.unwrap().expect("a first chunk");
            let arrived = Instant::now();
            assert!(first.starts_with(b"data: {"), "{first:?}");
            while response.chunk().await.unwrap().is_some() {}
            arrived
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        gate.release();
        let arrived = reader.await.unwrap();
        let produced = gate.first_sent_at().expect("Bedrock sent its first event");
        if round >= LATENCY_WARMUP {
            latencies.push(arrived - produced);
        }
    }
    latencies.sort();
    println!("stream bench (release build, one thread, loopback HTTP, real SDK)");
    println!(
        "first Bedrock event -> first SSE byte at the client: p50 {:.0} us, p99 {:.0} us ({} rounds; target p50 <= 500 us)",
        micros(percentile(&latencies, 0.5)),
        micros(percentile(&latencies, 0.99)),
        latencies.len()
    );

    // Long answers over HTTP; the best of three per size, and the heap peak of that run.
    let mut peaks = Vec::new();
    for deltas in [2_000, 20_000] {
        let mut best: Option<Run> = None;
        for _ in 0..3 {
            let run = long_answer(&client, &url, &bedrock, deltas).await;
            if best.as_ref().is_none_or(|b| run.elapsed < b.elapsed) {
                best = Some(run);
            }
        }
        let run = best.unwrap();
        println!(
            "{deltas:>6} deltas over HTTP: {:.1} ms, {:.0} chunks/s, {:.1} MB/s of SSE, peak heap in use while streaming {:.1} KiB",
            run.elapsed.as_secs_f64() * 1e3,
            run.events as f64 / run.elapsed.as_secs_f64(),
            run.bytes as f64 / run.elapsed.as_secs_f64() / 1e6,
            run.peak_heap as f64 / 1024.0
        );
        peaks.push(run.peak_heap);
    }
    println!(
        "peak heap, 20,000 vs 2,000 deltas: x{:.2} (flat = no accumulation of the answer)",
        peaks[1] as f64 / peaks[0] as f64
    );

    for deltas in [2_000, 20_000] {
        let elapsed = (0..3).map(|_| mapping_only(deltas)).min().unwrap();
        println!(
            "{deltas:>6} deltas, mapping + SSE framing alone: {:.2} ms, {:.0} ns per chunk",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_nanos() as f64 / deltas as f64
        );
    }

    // The scripted model as upstream (`[[words:20000]]`); it prepares its whole reply up front,
    // so only its time is reported here, not memory.
    let emulator = Emulator::start().await.unwrap();
    let emulated = serve_stream_routes(&emulator.url()).await;
    let body = stream_request("mistral-large", "[[words:20000]]").to_string();
    let started = Instant::now();
    let response = client.post(format!("{emulated}{PATH}")).body(body).send().await.unwrap();
    let (events, _, done) = drain(response).await;
    let elapsed = started.elapsed();
    assert!(done && events == 20_000 + 3, "{events} events");
    println!(
        " 20000 deltas from the Bedrock emulator over HTTP: {:.1} ms, {:.0} chunks/s",
        elapsed.as_secs_f64() * 1e3,
        events as f64 / elapsed.as_secs_f64()
    );
    if let Some(kib) = peak_rss_kib(None) {
        println!("process peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}

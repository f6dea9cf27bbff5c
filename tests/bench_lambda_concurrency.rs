//! Many streams in one execution environment, as Lambda Managed Instances run them: the stream
//! function's release binary under the stub Runtime API with `AWS_LAMBDA_MAX_CONCURRENCY=100`,
//! handed 100 streaming invocations at once, against the same binary handed one. Bedrock is the
//! emulator's release binary, streaming each answer word by word with a pause between events, as
//! a model does, so a stream is mostly waiting.
//!
//! Every answer must arrive complete, in the streaming response mode, its words in order and its
//! text exactly its own. Prints the wall time of 100 against 1 (a sequential function would need
//! 100 times the one), the process's peak RSS after each, and its CPU time per stream.
//!
//! `scripts/bench lambda_concurrency` (it builds the release binaries first).

use std::time::{Duration, Instant};

use tests::measure::{millis, percentile, release_binary};
use tests::processes::{self, Process};
use tests::runtime_api::{Answer, RuntimeApi};
use tests::sse::{assert_complete_stream, content, parse_sse};
use tests::stream_request;
use tests::workload::rest_event;

const STREAMS: usize = 100;
/// Words of each prompt; the answer is `You said: ` and these, one event per word.
const WORDS: usize = 48;
/// Bedrock's pause between events.
const DELAY_MS: u64 = 20;

/// The words of stream `stream`'s prompt, its own: `s7w1 s7w2 ...`.
fn words(stream: usize) -> String {
    (1..=WORDS).map(|w| format!("s{stream}w{w}")).collect::<Vec<_>>().join(" ")
}

fn prompt(stream: usize) -> String {
    format!("{} [[delay:{DELAY_MS}]]", words(stream))
}

/// Checks one answer: streamed, status 200, a complete SSE sequence, exactly its own text.
fn check(stream: usize, answer: &Answer) {
    assert!(answer.streamed(), "stream {stream} was not sent in the streaming response mode");
    let (prelude, body) = answer.split();
    assert_eq!(prelude["statusCode"], 200, "stream {stream}: {prelude}");
    let chunks = assert_complete_stream(&parse_sse(body));
    assert_eq!(content(&chunks), format!("You said: {}", words(stream)), "stream {stream} is intact and in order");
}

struct Run {
    wall: Duration,
    peak_rss_kib: u64,
    /// CPU time of the function's threads over the run.
    cpu: Duration,
}

/// Starts a fresh stream function allowed `concurrency` invocations at once, hands it `streams`
/// invocations together and waits for every answer.
async fn run(bedrock: std::net::SocketAddr, concurrency: Option<usize>, streams: usize) -> Run {
    let mut api = RuntimeApi::start().await;
    let mut command = processes::function(&release_binary("stream"), &api, bedrock);
    command.env("RUST_LOG", "warn");
    if let Some(concurrency) = concurrency {
        command.env("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.to_string());
    }
    let function = Process::spawn(command);
    // Ready when it polls: the cold start is not part of the figure.
    api.poll(1).await;
    let cpu_before = function.cpu_time_precise();
    let started = Instant::now();
    for stream in 0..streams {
        let event = rest_event("/stream/v1/chat/completions", &stream_request("mistral-large", &prompt(stream)));
        api.push(&format!("stream-{stream}"), event);
    }
    let answers = api.answers(streams).await;
    let wall = started.elapsed();
    for (id, answer) in &answers {
        let stream: usize = id.trim_start_matches("stream-").parse().unwrap();
        check(stream, answer);
    }
    Run { wall, peak_rss_kib: function.peak_rss_kib(), cpu: function.cpu_time_precise() - cpu_before }
}

/// One invocation at a time, `rounds` times: from handing the event out to the first byte of the
/// SSE body at the Runtime API (the model answers at once), p50 and p99, and the function's CPU
/// time per invocation.
async fn first_event(bedrock: std::net::SocketAddr, rounds: usize) -> (Duration, Duration, Duration) {
    let mut api = RuntimeApi::start().await;
    let mut command = processes::function(&release_binary("stream"), &api, bedrock);
    command.env("RUST_LOG", "warn");
    let function = Process::spawn(command);
    api.poll(1).await;
    let cpu_before = function.cpu_time_precise();
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let event = rest_event("/stream/v1/chat/completions", &stream_request("mistral-large", "Hello there"));
        let pushed = Instant::now();
        api.push(&format!("first-event-{round}"), event);
        let (_, answer) = api.next_answer().await;
        samples.push(answer.body_at.expect("an SSE body") - pushed);
    }
    let cpu = (function.cpu_time_precise() - cpu_before) / rounds as u32;
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99), cpu)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (_emulator, bedrock) = processes::emulator().await;
    let (first_p50, first_p99, first_cpu) = first_event(bedrock, 1000).await;
    let classic = run(bedrock, None, 1).await;
    let one = run(bedrock, Some(STREAMS), 1).await;
    let many = run(bedrock, Some(STREAMS), STREAMS).await;
    println!(
        "lambda_concurrency: the stream function (release), AWS_LAMBDA_MAX_CONCURRENCY={STREAMS}, answers of {} events {DELAY_MS} ms apart",
        WORDS + 4
    );
    println!(
        "  event handed out -> first SSE byte at the Runtime API, one at a time: p50 {:.2} ms, p99 {:.2} ms; CPU {:.0} us per short stream",
        millis(first_p50),
        millis(first_p99),
        first_cpu.as_secs_f64() * 1e6
    );
    println!(
        "  1 stream, one invocation at a time (classic Lambda): wall {:7.0} ms   peak RSS {:5.1} MiB   CPU {:.2} ms per stream",
        millis(classic.wall),
        classic.peak_rss_kib as f64 / 1024.0,
        millis(classic.cpu)
    );
    println!(
        "  1 stream:    wall {:7.0} ms   peak RSS {:5.1} MiB   CPU {:.2} ms per stream",
        millis(one.wall),
        one.peak_rss_kib as f64 / 1024.0,
        millis(one.cpu)
    );
    println!(
        "  {STREAMS} streams: wall {:7.0} ms   peak RSS {:5.1} MiB   CPU {:.2} ms per stream   (all complete, in order, intact)",
        millis(many.wall),
        many.peak_rss_kib as f64 / 1024.0,
        millis(many.cpu) / STREAMS as f64
    );
    println!(
        "  {STREAMS} at once vs 1: wall x{:.2} (one at a time: x{STREAMS}), peak RSS x{:.2} (+{:.1} KiB per extra stream)",
        many.wall.as_secs_f64() / one.wall.as_secs_f64(),
        many.peak_rss_kib as f64 / one.peak_rss_kib as f64,
        (many.peak_rss_kib as f64 - one.peak_rss_kib as f64) / (STREAMS - 1) as f64
    );
}

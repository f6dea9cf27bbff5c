//! The relay of a started stream: one SSE frame per Bedrock event as soon as it is in, the
//! deadline enforced between events, and, once the answer is complete, the rest of Bedrock's
//! stream drained so its connection can be reused.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::Sleep;

use super::{ChunkMapper, Deadline, Started, sse as frames};
use crate::api::chunk::ChatChunk;
use crate::bedrock::EventStream;
use crate::error::ApiError;
use crate::metrics::Observation;
use crate::model_choice::Ledger;
use crate::model_choice::router::StreamCharge;

/// How long the rest of a finished stream is read (normally it has already ended) so that its
/// connection goes back to the pool instead of being closed.
const DRAIN_LIMIT: Duration = Duration::from_millis(250);

/// Where and how a streamed answer records its metrics when it ends.
#[derive(Debug, Clone)]
pub struct StreamMetrics {
    pub namespace: Arc<str>,
    pub function: &'static str,
    pub route: &'static str,
    /// When the request reached the gateway (time to first token counts from here).
    pub request_started: tokio::time::Instant,
    /// Time already spent on Bedrock before the stream started (triage, faults, the first event).
    pub bedrock_before: Duration,
    /// The caller's key, when keys are on.
    pub key_id: Option<String>,
}

/// The SSE body of a started answer: one frame per chunk, then `[DONE]`; or, if Bedrock fails
/// or the deadline passes mid-way, one error event, and the body ends.
pub fn sse(started: Started, mapper: ChunkMapper, deadline: Deadline) -> impl Stream<Item = Result<Bytes, Infallible>> {
    sse_recorded(started, mapper, Accounts::default(), deadline, None)
}

/// What a streamed answer settles when it ends: the request's routing accounts (the streamed
/// answer joins them, and the last chunk carries their sums and the `routing` report) and,
/// under a key, the streamed call's reservation.
#[derive(Default)]
pub struct Accounts {
    pub ledger: Option<Ledger>,
    pub charge: Option<StreamCharge>,
}

/// The same, with the request's accounts, writing the request's metrics record when the stream
/// ends.
pub fn sse_recorded(
    started: Started,
    mapper: ChunkMapper,
    accounts: Accounts,
    deadline: Deadline,
    metrics: Option<StreamMetrics>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let relay = Relay {
        first: Some(started.first),
        events: started.events,
        timer: Box::pin(tokio::time::sleep_until(deadline.at)),
        deadline,
        mapper,
        ledger: accounts.ledger,
        charge: accounts.charge,
        phase: Phase::Streaming,
        frames: 0,
        started: Instant::now(),
        first_frame_at: None,
        waiting: Duration::ZERO,
        metrics,
    };
    futures_util::stream::unfold(relay, |mut relay| async move {
        let frame = relay.next_frame().await?;
        Some((Ok(frame), relay))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Streaming,
    /// `[DONE]` is out; reading Bedrock's stream to its end.
    Draining,
    Done,
}

struct Relay {
    first: Option<ConverseStreamOutput>,
    events: EventStream,
    timer: Pin<Box<Sleep>>,
    deadline: Deadline,
    mapper: ChunkMapper,
    ledger: Option<Ledger>,
    charge: Option<StreamCharge>,
    phase: Phase,
    frames: usize,
    started: Instant,
    first_frame_at: Option<tokio::time::Instant>,
    /// Time spent waiting for Bedrock's events.
    waiting: Duration,
    metrics: Option<StreamMetrics>,
}

impl Relay {
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            match self.phase {
                Phase::Done => return None,
                Phase::Draining => {
                    let rest = &mut self.events;
                    let _ = tokio::time::timeout(DRAIN_LIMIT, async { while rest.next().await.is_some() {} }).await;
                    self.phase = Phase::Done;
                    return None;
                }
                Phase::Streaming => {}
            }
            let next = match self.first.take() {
                Some(first) => Some(Ok(first)),
                None => tokio::select! {
                    // The deadline first: a stream that is always ready must not outrun it.
                    biased;
                    () = &mut self.timer => {
                        let error = self.deadline.error(&self.mapper.envelope().model);
                        return Some(self.fail(error).await);
                    }
                    next = timed(&mut self.waiting, self.events.next()) => next,
                },
            };
            match next {
                Some(Ok(event)) => {
                    let Some(mut chunk) = self.mapper.map(&event) else { continue };
                    self.frames += 1;
                    self.first_frame_at.get_or_insert_with(tokio::time::Instant::now);
                    if self.mapper.is_finished() {
                        self.account(&mut chunk).await;
                        self.phase = Phase::Draining;
                        self.log_end("complete");
                        return Some(frames::last_chunk(&chunk));
                    }
                    return Some(frames::chunk(&chunk));
                }
                Some(Err(error)) => return Some(self.fail(error).await),
                None => {
                    self.phase = Phase::Done;
                    return Some(match self.mapper.end() {
                        Ok(Some(mut chunk)) => {
                            self.account(&mut chunk).await;
                            self.frames += 1;
                            self.log_end("complete");
                            frames::last_chunk(&chunk)
                        }
                        Ok(None) => Bytes::from_static(frames::DONE),
                        Err(error) => self.fail(error).await,
                    });
                }
            }
        }
    }

    /// The error event that ends the stream. Bedrock's usage never arrived, so a reservation is
    /// settled at its worst case.
    async fn fail(&mut self, error: ApiError) -> Bytes {
        self.phase = Phase::Done;
        if let Some(StreamCharge { budget, reservation }) = self.charge.take() {
            Box::pin(budget.settle(reservation, None)).await;
        }
        self.record(error.status().as_u16(), Some(error.code()));
        tracing::warn!(
            model = %self.mapper.envelope().model,
            status = error.status().as_u16(),
            code = error.code(),
            frames = self.frames,
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            "stream failed after it started; error event sent"
        );
        frames::error(&error)
    }

    fn log_end(&self, outcome: &'static str) {
        self.record(200, None);
        let usage = self.mapper.usage().unwrap_or_default();
        tracing::info!(
            model = %self.mapper.envelope().model,
            outcome,
            frames = self.frames,
            tool_calls = self.mapper.tool_calls(),
            finish_reason = ?self.mapper.finish_reason(),
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            "stream finished"
        );
    }
}

impl Relay {
    /// The answer's last chunk carries the request's accounts: the streamed answer joins them
    /// (a checked cascade answer, replayed, is in them already).
    async fn account(&mut self, chunk: &mut ChatChunk) {
        if let Some(StreamCharge { budget, reservation }) = self.charge.take() {
            let tokens = self.mapper.usage().map(|u| (u.prompt_tokens, u.completion_tokens));
            Box::pin(budget.settle(reservation, tokens)).await;
        }
        let (Some(ledger), Some(usage)) = (&mut self.ledger, self.mapper.usage()) else { return };
        if !ledger.has_answer() {
            ledger.record_answered(&self.mapper.envelope().model, usage);
        }
        chunk.usage = Some(ledger.usage());
        chunk.routing = Some(ledger.report());
    }

    /// Writes the request's metrics record: the answer's accounts, time to first token, and the
    /// time spent waiting on Bedrock.
    fn record(&self, status: u16, code: Option<&str>) {
        let Some(metrics) = &self.metrics else { return };
        let report = self.ledger.as_ref().map(Ledger::report);
        let usage = self.ledger.as_ref().map(Ledger::usage).or(self.mapper.usage()).unwrap_or_default();
        let mut observation = Observation::answered(
            &self.mapper.envelope().model,
            usage,
            report.as_ref(),
            metrics.bedrock_before + self.waiting,
            self.mapper.tool_calls(),
        );
        observation.time_to_first_token = self.first_frame_at.map(|at| at - metrics.request_started);
        observation.key_id = metrics.key_id.clone();
        let latency = metrics.request_started.elapsed();
        observation.record(metrics.function, metrics.route, status, code, latency).emit(&metrics.namespace);
    }
}

/// Awaits `work`, adding the time it took to `total`.
async fn timed<T>(total: &mut Duration, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = work.await;
    *total += started.elapsed();
    out
}

impl Drop for Relay {
    fn drop(&mut self) {
        if self.phase == Phase::Streaming {
            // 499, nginx's "client closed request": the caller left before the answer ended.
            self.record(499, Some("client_closed"));
            // Bedrock's usage will not arrive: the reservation is settled at its worst case.
            if let Some(StreamCharge { budget, reservation }) = self.charge.take()
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                runtime.spawn(async move { budget.settle(reservation, None).await });
            }
            tracing::info!(
                model = %self.mapper.envelope().model,
                frames = self.frames,
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "caller went away mid-stream; Bedrock stream dropped"
            );
        }
    }
}

#[cfg(test)]
mod tests;

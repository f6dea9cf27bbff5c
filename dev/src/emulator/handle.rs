//! The handle a test or the dev server holds on a running emulator: start it, point a client at
//! it, see what it received, and queue replies for the next calls.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::serve::ListenerExt;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::batch::{self, JobEvents};
use super::queue::{Gate, Reply};
use super::server;

/// A running emulator. Dropping it stops the server (gracefully: in-flight replies finish).
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Serves on a free port of 127.0.0.1, on the current tokio runtime; returns once accepting.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves on `addr` (port 0 picks a free one), on the current tokio runtime.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Without NODELAY, small event frames wait on delayed ACKs and streams stutter.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "bedrock emulator could not set TCP_NODELAY");
            }
        });
        let shared = Arc::new(server::Shared::default());
        let settings = batch::Settings::from_env().map_err(std::io::Error::other)?;
        shared.batch.configure(|current| *current = settings);
        let app = server::router(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                // A dropped sender is a shutdown too.
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::error!(%error, "bedrock emulator stopped");
            }
        });
        Ok(Emulator { addr, shared, shutdown: Some(shutdown) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for the SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls received so far (every operation), whatever their outcome.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The last request's JSON body, with `modelId` (percent-decoded) and `operation` (`converse`,
    /// `converse-stream`, `invoke` or `invoke-with-response-stream`) added, and for InvokeModel the
    /// guardrail headers as `guardrailConfig` (`guardrailIdentifier`, `guardrailVersion`,
    /// `trace`); a body that is not a JSON object is kept as a string under `rawBody`.
    pub fn last_request(&self) -> Option<Value> {
        self.shared.last_request.lock().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    /// Queues `reply` for the next call that has no earlier queued reply, whatever its operation,
    /// model or body: it takes precedence over the scripted model, validation included. The call
    /// is still counted and recorded. The returned [`Gate`] releases a reply built with
    /// [`Reply::hold_at`] and reports what was sent.
    pub fn enqueue(&self, reply: Reply) -> Gate {
        self.shared.queue.push(reply)
    }

    /// Makes the application inference profile `arn`
    /// (`arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID`) stand for `model_id`:
    /// calls naming it behave as calls to that model (tier, reasoning, native body included).
    /// An application profile that is not registered is an invalid model identifier.
    pub fn register_profile(&self, arn: &str, model_id: &str) {
        self.shared.profiles.register(arn, model_id);
    }

    /// Points batch jobs at an S3-compatible endpoint (`http://127.0.0.1:PORT`, e.g.
    /// `dev::s3::S3Server::url()`), which they read inputs from and write outputs to, signing
    /// with `dev::s3`'s test credentials. Overrides `AWS_ENDPOINT_URL_S3`.
    pub fn set_s3_endpoint(&self, url: &str) {
        let url = url.to_owned();
        self.shared.batch.configure(|settings| settings.s3_endpoint = Some(url));
    }

    /// Hands every batch job state change to `sink`, as the EventBridge event AWS delivers
    /// (see `batch::events`); each call is awaited before the job moves on. Overrides
    /// `EMULATOR_JOB_EVENTS_URL`.
    pub fn set_job_events(&self, sink: JobEvents) {
        self.shared.batch.configure(|settings| settings.events = Some(sink));
    }

    /// How long a batch job stays in each status (`EMULATOR_BATCH_STEP_MS`, default 1 s).
    pub fn set_batch_step(&self, step: std::time::Duration) {
        self.shared.batch.configure(|settings| settings.step = step);
    }

    /// The fewest records a batch job may hold (`EMULATOR_BATCH_MIN_RECORDS`, default
    /// [`batch::DEFAULT_MIN_RECORDS`], Bedrock's quota default).
    pub fn set_batch_min_records(&self, min_records: u64) {
        self.shared.batch.configure(|settings| settings.min_records = min_records);
    }

    /// The emulator's routes with a state of their own, to mount in another server.
    pub fn router() -> Router {
        server::router(Arc::new(server::Shared::default()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

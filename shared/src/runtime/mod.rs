//! How a function's process runs: the tokio runtime and the Lambda runner that fit the number of
//! invocations Lambda hands it at once.
//!
//! Classic Lambda gives an execution environment one invocation at a time, and at 128 MB about
//! 7% of one vCPU: there a single-threaded runtime does all the work on one thread, with no
//! hand-offs between threads (each one a futex wake and a context switch, CPU time the function
//! pays for and waits on). With `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances)
//! lambda_http's concurrent runners poll for that many invocations at once, and the runtime
//! gets one worker thread per vCPU of the environment. The sequential path is the plain runner,
//! exactly what classic Lambda has always run.

pub mod nodelay;

use std::convert::Infallible;
use std::fmt::Debug;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use lambda_http::lambda_runtime::Diagnostic;
use lambda_http::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tower::util::MapResponseLayer;
use tower::{Service, ServiceExt};

/// `AWS_LAMBDA_MAX_CONCURRENCY`, when it asks for more than one invocation at a time.
pub fn max_concurrency() -> Option<u32> {
    std::env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok()?.trim().parse().ok().filter(|&n| n > 1)
}

/// Runs a function's `main` future on the runtime that fits: single-threaded for one invocation
/// at a time, multi-threaded (a worker per vCPU) when Lambda sends several.
pub fn block_on<F: Future>(main: F) -> F::Output {
    let mut builder = match max_concurrency() {
        Some(_) => tokio::runtime::Builder::new_multi_thread(),
        None => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = builder.enable_all().build().expect("a tokio runtime (threads, timers, sockets)");
    runtime.block_on(main)
}

/// Serves a router whose answers are buffered (API Gateway proxy responses).
pub async fn serve(router: Router) -> Result<(), Error> {
    match max_concurrency() {
        Some(_) => lambda_http::run_concurrent(collected(router)).await,
        None => lambda_http::run(router).await,
    }
}

/// Serves a router whose answers are streamed as they are made (Lambda response streaming), each
/// write sent at once (see [`nodelay`]).
pub async fn serve_streaming(router: Router) -> Result<(), Error> {
    let router = match nodelay::runtime_api_addr() {
        Some(runtime_api) => {
            // One invocation at a time: a scan per answer costs a few system calls. Many at once:
            // a few scans a second find the (rare) new connections.
            let interval = if max_concurrency().is_some() { Duration::from_millis(50) } else { Duration::ZERO };
            let limiter = Arc::new(nodelay::Limiter::new(interval));
            router.layer(MapResponseLayer::new(move |response| nodelay_on_send(runtime_api, &limiter, response)))
        }
        None => router,
    };
    match max_concurrency() {
        Some(_) => lambda_http::run_with_streaming_response_concurrent(router).await,
        None => lambda_http::run_with_streaming_response(router).await,
    }
}

/// Sets `TCP_NODELAY` on the Runtime API connections when the answer's head is ready (the
/// connection its body will go on is in the pool by then, or being opened) and again with its
/// first body chunk (by when a newly opened one is connected).
fn nodelay_on_send(runtime_api: SocketAddr, limiter: &Arc<nodelay::Limiter>, response: Response) -> Response {
    if limiter.allow() {
        nodelay::set_on_connections_to(runtime_api);
    }
    let (limiter, mut first) = (limiter.clone(), true);
    response.map(|body| {
        Body::from_stream(body.into_data_stream().inspect(move |_| {
            if std::mem::take(&mut first) && limiter.allow() {
                nodelay::set_on_connections_to(runtime_api);
            }
        }))
    })
}

/// Serves raw Lambda events (any trigger) with `handler`; its answer is the function's response.
/// Under `AWS_LAMBDA_MAX_CONCURRENCY`, lambda_runtime's concurrent runner calls it for that many
/// invocations at once.
pub async fn serve_events<H, F, R, E>(handler: H) -> Result<(), Error>
where
    H: Fn(LambdaEvent<Value>) -> F + Clone + Send + 'static,
    F: Future<Output = Result<R, E>> + Send + 'static,
    R: Serialize + Send + 'static,
    E: Into<Diagnostic> + Debug,
{
    let handler = lambda_http::service_fn(handler);
    match max_concurrency() {
        Some(_) => lambda_http::lambda_runtime::run_concurrent(handler).await,
        None => lambda_http::lambda_runtime::run(handler).await,
    }
}

/// The router with its answers read into one buffer, as the concurrent runner wants them
/// (`Sync`, which an axum body is not); lambda_http then encodes them exactly as it does the
/// router's own (text or base64 by content type).
fn collected(
    router: Router,
) -> impl Service<lambda_http::Request, Response = http::Response<Full<Bytes>>, Error = Error, Future: Send>
+ Clone
+ Send
+ 'static {
    let router = ServiceExt::<lambda_http::Request>::map_err(router, |never: Infallible| -> Error { match never {} });
    ServiceExt::<lambda_http::Request>::and_then(router, |response: axum::response::Response| async move {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(http::Response::from_parts(parts, Full::new(bytes)))
    })
}

//! One metrics record per request: this layer times every request to a route of [`super::ROUTES`]
//! and writes its EMF record from the [`Observation`] the handler left in the response (model,
//! tokens, cost, escalations) and the status it ended with. A streamed answer is still running
//! when its handler returns, so it is marked [`Deferred`] and records itself at its end.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;

use super::ROUTES;
use crate::error::ErrorCode;
use crate::metrics::Observation;

/// When the request reached the gateway, for handlers that measure from there (streams).
#[derive(Debug, Clone, Copy)]
pub struct RequestStarted(pub Instant);

/// In a response's extensions: the caller's key, for the metrics record (the key check, inside
/// this layer, puts it there).
#[derive(Debug, Clone)]
pub struct KeyId(pub String);

/// In a response's extensions: the answer records its own metrics when it ends.
#[derive(Debug, Clone, Copy)]
pub struct Deferred;

/// The layer: `namespace` is where records go, `None` when metrics are off.
pub async fn observe(State(namespace): State<Option<Arc<str>>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    request.extensions_mut().insert(RequestStarted(started));
    let response = next.run(request).await;
    let Some(namespace) = namespace else { return response };
    if response.extensions().get::<Deferred>().is_some() {
        return response;
    }
    let Some(route) = ROUTES.iter().find(|r| r.path == path) else { return response };
    let mut observation = response.extensions().get::<Observation>().cloned().unwrap_or_default();
    observation.key_id = response.extensions().get::<KeyId>().map(|k| k.0.clone());
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    observation
        .record(route.function, route.path, response.status().as_u16(), code, started.elapsed())
        .emit(&namespace);
    response
}

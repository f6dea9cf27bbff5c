//! The HTTP routes, as tower services: what the Lambda runtime calls, what the dev server
//! mounts, and what tests drive. Each function serves its own router; the paths are the full
//! paths API Gateway forwards, so one table (`ROUTES`) describes the code and the template alike.

mod body;
mod chat;
mod models;
mod stage;
mod stream;
mod tools;

use axum::Router;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;

pub use body::read_body;

/// One HTTP route and the function that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

/// Every route of the API. `template.yaml` must route exactly these (a test checks it).
pub const ROUTES: &[Route] = &[
    Route { method: "POST", path: "/v1/chat/completions", function: "converse" },
    Route { method: "GET", path: "/v1/models", function: "converse" },
    Route { method: "POST", path: "/stream/v1/chat/completions", function: "stream" },
    Route { method: "POST", path: "/tools/v1/chat/completions", function: "tools" },
];

/// The `converse` function: synchronous chat and the model list.
pub fn converse_router(state: AppState) -> Router {
    finish(converse_routes(), state)
}

/// The `stream` function: server-sent events through Lambda response streaming.
pub fn stream_router(state: AppState) -> Router {
    finish(stream_routes(), state)
}

/// The `tools` function: the server-side tool loop.
pub fn tools_router(state: AppState) -> Router {
    finish(tools_routes(), state)
}

/// Every function's routes on one router, as API Gateway would route them (the dev server).
pub fn all_routes(state: AppState) -> Router {
    finish(converse_routes().merge(stream_routes()).merge(tools_routes()), state)
}

fn converse_routes() -> Router<AppState> {
    Router::new().route("/v1/chat/completions", post(chat::complete)).route("/v1/models", get(models::list))
}

fn stream_routes() -> Router<AppState> {
    Router::new().route("/stream/v1/chat/completions", post(stream::complete))
}

fn tools_routes() -> Router<AppState> {
    Router::new().route("/tools/v1/chat/completions", post(tools::complete))
}

/// JSON 404/405 in the API's error shape, the state, and stage-free paths: the stage is
/// stripped before routing, so the inner router is wrapped as a whole.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let inner = routes.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(state);
    Router::new().fallback_service(tower::ServiceBuilder::new().map_request(stage::strip_stage).service(inner))
}

async fn not_found(uri: http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {}; the API serves /v1/chat/completions, /v1/models, /stream/v1/chat/completions and /tools/v1/chat/completions",
        uri.path()
    ))
}

async fn method_not_allowed(method: http::Method, uri: http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

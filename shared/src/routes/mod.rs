//! The HTTP routes, as tower services: what the Lambda runtime calls, what the dev server
//! mounts, and what tests drive. Each function serves its own router; the paths are the full
//! paths API Gateway forwards, so one table ([`ROUTES`]) builds every router, writes the 404
//! text, and is what the template test checks `template.yaml` against.

mod auth;
mod batches;
mod body;
mod chat;
mod extract;
mod files;
mod key;
mod models;
pub mod observe;
mod responses;
mod stage;
mod stream;
mod tools;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::error::ApiError;
use crate::keys::Keys;
use crate::state::{AppState, ToolsState};

pub use body::read_body;
pub use extract::ChatBody;

/// One HTTP route, the function that serves it and its handler.
#[derive(Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    handler: Handler,
}

/// A route's handler, on the state of the function that serves it.
#[derive(Clone, Copy)]
enum Handler {
    App(fn(MethodFilter) -> MethodRouter<AppState>),
    Tools(fn(MethodFilter) -> MethodRouter<ToolsState>),
}

/// Every route of the API. `template.yaml` must route exactly these (a test checks it).
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/v1/chat/completions",
        function: "converse",
        handler: Handler::App(|m| on(m, chat::post_chat)),
    },
    Route {
        method: "POST",
        path: "/v1/responses",
        function: "converse",
        handler: Handler::App(|m| on(m, responses::post_responses)),
    },
    Route { method: "GET", path: "/v1/models", function: "converse", handler: Handler::App(|m| on(m, models::list)) },
    Route { method: "GET", path: "/v1/key", function: "converse", handler: Handler::App(|m| on(m, key::get_key)) },
    Route {
        method: "POST",
        path: "/stream/v1/chat/completions",
        function: "stream",
        handler: Handler::App(|m| on(m, stream::post_stream_chat)),
    },
    Route {
        method: "POST",
        path: "/stream/v1/responses",
        function: "stream",
        handler: Handler::App(|m| on(m, responses::post_stream_responses)),
    },
    Route {
        method: "POST",
        path: "/tools/v1/chat/completions",
        function: "tools",
        handler: Handler::Tools(|m| on(m, tools::post_tools_chat)),
    },
    // Uploads are bounded by BATCH_MAX_UPLOAD_BYTES as they are read, with a 413 that names
    // the way for larger files, rather than by axum's default limit.
    Route {
        method: "POST",
        path: "/v1/files",
        function: "batch",
        handler: Handler::App(|m| on(m, files::upload).layer(DefaultBodyLimit::disable())),
    },
    Route { method: "GET", path: "/v1/files", function: "batch", handler: Handler::App(|m| on(m, files::list)) },
    Route {
        method: "GET",
        path: "/v1/files/{file_id}",
        function: "batch",
        handler: Handler::App(|m| on(m, files::get)),
    },
    Route {
        method: "GET",
        path: "/v1/files/{file_id}/content",
        function: "batch",
        handler: Handler::App(|m| on(m, files::content)),
    },
    Route {
        method: "DELETE",
        path: "/v1/files/{file_id}",
        function: "batch",
        handler: Handler::App(|m| on(m, files::delete)),
    },
    Route {
        method: "POST",
        path: "/v1/batches",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::post_batch)),
    },
    Route {
        method: "GET",
        path: "/v1/batches",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::list_batches)),
    },
    Route {
        method: "GET",
        path: "/v1/batches/{batch_id}",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::get_batch)),
    },
    Route {
        method: "POST",
        path: "/v1/batches/{batch_id}/cancel",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::cancel_batch)),
    },
    Route {
        method: "POST",
        path: "/v1/batch/jobs",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::post_job)),
    },
    Route {
        method: "GET",
        path: "/v1/batch/jobs",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::list_jobs)),
    },
    Route {
        method: "GET",
        path: "/v1/batch/jobs/{job_id}",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::get_job)),
    },
    Route {
        method: "POST",
        path: "/v1/batch/jobs/{job_id}/cancel",
        function: "batch",
        handler: Handler::App(|m| on(m, batches::cancel_job)),
    },
];

/// The `converse` function: synchronous chat and the model list.
pub fn converse_router(state: AppState) -> Router {
    let (metrics, keys) = (namespace(&state), state.keys.clone());
    finish(app_routes(&["converse"]).with_state(state), metrics, keys)
}

/// The `stream` function: server-sent events through Lambda response streaming.
pub fn stream_router(state: AppState) -> Router {
    let (metrics, keys) = (namespace(&state), state.keys.clone());
    finish(app_routes(&["stream"]).with_state(state), metrics, keys)
}

/// The `batch` function: files, OpenAI's batches and Mistral's batch jobs.
pub fn batch_router(state: AppState) -> Router {
    let (metrics, keys) = (namespace(&state), state.keys.clone());
    finish(app_routes(&["batch"]).with_state(state), metrics, keys)
}

/// The `tools` function: the server-side tool loop.
pub fn tools_router(state: ToolsState) -> Router {
    let (metrics, keys) = (namespace(&state.app), state.app.keys.clone());
    finish(tool_routes().with_state(state), metrics, keys)
}

/// Every function's routes on one router, as API Gateway would route them (the dev server).
pub fn all_routes(state: ToolsState) -> Router {
    let (metrics, keys) = (namespace(&state.app), state.app.keys.clone());
    let routes = app_routes(&["converse", "stream", "batch"])
        .with_state(state.app.clone())
        .merge(tool_routes().with_state(state));
    finish(routes, metrics, keys)
}

fn namespace(state: &AppState) -> Option<Arc<str>> {
    state.config.metrics_namespace.as_deref().map(Arc::from)
}

fn app_routes(functions: &[&str]) -> Router<AppState> {
    ROUTES.iter().filter(|r| functions.contains(&r.function)).fold(Router::new(), |router, route| match route.handler {
        Handler::App(handler) => router.route(route.path, handler(method(route))),
        Handler::Tools(_) => router,
    })
}

fn tool_routes() -> Router<ToolsState> {
    ROUTES.iter().fold(Router::new(), |router, route| match route.handler {
        Handler::Tools(handler) => router.route(route.path, handler(method(route))),
        Handler::App(_) => router,
    })
}

fn method(route: &Route) -> MethodFilter {
    match route.method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "DELETE" => MethodFilter::DELETE,
        other => unreachable!("ROUTES uses GET, POST and DELETE only, not {other}"),
    }
}

/// JSON 404/405 in the API's error shape, the key check when keys are on, a metrics record per
/// request (refusals included), and stage-free paths: the stage is stripped before routing, so
/// the inner router is wrapped as a whole.
fn finish(routes: Router, metrics: Option<Arc<str>>, keys: Option<Arc<Keys>>) -> Router {
    let inner = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(keys, auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(metrics, observe::observe));
    Router::new().fallback_service(tower::ServiceBuilder::new().map_request(stage::strip_stage).service(inner))
}

async fn not_found(uri: http::Uri) -> ApiError {
    ApiError::NotFound(not_found_message(uri.path()))
}

/// Names the function that serves `path` when another one does, else every route of the API.
fn not_found_message(path: &str) -> String {
    if let Some(route) = ROUTES.iter().find(|r| r.path == path) {
        return format!(
            "{path} is served by the {} function, not by this one; call it through that function's base URL",
            route.function
        );
    }
    let mut paths: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
    paths.dedup();
    format!("no route for {path}; the API serves {}", paths.join(", "))
}

/// A JSON answer with its `x-routed-model` header and the observation its metrics record reads.
/// `tool_calls` counts the calls the answer made: returned to the caller, or run by the loop.
pub(crate) fn answered<F: serde::Serialize, X: serde::Serialize>(
    completion: crate::api::response::ChatCompletion<F, X>,
    bedrock_time: std::time::Duration,
    tool_calls: usize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let observation = crate::metrics::Observation::answered(
        &completion.model,
        completion.usage,
        completion.routing.as_ref(),
        bedrock_time,
        tool_calls,
    );
    let mut response = (routed_model(&completion.model), axum::Json(completion)).into_response();
    response.extensions_mut().insert(observation);
    response
}

/// The `x-routed-model` header every answer carries: the model that produced it.
pub(crate) fn routed_model(model_id: &str) -> [(http::HeaderName, http::HeaderValue); 1] {
    let value = http::HeaderValue::from_str(model_id).unwrap_or_else(|_| http::HeaderValue::from_static("unknown"));
    [(http::HeaderName::from_static("x-routed-model"), value)]
}

async fn method_not_allowed(method: http::Method, uri: http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_404_text_comes_from_the_route_table() {
        let text = not_found_message("/v2/chat/completions");
        for route in ROUTES {
            assert!(text.contains(route.path), "{text}");
        }
        let text = not_found_message("/tools/v1/chat/completions");
        assert!(text.contains("tools function"), "{text}");
    }
}

//! Removes the API Gateway stage from the path before routing.
//!
//! `lambda_http` puts the REST API stage in front of the path (`/prod/v1/chat/completions`) unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set; the routes are stage-free, so they work for any
//! stage name, HTTP API stages, Function URLs and the dev server alike.

use http::Request;
use http::uri::{PathAndQuery, Uri};
use lambda_http::request::RequestContext;

pub fn strip_stage<B>(mut request: Request<B>) -> Request<B> {
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(context)) => context.stage.clone(),
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") else { return request };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(&prefix).filter(|rest| rest.starts_with('/')) else { return request };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = PathAndQuery::try_from(path_and_query) {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

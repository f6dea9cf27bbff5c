//! The key check in front of every route when keys are on (`KEYS_TABLE`): the bearer token (or
//! `x-api-key`) must be a live key that may call the path, within its requests and tokens per
//! minute; the key then travels with the request ([`Caller`]) to the handlers and the router.
//! Refusals are the API's JSON errors, before anything else runs; no key material is logged.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::observe::KeyId;
use crate::keys::{Caller, Keys};

/// The layer: `keys` is `None` when the deployment has no keys, and then it lets everything by.
pub async fn authenticate(State(keys): State<Option<Arc<Keys>>>, mut request: Request, next: Next) -> Response {
    let Some(keys) = keys else { return next.run(request).await };
    let path = request.uri().path().to_owned();
    let key = match Box::pin(keys.authenticate(presented(request.headers()), &path)).await {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let id = KeyId(key.id.clone());
    if let Err(error) = Box::pin(keys.admit(&key)).await {
        return with_key_id(error.into_response(), id);
    }
    tracing::debug!(key_id = %key.id, "key accepted");
    request.extensions_mut().insert(Caller { key, keys });
    with_key_id(next.run(request).await, id)
}

fn with_key_id(mut response: Response, id: KeyId) -> Response {
    response.extensions_mut().insert(id);
    response
}

/// The key a request presents: `Authorization: Bearer <key>`, else `x-api-key: <key>`.
fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
    });
    bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_bearer_token_or_x_api_key() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented(&headers), None);
        headers.insert("x-api-key", "mgw_b".parse().unwrap());
        assert_eq!(presented(&headers), Some("mgw_b"));
        headers.insert(http::header::AUTHORIZATION, "bearer  mgw_a ".parse().unwrap());
        assert_eq!(presented(&headers), Some("mgw_a"), "the bearer token wins, its scheme in any case");
        headers.insert(http::header::AUTHORIZATION, "Basic dXNlcg==".parse().unwrap());
        assert_eq!(presented(&headers), Some("mgw_b"));
    }
}

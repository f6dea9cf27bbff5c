//! The outgoing HTTP client of webhook tools and event callbacks: signed POSTs under the SSRF
//! guard, no redirects, no proxy, replies read up to a size limit.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use reqwest::Url;

use crate::tools::auth::{self, Secret};
use crate::tools::ssrf::{self, AddressPolicy, GuardedResolver};

/// The HTTP client could not be built (its TLS setup failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client ({0})")]
pub struct ClientBuildError(String);

/// The outgoing HTTP client: built once, resolves names through [`GuardedResolver`], follows
/// no redirects, uses no proxy (a proxy would resolve names itself, past the address checks).
pub struct Outbound {
    client: reqwest::Client,
    max_bytes: usize,
}

/// A reply: status and body (at most `max_bytes`).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Refused(String),
    #[error("no answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("the reply is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Failed(String),
}

impl Outbound {
    pub fn new(addresses: AddressPolicy, max_bytes: usize) -> Result<Self, ClientBuildError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { policy: addresses }))
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("bedrock-mistral-tools/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientBuildError(e.to_string()))?;
        Ok(Outbound { client, max_bytes })
    }

    /// POSTs `body` (JSON) to `url`, signed with `secret`, within `timeout`. The URL must have
    /// passed a [`UrlPolicy`] check; the resolver checks the addresses.
    pub async fn post_signed(
        &self,
        url: &Url,
        body: Vec<u8>,
        secret: &Secret,
        timeout: Duration,
    ) -> Result<Reply, OutboundError> {
        let mut request =
            self.client.post(url.clone()).timeout(timeout).header(http::header::CONTENT_TYPE, "application/json");
        for (name, value) in auth::signature_headers(secret, &body) {
            request = request.header(name, value);
        }
        let map = |e: reqwest::Error| {
            if let Some(refused) = ssrf::refusal_in(&e) {
                OutboundError::Refused(refused.0.clone())
            } else if e.is_timeout() {
                OutboundError::TimedOut(timeout)
            } else {
                OutboundError::Failed(describe(&e))
            }
        };
        let mut response = request.body(body).send().await.map_err(map)?;
        let status = response.status();
        if response.content_length().is_some_and(|n| n > self.max_bytes as u64) {
            return Err(OutboundError::TooLarge { limit: self.max_bytes });
        }
        let mut read = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(map)? {
            if read.len() + chunk.len() > self.max_bytes {
                return Err(OutboundError::TooLarge { limit: self.max_bytes });
            }
            read.extend_from_slice(&chunk);
        }
        Ok(Reply { status, body: read.freeze() })
    }
}

/// The error and its causes on one line, without the URL's query string.
fn describe(e: &reqwest::Error) -> String {
    // The URL is left out: its query string may carry a token.
    let mut text = match e.url() {
        Some(url) => e.to_string().replace(url.as_str(), &ssrf::redact(url)),
        None => e.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

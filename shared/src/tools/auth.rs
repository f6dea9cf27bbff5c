//! The HMAC-SHA256 signature scheme, both ways: incoming tool-loop requests are verified with
//! it, and outgoing webhook calls and event callbacks are signed with it.
//!
//! `x-signature-timestamp: <unix seconds>` and `x-signature: sha256=<hex>`, where the hex is
//! `HMAC-SHA256(secret, "{timestamp}.{body}")` over the exact body bytes. The timestamp is inside
//! the MAC, so a captured request cannot be replayed outside the five-minute window.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-signature";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";
/// How far a signed timestamp may be from our clock, either way.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(300);
/// Shorter secrets are refused at cold start: they would be guessable offline from one signature.
pub const MIN_SECRET_BYTES: usize = 16;

const PREFIX: &str = "sha256=";

/// A secret shorter than [`MIN_SECRET_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret must be at least {MIN_SECRET_BYTES} bytes long")]
pub struct SecretTooShort;

/// A shared secret. Its `Debug` never shows the bytes, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Refuses secrets shorter than [`MIN_SECRET_BYTES`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretTooShort> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretTooShort);
        }
        Ok(Secret(bytes))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The `x-signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &Secret, timestamp: u64, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Both headers of a signed request, ready to add.
pub fn signature_headers(secret: &Secret, body: &[u8]) -> [(&'static str, String); 2] {
    let timestamp = now();
    [(TIMESTAMP_HEADER, timestamp.to_string()), (SIGNATURE_HEADER, sign(secret, timestamp, body))]
}

/// Why an incoming signature was refused. The messages tell an honest client what to fix and
/// give an attacker nothing (no expected value, no secret length).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing {0} header; sign the request as described in docs/tools.md")]
    Missing(&'static str),
    #[error("{TIMESTAMP_HEADER} must be the Unix time in seconds")]
    BadTimestamp,
    #[error(
        "{TIMESTAMP_HEADER} is more than 5 minutes away from the server's clock; sign each request when sending it"
    )]
    Stale,
    #[error("{SIGNATURE_HEADER} must be `sha256=` followed by 64 hex digits")]
    Malformed,
    #[error("{SIGNATURE_HEADER} does not match the body and timestamp")]
    Mismatch,
}

/// Checks the signature headers of a request against `body`, at Unix time `now`.
pub fn verify(secret: &Secret, headers: &HeaderMap, body: &[u8], now: u64) -> Result<(), AuthError> {
    let header =
        |name: &'static str| headers.get(name).map(|v| v.to_str().map(str::trim)).ok_or(AuthError::Missing(name));
    let timestamp = header(TIMESTAMP_HEADER)?.map_err(|_| AuthError::BadTimestamp)?;
    let signature = header(SIGNATURE_HEADER)?.map_err(|_| AuthError::Malformed)?;
    let sent: u64 = timestamp.parse().map_err(|_| AuthError::BadTimestamp)?;
    if sent.abs_diff(now) > REPLAY_WINDOW.as_secs() {
        return Err(AuthError::Stale);
    }
    let hex_digits = signature.strip_prefix(PREFIX).ok_or(AuthError::Malformed)?;
    let given = hex::decode(hex_digits).map_err(|_| AuthError::Malformed)?;
    if given.len() != 32 {
        return Err(AuthError::Malformed);
    }
    let mut mac = secret.mac();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).map_err(|_| AuthError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn secret() -> Secret {
        Secret::new("0123456789abcdef-test").unwrap()
    }

    fn headers(timestamp: &str, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP_HEADER, HeaderValue::from_str(timestamp).unwrap());
        h.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        h
    }

    #[test]
    fn matches_the_documented_python_verifier() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"0123456789abcdef-test",
        //   b"1700000000.{}", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign(&secret(), 1_700_000_000, b"{}"),
            "sha256=41ce468ad698c0b0a8d2c15faf9a0258c0246ff28b66a6e3d95ae723fd52d7ea"
        );
    }

    #[test]
    fn accepts_a_fresh_signature_and_refuses_everything_else() {
        let body = br#"{"messages":[]}"#;
        let now = 1_700_000_000;
        let good = sign(&secret(), now, body);
        assert_eq!(verify(&secret(), &headers(&now.to_string(), &good), body, now + 299), Ok(()));
        assert_eq!(verify(&secret(), &headers(&now.to_string(), &good), body, now + 301), Err(AuthError::Stale));
        assert_eq!(verify(&secret(), &headers(&now.to_string(), &good), b"{}", now), Err(AuthError::Mismatch));
        let other = Secret::new("another-secret-of-16+").unwrap();
        assert_eq!(verify(&other, &headers(&now.to_string(), &good), body, now), Err(AuthError::Mismatch));
        assert_eq!(verify(&secret(), &headers("soon", &good), body, now), Err(AuthError::BadTimestamp));
        assert_eq!(verify(&secret(), &headers(&now.to_string(), "abc"), body, now), Err(AuthError::Malformed));
        assert_eq!(verify(&secret(), &HeaderMap::new(), body, now), Err(AuthError::Missing(TIMESTAMP_HEADER)));
    }

    #[test]
    fn secrets_are_never_printed_and_must_be_long() {
        assert_eq!(format!("{:?}", secret()), "Secret(<redacted>)");
        assert!(Secret::new("short").is_err());
    }
}

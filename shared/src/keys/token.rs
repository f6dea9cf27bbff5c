//! Key material: `mgw_<id>_<secret>`. The fixed prefix lets secret scanners find a leaked key;
//! the 16-hex-digit `id` is public (logs, metrics, the CLI name keys by it); the secret is 32
//! random bytes. Only the SHA-256 of the whole key is stored, compared in constant time.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every key starts with.
pub const KEY_PREFIX: &str = "mgw_";

const ID_HEX: usize = 16;
const SECRET_BYTES: usize = 32;
/// Base64url without padding of 32 bytes.
const SECRET_CHARS: usize = 43;

/// A key as created: shown once, then only its hash is kept.
pub struct NewKey {
    pub id: String,
    pub key: String,
    pub hash: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A fresh key from the operating system's random source.
pub fn generate() -> Result<NewKey, getrandom::Error> {
    let mut id = [0u8; ID_HEX / 2];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id)?;
    getrandom::fill(&mut secret)?;
    Ok(with_parts(&hex::encode(id), &secret))
}

/// A new secret for an existing id (rotation keeps the id, so spend stays on one key).
pub fn rotate(id: &str) -> Result<NewKey, getrandom::Error> {
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)?;
    Ok(with_parts(id, &secret))
}

fn with_parts(id: &str, secret: &[u8]) -> NewKey {
    let key = format!("{KEY_PREFIX}{id}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    NewKey { id: id.to_owned(), hash: hash(&key), key }
}

/// The public id of a well-formed key; `None` for anything else.
pub fn key_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == ID_HEX && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let secret_ok =
        secret.len() == SECRET_CHARS && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some(id)
}

/// The stored form of a key: its SHA-256, hex.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// True when `key` hashes to `stored`; constant time in the compared bytes.
pub fn matches(key: &str, stored: &str) -> bool {
    hash(key).as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_high_entropy_and_stored_as_hashes() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(a.key.starts_with(KEY_PREFIX));
        assert_eq!(a.key.len(), KEY_PREFIX.len() + ID_HEX + 1 + SECRET_CHARS);
        assert_ne!(a.key, b.key);
        assert_eq!(key_id(&a.key), Some(a.id.as_str()));
        assert!(matches(&a.key, &a.hash));
        assert!(!matches(&b.key, &a.hash));
        assert!(!a.hash.contains(&a.key[KEY_PREFIX.len() + ID_HEX + 1..]), "the secret is not in the hash");
        assert!(!format!("{a:?}").contains(&a.key), "Debug never shows the key");
    }

    #[test]
    fn malformed_keys_have_no_id() {
        let good = generate().unwrap().key;
        for bad in ["", "mgw_", "sk-abc", &good[..good.len() - 1], &good.replace("mgw_", "mgx_"), &format!("{good}x")] {
            assert_eq!(key_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn rotation_keeps_the_id_and_changes_the_secret() {
        let first = generate().unwrap();
        let second = rotate(&first.id).unwrap();
        assert_eq!(second.id, first.id);
        assert_ne!(second.key, first.key);
        assert!(!matches(&first.key, &second.hash));
    }
}

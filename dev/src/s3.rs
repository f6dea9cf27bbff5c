//! An S3-compatible server on loopback, for the batch APIs' files and Bedrock batch jobs' inputs
//! and outputs in tests and the dev server: `s3s` speaks S3's REST/XML protocol (SigV4 checked
//! like S3 checks it, path-style addressing) and `s3s-fs` keeps the objects in a directory, so
//! the real `aws-sdk-s3` client talks to it unmodified (`endpoint_url(server.url())`,
//! `force_path_style(true)`).
//!
//! Signatures are verified, not waved through (a lenient store would hide a wrongly signed
//! request): the server knows the test credentials [`TEST_ACCESS_KEY`]/[`TEST_SECRET_KEY`] that
//! [`s3_client`] uses, the `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` of its environment at start
//! (what a gateway started beside it signs with), and any pair given to [`S3Server::allow`]. An
//! unknown access key is refused with S3's `InvalidAccessKeyId`, a wrong secret with
//! `SignatureDoesNotMatch`.
//!
//! What batch needs is there: CreateBucket, PutObject, GetObject, HeadObject, DeleteObject,
//! ListObjectsV2 (prefix, continuation), CopyObject, and the rest of what s3s-fs implements.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hyper_util::rt::TokioIo;
use s3s::auth::{S3Auth, SecretKey};
use s3s::service::S3ServiceBuilder;
use s3s::{S3Result, s3_error};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The access key [`s3_client`] signs with.
pub const TEST_ACCESS_KEY: &str = "AKIADEVS3SERVERTEST";
/// The secret key [`s3_client`] signs with.
pub const TEST_SECRET_KEY: &str = "dev-s3-server-test-secret";

/// A running S3 server. Dropping it stops the server and, when it made its own directory,
/// removes the directory and every object in it.
#[derive(Debug)]
pub struct S3Server {
    addr: SocketAddr,
    root: PathBuf,
    owns_root: bool,
    keys: Keys,
    shutdown: Option<oneshot::Sender<()>>,
}

impl S3Server {
    /// Serves on a free port of 127.0.0.1, storing in a fresh temporary directory.
    pub async fn start() -> std::io::Result<S3Server> {
        S3Server::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves on `addr` (port 0 picks a free one), storing in a fresh temporary directory.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<S3Server> {
        let root = fresh_dir()?;
        S3Server::serve(addr, root, true).await
    }

    /// Serves on a free port of 127.0.0.1, storing in `dir` (created if missing, kept on drop:
    /// for a dev server whose files should outlive it). Each bucket is a subdirectory.
    pub async fn start_in(dir: &Path) -> std::io::Result<S3Server> {
        std::fs::create_dir_all(dir)?;
        S3Server::serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), dir.to_path_buf(), false).await
    }

    async fn serve(addr: SocketAddr, root: PathBuf, owns_root: bool) -> std::io::Result<S3Server> {
        let store = s3s_fs::FileSystem::new(&root)
            .map_err(|error| std::io::Error::other(format!("cannot store in {}: {error:?}", root.display())))?;
        let keys = Keys::from_env();
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(keys.clone());
        let service = builder.build();
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(error) => {
                            tracing::warn!(%error, "s3 server could not accept a connection");
                            continue;
                        }
                    },
                    // A dropped sender is a shutdown too.
                    _ = &mut stopped => break,
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(socket), service);
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "s3 server connection ended with an error");
                    }
                });
            }
        });
        Ok(S3Server { addr, root, owns_root, keys, shutdown: Some(shutdown) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for the SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory holding the buckets.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Accepts requests signed with this key pair from now on.
    pub fn allow(&self, access_key: &str, secret_key: &str) {
        self.keys.insert(access_key, secret_key);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if self.owns_root
            && let Err(error) = std::fs::remove_dir_all(&self.root)
        {
            tracing::warn!(%error, root = %self.root.display(), "s3 server could not remove its directory");
        }
    }
}

/// An `aws-sdk-s3` client for the server at `url`: the test credentials, region `us-east-1`,
/// path-style addressing (a loopback address has no bucket subdomains).
pub async fn s3_client(url: &str) -> aws_sdk_s3::Client {
    let credentials = aws_sdk_s3::config::Credentials::new(TEST_ACCESS_KEY, TEST_SECRET_KEY, None, None, "dev-s3");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(url)
        .force_path_style(true)
        // s3s-fs keeps an object's checksum beside it, not atomically with it: a read racing a
        // rewrite (a batch record, finalized by an event and a read at once) can pair new bytes
        // with the old checksum. S3 itself replaces both at once; here checksums are asked for
        // and checked only where an operation requires them.
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The key pairs the server accepts, shared with the running service so [`S3Server::allow`]
/// takes effect at once.
#[derive(Debug, Clone, Default)]
struct Keys(Arc<Mutex<HashMap<String, String>>>);

impl Keys {
    fn from_env() -> Keys {
        let keys = Keys::default();
        keys.insert(TEST_ACCESS_KEY, TEST_SECRET_KEY);
        if let (Ok(access), Ok(secret)) = (std::env::var("AWS_ACCESS_KEY_ID"), std::env::var("AWS_SECRET_ACCESS_KEY")) {
            keys.insert(&access, &secret);
        }
        keys
    }

    fn insert(&self, access_key: &str, secret_key: &str) {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner()).insert(access_key.to_owned(), secret_key.to_owned());
    }
}

#[async_trait::async_trait]
impl S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let secret = self.0.lock().unwrap_or_else(|poison| poison.into_inner()).get(access_key).cloned();
        match secret {
            Some(secret) => Ok(SecretKey::from(secret)),
            None => {
                Err(s3_error!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records."))
            }
        }
    }
}

/// A directory of its own under the system's temporary directory.
fn fresh_dir() -> std::io::Result<PathBuf> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
    let name = format!("dev-s3-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

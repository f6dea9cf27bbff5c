//! A DynamoDB for the keys and budget tests: moto's server (`tests/dynamodb/server.py`, from
//! `.venv-dynamodb`) as a process on a free loopback port, and the real `aws-sdk-dynamodb` client
//! pointed at it. The server answers one request at a time, so each conditional write and each
//! transaction is atomic as in DynamoDB; moto's own multi-threaded server is not (the launcher's
//! docstring says how), and a budget test run against it could pass or fail for moto's reasons.
//! `tests/dynamodb_server.rs` checks the server keeps the promises the budget code relies on.

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use crate::processes::free_port;

/// How long moto may take to import and listen (about a second here).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running DynamoDB server, killed when dropped.
pub struct DynamoServer {
    child: Child,
    addr: SocketAddr,
}

impl DynamoServer {
    /// Installs the server once per test process if needed, starts it on a free loopback port
    /// and waits until it accepts connections.
    pub async fn start() -> DynamoServer {
        tokio::task::spawn_blocking(install_once).await.expect("installing the DynamoDB server");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let repo = repo();
        let python = repo.join(".venv-dynamodb/bin/python");
        let mut command = Command::new(&python);
        command
            .arg(repo.join("tests/dynamodb/server.py"))
            .args(["--host", "127.0.0.1", "--port", &addr.port().to_string(), "--quiet"])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        // The server dies with the thread that started it even when the test binary is killed,
        // so no stray server outlives a run. Its stderr stays the test's: moto's tracebacks.
        // SAFETY: prctl is async-signal-safe and touches nothing of the parent's.
        unsafe {
            command.pre_exec(|| match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            })
        };
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}; run `scripts/dynamodb-server --install`", python.display()));
        // Owned from here on, so a panic below still kills it.
        let mut server = DynamoServer { child, addr };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "the DynamoDB server (tests/dynamodb/server.py) exited ({status}) before listening on {addr}; \
                     run `scripts/dynamodb-server --install`, then `scripts/dynamodb-server` to see it fail"
                );
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the DynamoDB server (tests/dynamodb/server.py) does not listen on {addr} after {START_TIMEOUT:?}; \
                 run `scripts/dynamodb-server --install`, then `scripts/dynamodb-server` to see why"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    /// The endpoint URL to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DynamoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real SDK client for the server at `url`: static test credentials, us-east-1, nothing read
/// from the environment. One attempt per call: a write the test makes reaches the server exactly
/// once, and a failure shows as is instead of being retried into a double charge.
pub async fn client(url: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "dynamo-test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// The repository root (this crate is `<repo>/tests`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository root").to_path_buf()
}

/// Runs `scripts/dynamodb-server --install` once per test process: it creates `.venv-dynamodb`
/// when missing and reinstalls when `tests/dynamodb/requirements.txt` changed, and does nothing
/// (a hash and a compare) when it is current, as after `scripts/test` installed it up front.
/// Test threads of this process wait on the `OnceLock`; other test processes on an exclusive
/// lock on a file in the target directory, so no two pip runs share the venv.
fn install_once() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let lock_path = lock_path();
        let lock = File::create(&lock_path).unwrap_or_else(|e| panic!("{}: {e}", lock_path.display()));
        lock.lock().unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));
        let script = repo().join("scripts/dynamodb-server");
        let status = Command::new(&script)
            .arg("--install")
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        assert!(
            status.success(),
            "`scripts/dynamodb-server --install` failed ({status}): it needs python3 and PyPI; run it to see why"
        );
        // The lock is released when `lock` is dropped here.
    });
}

/// `<target>/<profile>/dynamodb-install.lock`, next to the test binaries (`<profile>/deps/`),
/// wherever `CARGO_TARGET_DIR` puts them.
fn lock_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile = exe.parent().and_then(Path::parent).expect("the target directory");
    profile.join("dynamodb-install.lock")
}

/// A TCP relay in front of a server that can be taken down and brought back, as a store that
/// restarts looks to its clients: while it is down, every new connection is closed at once.
/// The server behind it keeps its state, so what the gateway wrote before the outage is there
/// after it.
pub struct Outage {
    addr: SocketAddr,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Outage {
    /// Relays a free loopback port to `target`.
    pub async fn relay(target: SocketAddr) -> Outage {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = down.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Outage { addr, down, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Down (`true`) or back (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DynamoServer {
    /// The server's address, for a relay in front of it.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

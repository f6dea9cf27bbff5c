//! This workspace's release binaries run as processes, the way the benches measure them: the
//! Bedrock emulator on its own, the dev server over it (`BEDROCK_BACKEND=aws` with the endpoint
//! override), and a function under the Runtime API stub with the environment Lambda gives it.
//! Each is killed when dropped.

use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{cpu_time, cpu_time_precise, peak_rss_kib, release_binary};
use crate::runtime_api::RuntimeApi;
use crate::workload::MODEL_ID;

/// A running binary.
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts `command` with stdout and stderr discarded (the JSON log lines are still written,
    /// as on Lambda). The process dies with the bench, even when the bench is interrupted.
    pub fn spawn(mut command: Command) -> Process {
        let program = command.get_program().to_string_lossy().into_owned();
        // SAFETY: prctl is async-signal-safe and touches nothing of the parent's.
        unsafe {
            command.pre_exec(|| match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            })
        };
        let child =
            command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| panic!("{program}: {e}"));
        Process { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time used so far (user + system, every thread), in clock ticks.
    pub fn cpu_time(&self) -> Duration {
        cpu_time(self.pid())
    }

    /// CPU time used so far by its live threads, to the nanosecond.
    pub fn cpu_time_precise(&self) -> Duration {
        cpu_time_precise(self.pid())
    }

    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(Some(self.pid())).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Waits until something accepts connections on `addr`.
async fn listening(addr: SocketAddr, what: &str) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what} does not listen on {addr}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The Bedrock emulator binary, listening; returns it and its address.
pub async fn emulator() -> (Process, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut command = Command::new(release_binary("bedrock-emulator"));
    command.env_clear().env("PORT", addr.port().to_string());
    let process = Process::spawn(command);
    listening(addr, "the emulator").await;
    (process, addr)
}

/// What every gateway process is given: a region, dummy credentials, Bedrock at `bedrock`
/// through the SDK's endpoint override, no instance metadata, the one model the benches ask for,
/// and the system's CA certificates as Lambda's image (provided.al2023) has them: one bundle
/// file, no directory of certificates (`SSL_CERT_FILE`/`SSL_CERT_DIR`, which the SDK's TLS
/// setup reads at cold start; a Debian-style directory of ~150 files costs ~3 ms more).
fn gateway_env(command: &mut Command, bedrock: SocketAddr) {
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", format!("http://{bedrock}"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("BEDROCK_MODEL_IDS", MODEL_ID);
    let bundles = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"];
    if let Some(bundle) = bundles.into_iter().find(|path| Path::new(path).is_file()) {
        let no_dir = std::env::temp_dir().join("bench-empty-cert-dir");
        std::fs::create_dir_all(&no_dir).expect("an empty directory");
        command.env("SSL_CERT_FILE", bundle).env("SSL_CERT_DIR", no_dir);
    }
}

/// The dev server binary over the Bedrock at `bedrock`, listening; returns it and its address.
pub async fn dev_server(bedrock: SocketAddr) -> (Process, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut command = Command::new(release_binary("dev"));
    gateway_env(&mut command, bedrock);
    command.env("BEDROCK_BACKEND", "aws").env("PORT", addr.port().to_string());
    let process = Process::spawn(command);
    listening(addr, "the dev server").await;
    (process, addr)
}

/// The command that runs `binary` as a Lambda function under `runtime_api`, over the Bedrock at
/// `bedrock`; add settings before spawning it.
pub fn function(binary: &Path, runtime_api: &RuntimeApi, bedrock: SocketAddr) -> Command {
    let name = binary.file_name().map_or_else(|| "function".into(), |n| n.to_string_lossy());
    let mut command = Command::new(binary);
    gateway_env(&mut command, bedrock);
    command.envs(runtime_api.lambda_env(&name));
    command
}

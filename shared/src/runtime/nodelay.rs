//! `TCP_NODELAY` on this process's connections to the Lambda Runtime API.
//!
//! lambda_runtime (1.5, client 1.1) connects to the Runtime API with hyper's default connector,
//! which leaves Nagle's algorithm on, and writes a streamed response as many small writes: the
//! metadata prelude, eight NUL bytes, then one chunk per SSE event. With Nagle, each small write
//! waits until the previous one is acknowledged, and the Runtime API's side delays its ACKs on a
//! keep-alive connection: measured here (`lambda_concurrency` bench), every streamed answer's
//! body stalled ~40 ms behind its prelude (first SSE byte at the Runtime API p50 43.9 ms, 0.4–0.7
//! ms with the option). Setting `TCP_NODELAY` sends each write at once (Linux also pushes out what
//! is already waiting when it is set).
//!
//! The runtime does not expose its sockets, so they are found by their peer address among the
//! process's open descriptors (`/proc/self/fd`): cheap (a handful of descriptors), Linux only,
//! which Lambda is. Once lambda_runtime sets the option itself, this goes.

use std::mem::ManuallyDrop;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{FromRawFd, RawFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The Runtime API's address (`AWS_LAMBDA_RUNTIME_API`), if it is a socket address.
pub fn runtime_api_addr() -> Option<SocketAddr> {
    std::env::var("AWS_LAMBDA_RUNTIME_API").ok()?.to_socket_addrs().ok()?.next()
}

/// Sets `TCP_NODELAY` on every open TCP connection to `peer`; returns how many there are.
pub fn set_on_connections_to(peer: SocketAddr) -> usize {
    let mut connections = 0;
    for_each_connection_to(peer, |stream| connections += usize::from(stream.set_nodelay(true).is_ok()));
    connections
}

/// Whether each open TCP connection to `peer` has `TCP_NODELAY` (for tests and diagnostics).
pub fn nodelay_of_connections_to(peer: SocketAddr) -> Vec<bool> {
    let mut nodelay = Vec::new();
    for_each_connection_to(peer, |stream| nodelay.push(stream.nodelay().unwrap_or(false)));
    nodelay
}

/// Calls `f` with every open TCP connection to `peer`: one `getpeername` per open descriptor (a
/// non-socket answers `ENOTSOCK`).
fn for_each_connection_to(peer: SocketAddr, mut f: impl FnMut(&TcpStream)) {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return };
    for entry in entries.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|name| name.parse::<RawFd>().ok()) else { continue };
        if fd <= 2 {
            continue;
        }
        // SAFETY: `fd` is open (just listed; the directory's own descriptor may be gone, and the
        // calls then fail) and stays owned by whoever opened it: ManuallyDrop never closes it.
        // On a descriptor that is not a TCP connection the calls only fail.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        if stream.peer_addr().is_ok_and(|addr| addr == peer) {
            f(&stream);
        }
    }
}

/// Rate-limits the scans of a process that runs many invocations at once: each scan costs a
/// system call per open descriptor, and with many at once there are many descriptors and few new
/// connections (the runtime keeps one per concurrent invocation).
pub struct Limiter {
    min_interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl Limiter {
    pub const fn new(min_interval: Duration) -> Limiter {
        Limiter { min_interval, last: Mutex::new(None) }
    }

    /// Whether a scan may run now; if so, it counts as run.
    pub fn allow(&self) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < self.min_interval) {
            return false;
        }
        *last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn only_connections_to_the_peer_get_nodelay() {
        let runtime_api = TcpListener::bind("127.0.0.1:0").unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let to_runtime_api = TcpStream::connect(runtime_api.local_addr().unwrap()).unwrap();
        let to_other = TcpStream::connect(other.local_addr().unwrap()).unwrap();
        let peer = runtime_api.local_addr().unwrap();
        assert_eq!(nodelay_of_connections_to(peer), [false]);

        assert_eq!(set_on_connections_to(peer), 1);
        assert!(to_runtime_api.nodelay().unwrap());
        assert_eq!(nodelay_of_connections_to(peer), [true]);
        assert!(!to_other.nodelay().unwrap());
    }

    #[test]
    fn the_limiter_allows_one_scan_per_interval() {
        let limiter = Limiter::new(Duration::from_secs(3600));
        assert!(limiter.allow());
        assert!(!limiter.allow());
        assert!(Limiter::new(Duration::ZERO).allow());
    }
}

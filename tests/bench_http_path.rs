//! What a caller sees, over real sockets: the same ~2 KB chat sent by the same HTTP/1.1
//! keep-alive client (hyper, one connection per worker) to
//! - the Bedrock emulator directly (its release binary, in its own process), as a Converse body;
//! - the dev server (release binary, `BEDROCK_BACKEND=aws`, endpoint override to that emulator);
//! - the converse function (release binary) under the stub Lambda Runtime API: the event is
//!   handed out on `/next` and the time runs until its response has arrived, which is what
//!   the function adds between the Lambda service and Bedrock.
//!
//! The legs are interleaved request by request (one connection) and window by window (32
//! connections), so all see the same machine. Prints p50/p99 per leg and what the gateways add,
//! their CPU time per request (the gateway process alone, from `/proc`), and the throughput at 32
//! connections as a ratio to the direct one (the function runs 32 invocations at once with
//! `AWS_LAMBDA_MAX_CONCURRENCY=32`, as on Lambda Managed Instances).
//!
//! `scripts/bench http_path` (it builds the release binaries first).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tests::measure::{micros, percentile, release_binary};
use tests::processes::{self, Process};
use tests::runtime_api::RuntimeApi;
use tests::workload::{MODEL_ID, chat_2kb, converse_2kb, rest_event};

/// Other builds of the converse function to measure beside this one at one connection
/// (`HTTP_PATH_COMPARE=/path/to/converse-before,...`), to compare a change with what it replaces.
fn compared() -> Vec<PathBuf> {
    std::env::var("HTTP_PATH_COMPARE").map(|list| list.split(',').map(PathBuf::from).collect()).unwrap_or_default()
}

/// Requests per leg at one connection; `HTTP_PATH_ROUNDS` sets more, to profile a gateway
/// (`perf record -p <pid>`) while they run.
fn rounds() -> usize {
    std::env::var("HTTP_PATH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3000)
}
const WARMUP: usize = 200;
const CONNECTIONS: usize = 32;
const WINDOW: Duration = Duration::from_secs(2);
const WINDOWS: usize = 3;

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
        tokio::spawn(connection);
        Connection { sender }
    }

    async fn post(&mut self, path: &str, body: &Bytes) -> Bytes {
        let request = http::Request::post(path)
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap();
        let response = self.sender.send_request(request).await.expect("a response");
        let status = response.status();
        let body = response.into_body().collect().await.expect("the body").to_bytes();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body
    }
}

/// Where requests go: an HTTP server, or a function behind the Runtime API stub.
enum Target {
    Http { addr: SocketAddr, path: String, body: Bytes },
    Lambda { api: RuntimeApi, event: String, sent: usize },
}

impl Target {
    /// Sends one request on `connection` (HTTP) and waits for its answer.
    async fn once(&mut self, connection: Option<&mut Connection>) -> Duration {
        let started = Instant::now();
        match self {
            Target::Http { path, body, .. } => {
                let answer = connection.expect("a connection").post(path, body).await;
                let elapsed = started.elapsed();
                assert!(answer.windows(8).any(|w| w == b"You said"), "{}", String::from_utf8_lossy(&answer));
                elapsed
            }
            Target::Lambda { api, event, sent } => {
                *sent += 1;
                let id = format!("r{sent}");
                api.push(&id, event.as_str());
                let (answered, answer) = api.next_answer().await;
                let elapsed = started.elapsed();
                assert_eq!(answered, id);
                assert!(answer.text().contains("You said"), "{}", answer.text());
                elapsed
            }
        }
    }

    /// Requests completed in `WINDOW` with `CONNECTIONS` at once.
    async fn throughput(&mut self) -> usize {
        let deadline = Instant::now() + WINDOW;
        match self {
            Target::Http { addr, path, body } => {
                let workers: Vec<_> = (0..CONNECTIONS)
                    .map(|_| {
                        let (addr, path, body) = (*addr, path.clone(), body.clone());
                        tokio::spawn(async move {
                            let mut connection = Connection::open(addr).await;
                            let mut done = 0;
                            while Instant::now() < deadline {
                                connection.post(&path, &body).await;
                                done += 1;
                            }
                            done
                        })
                    })
                    .collect();
                let mut done = 0;
                for worker in workers {
                    done += worker.await.unwrap();
                }
                done
            }
            Target::Lambda { api, event, sent } => {
                for _ in 0..CONNECTIONS {
                    *sent += 1;
                    api.push(&format!("r{sent}"), event.as_str());
                }
                let (mut done, mut open) = (0, CONNECTIONS);
                while open > 0 {
                    api.next_answer().await;
                    open -= 1;
                    done += 1;
                    if Instant::now() < deadline {
                        *sent += 1;
                        api.push(&format!("r{sent}"), event.as_str());
                        open += 1;
                    }
                }
                done
            }
        }
    }
}

struct Leg {
    name: &'static str,
    target: Target,
    /// The gateway process, whose CPU time is measured; none for the direct leg.
    process: Option<Process>,
    connection: Option<Connection>,
    samples: Vec<Duration>,
    /// The gateway's CPU time over the measured rounds: utime + stime, and its threads' own
    /// (schedstat: precise, without the network processing done on its behalf).
    cpu: Duration,
    cpu_threads: Duration,
}

impl Leg {
    async fn new(name: &'static str, target: Target, process: Option<Process>) -> Leg {
        let connection = match &target {
            Target::Http { addr, .. } => Some(Connection::open(*addr).await),
            Target::Lambda { .. } => None,
        };
        Leg { name, target, process, connection, samples: Vec::new(), cpu: Duration::ZERO, cpu_threads: Duration::ZERO }
    }

    async fn measure(&mut self, keep: bool) {
        let elapsed = self.target.once(self.connection.as_mut()).await;
        if keep {
            self.samples.push(elapsed);
        }
    }

    /// The gateway's CPU time so far.
    fn cpu_time(&self) -> Duration {
        self.process.as_ref().map_or(Duration::ZERO, Process::cpu_time)
    }

    /// The gateway's threads' own CPU time so far.
    fn cpu_time_threads(&self) -> Duration {
        self.process.as_ref().map_or(Duration::ZERO, Process::cpu_time_precise)
    }
}

async fn function_under_stub(binary: &Path, bedrock: SocketAddr, concurrency: Option<usize>) -> (Target, Process) {
    let api = RuntimeApi::start().await;
    let mut command = processes::function(binary, &api, bedrock);
    if let Some(n) = concurrency {
        command.env("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string());
    }
    let process = Process::spawn(command);
    let event = rest_event("/v1/chat/completions", &chat_2kb());
    (Target::Lambda { api, event, sent: 0 }, process)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (_emulator, bedrock) = processes::emulator().await;
    let (dev, dev_addr) = processes::dev_server(bedrock).await;
    let converse_binary = release_binary("converse");
    let (function, function_process) = function_under_stub(&converse_binary, bedrock, None).await;
    let chat = Bytes::from(chat_2kb().to_string());
    let converse = Bytes::from(converse_2kb().to_string());
    let mut legs = vec![
        Leg::new(
            "direct to the emulator",
            Target::Http { addr: bedrock, path: format!("/model/{MODEL_ID}/converse"), body: converse },
            None,
        )
        .await,
        Leg::new(
            "dev server",
            Target::Http { addr: dev_addr, path: "/v1/chat/completions".to_owned(), body: chat },
            Some(dev),
        )
        .await,
        Leg::new("converse function (stub Runtime API)", function, Some(function_process)).await,
    ];
    for binary in compared() {
        let (function, process) = function_under_stub(&binary, bedrock, None).await;
        let name: &'static str = format!("  {}", binary.display()).leak();
        legs.push(Leg::new(name, function, Some(process)).await);
    }

    let rounds = rounds();
    for round in 0..WARMUP + rounds {
        if round == WARMUP {
            for leg in legs.iter_mut() {
                (leg.cpu, leg.cpu_threads) = (leg.cpu_time(), leg.cpu_time_threads());
            }
        }
        for leg in legs.iter_mut() {
            leg.measure(round >= WARMUP).await;
        }
    }
    for leg in legs.iter_mut() {
        (leg.cpu, leg.cpu_threads) = (leg.cpu_time() - leg.cpu, leg.cpu_time_threads() - leg.cpu_threads);
    }
    println!(
        "http_path: {rounds} requests per leg, interleaved, ~2 KB chat, one keep-alive connection, emulator and gateways as release binaries in their own processes"
    );
    println!(
        "  {:52} {:>9} {:>9} {:>11} {:>11} {:>22}",
        "", "p50", "p99", "added p50", "added p99", "CPU/request (threads)"
    );
    for leg in legs.iter_mut() {
        leg.samples.sort();
    }
    let (direct_p50, direct_p99) = (percentile(&legs[0].samples, 0.5), percentile(&legs[0].samples, 0.99));
    for leg in &legs {
        let (p50, p99) = (percentile(&leg.samples, 0.5), percentile(&leg.samples, 0.99));
        let added = |ours: Duration, theirs: Duration| format!("{:8.0} us", micros(ours) - micros(theirs));
        let (added_p50, added_p99, cpu) = match leg.process {
            Some(_) => (
                added(p50, direct_p50),
                added(p99, direct_p99),
                format!(
                    "{:6.0} us ({:4.0} us)",
                    micros(leg.cpu) / leg.samples.len() as f64,
                    micros(leg.cpu_threads) / leg.samples.len() as f64
                ),
            ),
            None => Default::default(),
        };
        println!(
            "  {:52} {:6.0} us {:6.0} us {added_p50:>11} {added_p99:>11} {cpu:>22}",
            leg.name,
            micros(p50),
            micros(p99)
        );
    }

    // Throughput: the function again, now running 32 invocations at once.
    let (function, function_process) = function_under_stub(&converse_binary, bedrock, Some(CONNECTIONS)).await;
    legs[2] = Leg::new("converse function, AWS_LAMBDA_MAX_CONCURRENCY=32", function, Some(function_process)).await;
    legs.truncate(3);
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); legs.len()];
    let mut cpu_per_request = vec![Duration::ZERO; legs.len()];
    let mut requests = vec![0; legs.len()];
    for _ in 0..WINDOWS {
        for (i, leg) in legs.iter_mut().enumerate() {
            let cpu_before = leg.cpu_time();
            let done = leg.target.throughput().await;
            cpu_per_request[i] += leg.cpu_time() - cpu_before;
            requests[i] += done;
            rates[i].push(done as f64 / WINDOW.as_secs_f64());
        }
    }
    println!("  {CONNECTIONS} connections, median of {WINDOWS} windows of {WINDOW:?} per leg:");
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rates: Vec<f64> = rates.into_iter().map(median).collect();
    for (i, leg) in legs.iter().enumerate() {
        let cpu = match leg.process {
            Some(_) => format!(", CPU {:.0} us/request", micros(cpu_per_request[i]) / requests[i] as f64),
            None => String::new(),
        };
        println!("  {:52} {:8.0} req/s  {:5.1}% of direct{cpu}", leg.name, rates[i], 100.0 * rates[i] / rates[0]);
    }
}

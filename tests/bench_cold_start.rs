//! Cold start of each function binary against a stub Lambda Runtime API, with the CPU Lambda
//! gives a memory size: process start → first `GET /runtime/invocation/next` (init: config, SDK
//! client, runtime), then the first invocation (an API Gateway event answered through the Bedrock
//! emulator, a process of its own), and the process's peak RSS after it. The baseline is
//! `hello-lambda`, the smallest Lambda function in Rust, built with the same release profile and
//! measured the same way; each init is also given as a ratio to the baseline's at the same CPU.
//!
//! Lambda sells CPU by memory: 1,769 MB buys one vCPU, 128 MB about 7% of one. Each memory size
//! runs its functions in a cgroup (v1 `cpu` controller) whose CFS quota is memory/1769 of one CPU
//! per period (`COLD_START_CFS_PERIOD_MS`, default 100, the kernel's; Lambda does not publish
//! its own). That needs root; without it only the full-CPU rows are measured. Lambda may give
//! more CPU during init than the memory size buys (not documented): the quota rows are the worst
//! case. The processes are started from a thread inside the cgroup, so they are born in it; each
//! start under a quota waits two periods first, so it begins with the whole quota, as
//! a new execution environment does. The processes see the CA certificates as Lambda's image has
//! them (`tests::processes`). Converse runs a second time with the system's CA store
//! (`BEDROCK_TLS_ROOTS=system`) beside Amazon's roots, its default inside Lambda. Prints the
//! median of several starts per row.
//!
//! `scripts/bench cold_start` (it builds the release binaries first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use tests::measure::{median, millis, release_binary};
use tests::processes::{self, Process};
use tests::runtime_api::RuntimeApi;
use tests::workload::rest_event;

const STARTS: usize = 7;
/// The memory sizes whose CPU share is measured; `None` is the whole machine.
const MEMORY_SIZES: [Option<u32>; 4] = [None, Some(512), Some(256), Some(128)];
/// Memory that buys one vCPU.
const ONE_VCPU_MB: u32 = 1769;
const CGROUPS: &str = "/sys/fs/cgroup/cpu";

/// A command to start, and where to send the process and when it was started.
type SpawnRequest = (Command, mpsc::Sender<(Instant, Process)>);

/// A cgroup whose CPU quota is what Lambda gives `memory_mb`, and a thread inside it that starts
/// the processes to measure: they are born in the cgroup (moving a process into one takes
/// milliseconds, which would count as init). Removed when dropped.
struct CpuShare {
    dir: PathBuf,
    period: Duration,
    spawner: Option<mpsc::Sender<SpawnRequest>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CpuShare {
    fn new(memory_mb: u32, period: Duration) -> std::io::Result<CpuShare> {
        let dir = PathBuf::from(CGROUPS).join(format!("cold-start-{memory_mb}mb-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let period_us = period.as_micros() as u64;
        std::fs::write(dir.join("cpu.cfs_period_us"), period_us.to_string())?;
        let quota_us = period_us * u64::from(memory_mb) / u64::from(ONE_VCPU_MB);
        std::fs::write(dir.join("cpu.cfs_quota_us"), quota_us.to_string())?;
        let tasks = dir.join("tasks");
        let (spawner, commands) = mpsc::channel::<SpawnRequest>();
        let (joined_tx, joined) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            // "0": the writing thread itself.
            let _ = joined_tx.send(std::fs::write(tasks, "0"));
            for (command, reply) in commands {
                let started = Instant::now();
                let _ = reply.send((started, Process::spawn(command)));
            }
        });
        joined.recv().expect("the spawner thread starts")?;
        Ok(CpuShare { dir, period, spawner: Some(spawner), thread: Some(thread) })
    }

    /// Starts `command` from inside the cgroup; returns when it was started.
    fn spawn(&self, command: Command) -> (Instant, Process) {
        let (reply, started) = mpsc::channel();
        self.spawner.as_ref().expect("a spawner").send((command, reply)).expect("the spawner runs");
        started.recv().expect("the process starts")
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        drop(self.spawner.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Its processes and its thread are gone by now; an empty cgroup can be removed.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[derive(Clone, Copy)]
struct Start {
    init: Duration,
    /// The process's CPU time when it first polled: what init cost, whatever the CPU share.
    init_cpu: Duration,
    first_invocation: Duration,
    peak_rss_kib: u64,
}

/// What one row starts: a function's binary, the event it is handed, settings of its own.
struct Subject<'a> {
    binary: PathBuf,
    event: &'a str,
    env: &'a [(&'a str, &'a str)],
}

async fn start_once(subject: &Subject<'_>, bedrock: SocketAddr, share: Option<&CpuShare>) -> Start {
    let &Subject { ref binary, event, env } = subject;
    let mut runtime_api = RuntimeApi::start().await;
    runtime_api.push("cold-start-1", event);
    let mut command = processes::function(binary, &runtime_api, bedrock);
    command.env("RUST_LOG", "warn").envs(env.iter().copied());
    let (started, function) = match share {
        Some(share) => {
            // A fresh quota: what the last process used this period must not slow this one.
            tokio::time::sleep(share.period * 2).await;
            share.spawn(command)
        }
        None => (Instant::now(), Process::spawn(command)),
    };
    let ready = runtime_api.poll(1).await;
    let init_cpu = function.cpu_time_precise();
    let answer = runtime_api.response("cold-start-1").await.read_to_end().await;
    let done = answer.ended_at.expect("a complete answer");
    let text = answer.text();
    let is_answer = ["You said", "Tool results", "data: [DONE]", "hello"].iter().any(|sign| text.contains(sign));
    assert!(is_answer, "{}: unexpected answer {text}", binary.display());
    // The runtime polls for the next event after answering: then the process is idle.
    runtime_api.poll(2).await;
    Start { init: ready - started, init_cpu, first_invocation: done - ready, peak_rss_kib: function.peak_rss_kib() }
}

/// The medians of several starts.
async fn measure(subject: &Subject<'_>, bedrock: SocketAddr, share: Option<&CpuShare>) -> Start {
    let mut starts = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        starts.push(start_once(subject, bedrock, share).await);
    }
    Start {
        init: median(starts.iter().map(|s| s.init).collect()),
        init_cpu: median(starts.iter().map(|s| s.init_cpu).collect()),
        first_invocation: median(starts.iter().map(|s| s.first_invocation).collect()),
        peak_rss_kib: median(starts.iter().map(|s| s.peak_rss_kib).collect()),
    }
}

fn period() -> Duration {
    let ms = std::env::var("COLD_START_CFS_PERIOD_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    Duration::from_millis(ms)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (_emulator, bedrock) = processes::emulator().await;
    let chat = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "Hello from a cold start"}]});
    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    let tools = json!({"model": "mistral-large", "messages": [{"role": "user", "content": "What's the status of my transaction T1001?"}]});
    // (row, binary, event, settings): the functions as deployed, and converse once more with
    // the system's CA store, which it trusts outside Lambda (`BEDROCK_TLS_ROOTS`).
    let system_roots: &[(&str, &str)] = &[("BEDROCK_TLS_ROOTS", "system")];
    let functions = [
        ("hello-lambda", "hello-lambda", rest_event("/hello", &json!({})), &[][..]),
        ("converse", "converse", rest_event("/v1/chat/completions", &chat), &[]),
        ("stream", "stream", rest_event("/stream/v1/chat/completions", &streamed), &[]),
        ("tools", "tools", rest_event("/tools/v1/chat/completions", &tools), &[]),
        ("converse, system CAs", "converse", rest_event("/v1/chat/completions", &chat), system_roots),
    ];
    let period = period();
    println!(
        "cold start, median of {STARTS} starts (release x86_64 binaries, stub Runtime API, emulator process); \
         CPU share of a memory size = memory/{ONE_VCPU_MB} of one CPU as a CFS quota, period {period:?}"
    );
    println!(
        "  {:22} {:20} {:>9} {:>9} {:>13} {:>17} {:>9} {:>8}",
        "CPU", "function", "init", "init CPU", "vs hello", "first invocation", "peak RSS", "binary"
    );
    for memory in MEMORY_SIZES {
        let share = match memory {
            None => None,
            Some(mb) => match CpuShare::new(mb, period) {
                Ok(share) => Some(share),
                Err(e) => {
                    println!("  {mb} MB: no cgroup ({e}); run as root for the CPU share of a memory size");
                    continue;
                }
            },
        };
        let label = match memory {
            None => "whole machine".to_owned(),
            Some(mb) => format!("{mb} MB ({:.1}% of a CPU)", 100.0 * f64::from(mb) / f64::from(ONE_VCPU_MB)),
        };
        let mut baseline: Option<Start> = None;
        for (i, (name, binary, event, env)) in functions.iter().enumerate() {
            let subject = Subject { binary: release_binary(binary), event, env };
            let start = measure(&subject, bedrock, share.as_ref()).await;
            let hello = *baseline.get_or_insert(start);
            let size = std::fs::metadata(&subject.binary).map(|m| m.len()).unwrap_or_default();
            println!(
                "  {:22} {name:20} {:6.1} ms {:6.2} ms {:5.2}x {:5.2}x {:13.1} ms {:5.1} MiB {:4.1} MiB",
                if i == 0 { label.as_str() } else { "" },
                millis(start.init),
                millis(start.init_cpu),
                start.init.as_secs_f64() / hello.init.as_secs_f64(),
                start.init_cpu.as_secs_f64() / hello.init_cpu.as_secs_f64(),
                millis(start.first_invocation),
                start.peak_rss_kib as f64 / 1024.0,
                size as f64 / 1048576.0,
            );
        }
    }
}

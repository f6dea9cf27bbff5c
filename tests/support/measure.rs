//! What the benches measure with: percentiles, a process's peak RSS and CPU time from `/proc`,
//! and where the release binaries they start are.

use std::path::PathBuf;
use std::time::Duration;

/// The `p` quantile (0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Peak resident memory (`VmHWM`) of process `pid`, or of this process with `None`, in KiB.
pub fn peak_rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = pid.map_or_else(|| "/proc/self/status".to_owned(), |pid| format!("/proc/{pid}/status"));
    let status = std::fs::read_to_string(path).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time process `pid` has used so far, user and system, every thread: `utime + stime` of
/// `/proc/<pid>/stat`, what `getrusage` and `top` report (network processing on its behalf
/// included). The unit is the clock tick (10 ms), so measure over many requests.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is alive");
    // The command name may hold spaces: the fields after it start past the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..].split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_micros(ticks * 1_000_000 / per_second)
}

/// CPU time process `pid` has used so far, in nanoseconds (the sum of its live threads'
/// `/proc/<pid>/task/*/schedstat`): precise for a short run, such as a cold start, where the
/// clock ticks of [`cpu_time`] are too coarse. Network processing on the process's behalf is not
/// counted.
pub fn cpu_time_precise(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Duration::ZERO };
    let nanos: u64 = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// CPU time the calling thread has used so far, to the nanosecond (`CLOCK_THREAD_CPUTIME_ID`):
/// on a current-thread runtime, the CPU cost of the work between two readings.
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// A binary of this workspace's release build, next to the running bench (`target/release`,
/// wherever `CARGO_TARGET_DIR` puts it); panics with the command that builds it.
pub fn release_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the bench's own path");
    // target/release/deps/<bench>-<hash>
    let release = exe.parent().and_then(|deps| deps.parent()).expect("target/release");
    let binary = release.join(name);
    assert!(
        binary.is_file(),
        "{} is missing: build the release binaries first (scripts/bench builds them and runs every bench)",
        binary.display()
    );
    binary
}

//! Clocks and gauges: CPU time, peak memory, the machine's load, and where results go.

use std::path::PathBuf;
use std::time::Duration;

/// CPU time the calling thread has used.
pub fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time every thread of this process has used.
pub fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write to, and the clock ids are Linux's own.
    let failed = unsafe { libc::clock_gettime(id, &mut now) } != 0;
    assert!(!failed, "clock_gettime({id}) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The most memory this process has held at once (its peak resident set), in bytes.
pub fn peak_memory() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let failed = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0;
    assert!(!failed, "getrusage failed");
    // Linux counts ru_maxrss in kibibytes.
    usage.ru_maxrss as u64 * 1024
}

/// The machine's load average over the last minute, as /proc/loadavg has it.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The workspace's target folder, where criterion writes (`criterion/`) and the
/// programs of this crate write their results (`leaklab-bench/`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// Where `overhead` and `scale` write their results as JSON.
pub fn results_dir() -> PathBuf {
    target_dir().join("leaklab-bench")
}

/// Writes `value` as `results_dir()/name.json`.
pub fn save(name: &str, value: &serde_json::Value) {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("create target/leaklab-bench");
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).expect("results serialize");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}

/// Nanoseconds as a short human reading: `850 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`.
pub fn human(nanos: f64) -> String {
    match nanos {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

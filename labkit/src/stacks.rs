//! What another thread of this process is doing: its stack, its state, its CPU time.
//!
//! A thread stuck in a loop or on a lock cannot say where it is, so the watchdog asks
//! the kernel and the thread itself:
//!
//! - **The stack.** The watchdog sends the thread a signal (SIGUSR2, to that one thread
//!   with `tgkill`). The handler runs *on the stuck thread*, walks its own stack with
//!   `backtrace::trace_unsynchronized` and writes the raw instruction addresses into a
//!   static buffer. A signal handler may have interrupted anything, even `malloc`, so it
//!   allocates nothing and takes no lock: naming the frames (`file:line`, from the debug
//!   info) happens afterwards, on the watchdog's thread, with `backtrace::resolve`.
//! - **The state and CPU time**, from `/proc/self/task/TID/stat`: a thread that burns
//!   CPU is spinning, one that sleeps while stuck is blocked (a deadlock).
//!
//! Linux only. Elsewhere every function here answers `None` (or nothing), and the
//! findings come without stacks or CPU times.

use crate::paths;
use std::time::Duration;

/// An OS thread id (Linux's `gettid`).
pub type Tid = i32;

/// One frame of a sampled stack, innermost first. An inlined function is a frame of
/// its own, as in a panic's backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The function, demangled, without its hash; `None` when the debug info lacks it.
    pub function: Option<String>,
    /// The source file as given by the debug info, unchanged.
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl Frame {
    /// The frame's file relative to the workspace, when it is code under test (a lab,
    /// a solution, a fixture, a test) rather than the kit, tokio or std.
    pub fn code_under_test(&self) -> Option<String> {
        // The `main` that `cargo test` generates is attributed to line 1 of the test file;
        // it only waits for the tests.
        let generated_main =
            self.line == Some(1) && self.function.as_deref().is_some_and(|f| f.ends_with("::main"));
        let file = paths::workspace_file(self.file.as_deref()?)?;
        (paths::is_code_under_test(&file) && !generated_main).then_some(file)
    }
}

/// The innermost frame in code under test, as `(file, line)`.
pub fn innermost_code_under_test(frames: &[Frame]) -> Option<(String, u32)> {
    frames.iter().find_map(|f| Some((f.code_under_test()?, f.line?)))
}

/// The frames a student can act on, one a line, innermost first: down to the first
/// stretch of frames in code under test (a chain of the lab's async fns, with at most a
/// few frames of glue between them), then no further: below it is the machinery that
/// ran it. The first dozen frames when no frame is code under test.
pub fn render(frames: &[Frame]) -> String {
    const GLUE: usize = 4;
    let mut last = None;
    for (i, frame) in frames.iter().enumerate() {
        if frame.code_under_test().is_some() {
            last = Some(i);
        } else if last.is_some_and(|l| i - l > GLUE) {
            break;
        }
    }
    let shown = last.map_or(frames.len().min(12), |l| l + 1);
    frames[..shown]
        .iter()
        .map(|f| {
            let function = f.function.as_deref().unwrap_or("??");
            match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{function} at {}:{line}", paths::display(file)),
                (Some(file), None) => format!("{function} at {}", paths::display(file)),
                _ => function.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The kernel's view of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadStat {
    /// `R` running or runnable, `S` sleeping, `D` in uninterruptible I/O, ...
    pub state: char,
    /// CPU time used so far, user and system.
    pub cpu: Duration,
}

/// A sampled stack, and the tokio task the thread was polling when it was sampled.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub frames: Vec<Frame>,
    /// The task's id (as `detector::dump::id_of` gives it); `None` between polls, or in
    /// the scenario's own future, which `block_on` polls and which is not a task.
    pub task: Option<u64>,
}

/// The stack of thread `tid`, innermost frame first.
pub fn sample(tid: Tid) -> Option<Vec<Frame>> {
    sample_task(tid, 1).map(|sample| sample.frames)
}

#[cfg(all(target_os = "linux", feature = "lab"))]
pub use linux::{current_tid, prepare, sample_task, stat, threads};

// Without leaklab's harness (`lab`) nothing samples threads, so nothing needs libc.
#[cfg(not(all(target_os = "linux", feature = "lab")))]
pub use elsewhere::{current_tid, prepare, sample_task, stat, threads};

#[cfg(not(all(target_os = "linux", feature = "lab")))]
mod elsewhere {
    use super::{Sample, ThreadStat, Tid};

    pub fn current_tid() -> Option<Tid> {
        None
    }

    pub fn threads() -> Vec<Tid> {
        Vec::new()
    }

    pub fn stat(_tid: Tid) -> Option<ThreadStat> {
        None
    }

    pub fn sample_task(_tid: Tid, _tries: usize) -> Option<Sample> {
        None
    }

    pub fn prepare() {}
}

#[cfg(all(target_os = "linux", feature = "lab"))]
mod linux {
    use super::{Frame, Sample, ThreadStat, Tid};
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Mutex, Once, OnceLock};
    use std::time::{Duration, Instant};

    /// The signal that asks a thread for its stack. Nothing else in a check uses it.
    const SIGNAL: libc::c_int = libc::SIGUSR2;
    /// Deep enough for a lab's frames under tokio's; deeper stacks are cut.
    const MAX_FRAMES: usize = 128;
    /// How long the watchdog waits for the handler to answer.
    const ANSWER_WITHIN: Duration = Duration::from_millis(500);

    /// `target`: nobody is asked to record.
    const IDLE: Tid = 0;
    /// `target`: the asked thread's handler is recording.
    const RECORDING: Tid = -1;

    /// Where the handler writes. Only the handler of the thread named in `target`
    /// writes, and only after claiming it, so a late or stray signal changes nothing.
    struct Buffer {
        target: AtomicI32,
        /// The instruction the thread was interrupted at, from the signal's context.
        pc: AtomicUsize,
        /// The task being polled (0: none).
        task: AtomicU64,
        ips: [AtomicUsize; MAX_FRAMES],
        len: AtomicUsize,
        done: AtomicBool,
    }

    static BUFFER: Buffer = Buffer {
        target: AtomicI32::new(IDLE),
        pc: AtomicUsize::new(0),
        task: AtomicU64::new(0),
        ips: [const { AtomicUsize::new(0) }; MAX_FRAMES],
        len: AtomicUsize::new(0),
        done: AtomicBool::new(false),
    };

    /// One sample at a time; poisoned for good if a handler never came back (it would
    /// still own the buffer).
    static SAMPLING: Mutex<bool> = Mutex::new(false);

    pub fn current_tid() -> Option<Tid> {
        // SAFETY: gettid has no preconditions and cannot fail.
        Some(unsafe { libc::syscall(libc::SYS_gettid) } as Tid)
    }

    /// Every thread of this process.
    pub fn threads() -> Vec<Tid> {
        let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        let mut tids: Vec<Tid> = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        tids.sort_unstable();
        tids
    }

    pub fn stat(tid: Tid) -> Option<ThreadStat> {
        let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        let state = fields.first()?.chars().next()?;
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(ThreadStat {
            state,
            cpu: Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / ticks_per_second()),
        })
    }

    /// The unit of `/proc`'s CPU times (USER_HZ, 100 on every Linux tokio supports).
    fn ticks_per_second() -> u64 {
        static HZ: OnceLock<u64> = OnceLock::new();
        // SAFETY: sysconf has no preconditions.
        *HZ.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
            hz if hz > 0 => hz as u64,
            _ => 100,
        })
    }

    /// The stack of thread `tid`, innermost frame first, and the task it polls; `None`
    /// if it could not be taken (the thread is gone, or did not answer in time).
    ///
    /// A thread that polls one short poll after another spends much of its time in the
    /// scheduler between them, so up to `tries` samples are taken (each a fraction of a
    /// millisecond: frames are named only for the one returned) until one finds the
    /// thread inside a task's poll; the last one if none does.
    pub fn sample_task(tid: Tid, tries: usize) -> Option<Sample> {
        let mut taken = None;
        for _ in 0..tries.max(1) {
            let Some(raw) = record(tid) else {
                break;
            };
            let polling = raw.2 != 0;
            taken = Some(raw);
            if polling {
                break;
            }
        }
        let (pc, ips, task) = taken?;
        Some(Sample {
            frames: resolve(pc, &ips),
            task: (task != 0).then_some(task),
        })
    }

    /// Loads the debug info that naming frames needs, on a thread of its own, so that a
    /// sample taken later is named at once. The first lookup parses the executable's
    /// debug info, which takes about half a second for a debug build of a check: the
    /// watchdog calls this as soon as something *might* be stuck (after a quarter of the
    /// stall limit), and goes on sampling meanwhile.
    pub fn prepare() {
        static PREPARE: Once = Once::new();
        PREPARE.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("leaklab-symbols".into())
                .spawn(|| {
                    let mut frames = Vec::new();
                    // An address in this executable, and one in the C library.
                    symbols(prepare as *const () as usize + 1, &mut frames);
                    symbols(libc::syscall as *const () as usize + 1, &mut frames);
                });
        });
    }

    /// Has thread `tid` record its own stack, and returns the interrupted instruction,
    /// the return addresses the unwinder found, and the task it was polling (0: none).
    fn record(tid: Tid) -> Option<(usize, Vec<usize>, u64)> {
        let mut poisoned = SAMPLING.lock().unwrap_or_else(|p| p.into_inner());
        if *poisoned || Some(tid) == current_tid() {
            return None;
        }
        install_handler();
        BUFFER.done.store(false, Ordering::Relaxed);
        BUFFER.len.store(0, Ordering::Relaxed);
        BUFFER.pc.store(0, Ordering::Relaxed);
        BUFFER.task.store(0, Ordering::Relaxed);
        BUFFER.target.store(tid, Ordering::Release);
        // SAFETY: tgkill only sends a signal; the handler is installed.
        let sent = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, SIGNAL) } == 0;
        let asked = Instant::now();
        while sent && !BUFFER.done.load(Ordering::Acquire) && asked.elapsed() < ANSWER_WITHIN {
            std::thread::sleep(Duration::from_micros(200));
        }
        if !BUFFER.done.load(Ordering::Acquire) {
            // Withdraw the request; if the handler already claimed it, it is stuck in the
            // unwinder and owns the buffer: never sample again.
            if BUFFER
                .target
                .compare_exchange(tid, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                *poisoned = true;
            }
            return None;
        }
        let len = BUFFER.len.load(Ordering::Relaxed).min(MAX_FRAMES);
        let ips = BUFFER.ips[..len]
            .iter()
            .map(|ip| ip.load(Ordering::Relaxed))
            .collect();
        let pc = BUFFER.pc.load(Ordering::Relaxed);
        let task = BUFFER.task.load(Ordering::Relaxed);
        BUFFER.target.store(IDLE, Ordering::Release);
        Some((pc, ips, task))
    }

    fn install_handler() {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe (see
            // `on_signal`), and SA_RESTART resumes the interrupted system call.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(SIGNAL, &action, std::ptr::null_mut());
            }
        });
    }

    /// Runs on the sampled thread. Async-signal-safe: atomics, `gettid`, the unwinder,
    /// which reads the stack and the unwind tables but allocates nothing, and tokio's
    /// current task id, a `Cell` in a thread-local with a constant initialiser that any
    /// thread tokio polled on has already touched (the watchdog samples only those).
    extern "C" fn on_signal(_signal: libc::c_int, _info: *mut libc::siginfo_t, context: *mut c_void) {
        // SAFETY: errno is thread-local; it is restored before returning, so the
        // interrupted code never sees it change.
        let errno = unsafe { *libc::__errno_location() };
        let me = current_tid().unwrap_or(IDLE);
        if me != IDLE
            && BUFFER
                .target
                .compare_exchange(me, RECORDING, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: `context` is the ucontext_t the kernel passed to an SA_SIGINFO handler.
            BUFFER
                .pc
                .store(unsafe { interrupted_at(context) }, Ordering::Relaxed);
            BUFFER.task.store(polling(), Ordering::Relaxed);
            let mut len = 0;
            // SAFETY: this thread's own stack, walked while it is stopped in this handler;
            // nothing else unwinds it.
            unsafe {
                backtrace::trace_unsynchronized(|frame| {
                    BUFFER.ips[len].store(frame.ip() as usize, Ordering::Relaxed);
                    len += 1;
                    len < MAX_FRAMES
                });
            }
            BUFFER.len.store(len, Ordering::Relaxed);
            BUFFER.done.store(true, Ordering::Release);
        }
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = errno };
    }

    /// The tokio task this thread is polling (0: none), in the signal handler.
    #[cfg(feature = "runtime")]
    fn polling() -> u64 {
        tokio::task::try_id().map_or(0, crate::detector::dump::id_of)
    }

    /// Without the detector (leaklab's loom models) there is no tokio.
    #[cfg(not(feature = "runtime"))]
    fn polling() -> u64 {
        0
    }

    /// The instruction the signal interrupted.
    #[cfg(target_arch = "x86_64")]
    unsafe fn interrupted_at(context: *mut c_void) -> usize {
        // SAFETY: the caller passes the handler's ucontext_t.
        unsafe { (*(context as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] as usize }
    }

    #[cfg(target_arch = "aarch64")]
    unsafe fn interrupted_at(context: *mut c_void) -> usize {
        // SAFETY: the caller passes the handler's ucontext_t.
        unsafe { (*(context as *const libc::ucontext_t)).uc_mcontext.pc as usize }
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    unsafe fn interrupted_at(_context: *mut c_void) -> usize {
        0
    }

    /// Names the recorded addresses. The walk starts inside the handler: frames before
    /// the interrupted instruction are the handler's own and are dropped.
    fn resolve(pc: usize, ips: &[usize]) -> Vec<Frame> {
        let below_handler = match ips.iter().position(|&ip| ip != 0 && ip == pc) {
            Some(i) => &ips[i + 1..],
            None => ips,
        };
        let mut frames = Vec::new();
        // `resolve` looks up `address - 1`, the call instruction for a return address;
        // the interrupted instruction is exact, so it goes in one byte further.
        if pc != 0 {
            symbols(pc + 1, &mut frames);
        }
        for &ip in below_handler {
            symbols(ip, &mut frames);
        }
        // Without the interrupted instruction in the walk, drop the handler's frames by name.
        if !ips.contains(&pc) {
            frames.retain(|f| {
                f.function
                    .as_deref()
                    .is_none_or(|n| !n.contains("labkit::stacks") && !n.starts_with("backtrace::"))
            });
        }
        frames
    }

    fn symbols(address: usize, frames: &mut Vec<Frame>) {
        let before = frames.len();
        backtrace::resolve(address as *mut c_void, |symbol| {
            frames.push(Frame {
                function: symbol.name().map(|n| format!("{n:#}")),
                file: symbol.filename().map(|p| p.to_string_lossy().into_owned()),
                line: symbol.lineno(),
            });
        });
        if frames.len() == before {
            frames.push(Frame {
                function: None,
                file: None,
                line: None,
            });
        }
    }
}

#[cfg(all(test, target_os = "linux", feature = "lab"))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_blocked_thread_is_sampled_at_the_line_it_waits_on() {
        let (ready, is_ready) = mpsc::channel();
        let (release, wait) = mpsc::channel::<()>();
        let line = line!() + 3;
        let waiter = std::thread::spawn(move || {
            ready.send(current_tid()).unwrap();
            let _ = wait.recv();
        });
        let tid = is_ready.recv().unwrap().expect("a tid on linux");
        std::thread::sleep(Duration::from_millis(50));
        let frames = sample(tid).expect("a sample");
        let here = frames.iter().any(|f| {
            f.file
                .as_deref()
                .is_some_and(|p| p.ends_with("labkit/src/stacks.rs"))
                && f.line == Some(line)
        });
        assert!(here, "the sample shows line {line}:\n{}", render(&frames));
        assert_eq!(stat(tid).map(|s| s.state), Some('S'));
        drop(release);
        waiter.join().unwrap();
    }
}

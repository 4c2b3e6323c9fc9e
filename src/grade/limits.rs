//! The limits every check child runs under, and the process group that ends with it.
//!
//! The child-process harness (`labkit::child`) already bounds a check by wall time and
//! trusts only the report it signs. What it cannot stop alone is a lab that takes the
//! machine with it: memory until the kernel kills something else, a file that fills
//! the disk, or a process it starts that outlives the check and holds its output pipes
//! open. So each child gets, before it runs a line of lab code (`pre_exec`):
//!
//! - **rlimits**, inherited by anything it starts: `RLIMIT_DATA` (its heap and every
//!   writable private mapping, thread stacks included: a normal check needs under 48 MiB;
//!   address-space limits would also count the untouched reservations of every malloc
//!   arena, which says nothing about use), `RLIMIT_CPU`, `RLIMIT_FSIZE`, and no core
//!   files;
//! - **its own process group**, killed as a whole when the check ends, or when it has
//!   run past its wall limit (a process left holding the child's pipes would otherwise
//!   keep the harness reading them).
//!
//! `cargo lab check` and `cargo lab grade` both run under [`Limits::default`], so what a
//! student sees is what is graded.

use labkit::child::{Meta, run_check_command};
use labkit::{Check, Finding, Kind, Report};
use std::process::Command;
use std::time::Duration;

/// What one check child may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for a scenario check (virtual time: a healthy one takes well under a second).
    pub scenario: Duration,
    /// Wall time for a loom model, which explores every interleaving on real time.
    pub loom: Duration,
    /// Bytes of `RLIMIT_DATA`: heap, thread stacks and other writable memory.
    pub memory: u64,
}

/// Measured: the checks of every lab, broken and solved, give the verdict they give
/// unlimited with 48 MiB, and some run out at 32 MiB (symbolising leaked tasks' stacks
/// takes tens of MiB). Ten times that leaves room for a lab that leaks many tasks.
pub const DEFAULT_MEMORY: u64 = 512 << 20;

/// A file a lab writes may not grow past this (the check's own report is a few KiB).
const MAX_FILE: u64 = 64 << 20;

/// After the wall limit, how long the harness may still be draining the child's pipes
/// before the group is killed to close them.
const GRACE: Duration = Duration::from_secs(2);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            scenario: Duration::from_secs(30),
            loom: Duration::from_secs(120),
            memory: DEFAULT_MEMORY,
        }
    }
}

impl Limits {
    /// The wall limit for a check of this kind.
    pub fn wall(&self, check: Check) -> Duration {
        match check {
            Check::Scenario => self.scenario,
            Check::Loom => self.loom,
        }
    }

    /// The same limits with one wall limit for every kind of check.
    pub fn with_wall(self, wall: Duration) -> Self {
        Limits {
            scenario: wall,
            loom: wall,
            ..self
        }
    }
}

/// Runs one check binary as a child under `limits`, in its own process group, and
/// returns its report. The group is killed when the check ends; a process the lab
/// left running is a finding (a `leaked task`: work that outlived its request).
pub fn run(mut command: Command, meta: Meta, limits: &Limits) -> Report {
    let wall = limits.wall(meta.check);
    let group = group::confine(&mut command, limits, wall);
    let mut report = run_check_command(command, meta, wall);
    let left = group.end();
    explain_limits(&mut report, limits);
    if !left.is_empty() {
        report.findings.push(left_running(&left));
    }
    report
}

/// The finding for processes the lab started and left running: `sleep ×3, curl`.
fn left_running(names: &[String]) -> Finding {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for name in names {
        match counted.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => *count += 1,
            None => counted.push((name, 1)),
        }
    }
    let listed: Vec<String> = counted
        .iter()
        .map(|(name, count)| match count {
            1 => name.to_string(),
            n => format!("{name} ×{n}"),
        })
        .collect();
    let (what, were) = match names.len() {
        1 => ("a process", "was"),
        _ => ("processes", "were"),
    };
    let message = format!(
        "the lab started {what} that {were} still running when its check ended ({}), killed with the \
         check's process group",
        listed.join(", ")
    );
    Finding::new(Kind::LeakedTask, message).measure("processes_left", names.len() as u64)
}

/// A crash caused by a limit says which limit, instead of the harness's "the process
/// ended" (whose detail is the last lines of the child's stderr).
fn explain_limits(report: &mut Report, limits: &Limits) {
    for finding in report.findings.iter_mut().filter(|f| f.kind == Kind::Crashed) {
        let detail = finding.detail.as_deref().unwrap_or_default();
        let why = if detail.contains("memory allocation of") || detail.contains("out of memory") {
            format!(
                "the lab ran out of memory: a check may use {} MiB, and it asked for more",
                limits.memory >> 20
            )
        } else if finding.message.contains("SIGXCPU") {
            "the lab used more CPU time than its check may".to_owned()
        } else if finding.message.contains("SIGXFSZ") {
            format!("the lab wrote a file larger than {} MiB", MAX_FILE >> 20)
        } else {
            continue;
        };
        finding.message = why;
    }
}

#[cfg(unix)]
mod group {
    //! The process group: set up in the child between fork and exec, and killed from a
    //! thread of the parent that learns the child's pid through a pipe (the harness
    //! spawns the child itself and does not hand its pid out).

    use super::{GRACE, Limits, MAX_FILE};
    use rlimit::{Resource, setrlimit};
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// How often the reaper looks whether the child is gone.
    const POLL: Duration = Duration::from_millis(20);

    pub struct Group {
        done: mpsc::Sender<()>,
        reaper: Option<JoinHandle<Vec<String>>>,
    }

    /// Puts the command's child in a process group of its own under `limits`, and starts
    /// the thread that kills that group when the check ends or at `wall` plus a grace.
    pub fn confine(command: &mut Command, limits: &Limits, wall: Duration) -> Group {
        let (mut pid_in, pid_out) = match std::io::pipe() {
            Ok(pipe) => pipe,
            Err(_) => return no_group(),
        };
        let memory = limits.memory;
        // Twice the wall time: a check may keep both cores busy for all of it.
        let cpu = wall.as_secs().saturating_mul(2).max(2);
        command.process_group(0);
        // SAFETY: the closure runs in the forked child before exec; it only makes
        // async-signal-safe system calls (setrlimit, getpid, write) and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                setrlimit(Resource::DATA, memory, memory)?;
                setrlimit(Resource::CPU, cpu, cpu + 1)?;
                setrlimit(Resource::FSIZE, MAX_FILE, MAX_FILE)?;
                setrlimit(Resource::CORE, 0, 0)?;
                // With `process_group(0)` the child's pid is its group's id. The pipe
                // closes on exec, and in the parent when the command is dropped.
                let pid = libc::getpid().to_ne_bytes();
                libc::write(pid_out.as_raw_fd(), pid.as_ptr().cast(), pid.len());
                Ok(())
            });
        }
        let (done, ended) = mpsc::channel::<()>();
        let reaper = std::thread::spawn(move || {
            let mut pid = [0u8; 4];
            if pid_in.read_exact(&mut pid).is_err() {
                return Vec::new(); // the child never started
            }
            let started = Instant::now();
            let group = i32::from_ne_bytes(pid);
            // SAFETY: kill(2) with signal 0 only asks whether the process exists; once
            // the harness has reaped the child, it does not.
            let child_gone = || unsafe { libc::kill(group, 0) } != 0;
            // Wait until the check ended (the sender is dropped), the child is gone (what
            // is left of its group may be holding its pipes), or the wall limit passed.
            loop {
                match ended.recv_timeout(POLL) {
                    Err(RecvTimeoutError::Timeout) if started.elapsed() < wall + GRACE && !child_gone() => {}
                    _ => break,
                }
            }
            let left = members(group);
            // SAFETY: a plain kill(2) of the group this child leads.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            left
        });
        Group {
            done,
            reaper: Some(reaper),
        }
    }

    fn no_group() -> Group {
        Group {
            done: mpsc::channel().0,
            reaper: None,
        }
    }

    /// The names of the live processes in `group` besides its leader (an exited one
    /// that its parent has not reaped yet is not live). Where there is no `/proc`, the
    /// group as a whole.
    fn members(group: i32) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            // SAFETY: kill(2) with signal 0 only asks whether the group has members.
            let any = unsafe { libc::kill(-group, 0) } == 0;
            return if any {
                vec!["a process".to_owned()]
            } else {
                Vec::new()
            };
        };
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (name) state ppid pgrp ...`; the name may hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
                continue;
            };
            // The check itself leads the group: only what it started counts.
            let pid = stat[..open].trim().parse::<i32>().ok();
            if pgrp.parse() == Ok(group) && pid != Some(group) && *state != "Z" && *state != "X" {
                names.push(stat[open + 1..close].to_owned());
            }
        }
        names.sort();
        names
    }

    impl Group {
        /// Kills what is left of the group; the names of the processes that were.
        pub fn end(self) -> Vec<String> {
            drop(self.done);
            self.reaper.and_then(|r| r.join().ok()).unwrap_or_default()
        }
    }
}

#[cfg(not(unix))]
mod group {
    //! Elsewhere the harness's wall limit is the only bound.
    use super::Limits;
    use std::process::Command;
    use std::time::Duration;

    pub struct Group;

    pub fn confine(_: &mut Command, _: &Limits, _: Duration) -> Group {
        Group
    }

    impl Group {
        pub fn end(self) -> Vec<String> {
            Vec::new()
        }
    }
}

//! Await chains: what each task (and the scenario itself) is waiting on.
//!
//! A task dump (`Handle::dump`, Linux on x86_64 or aarch64 with `--cfg tokio_unstable`)
//! polls every idle task once in a tracing mode and records the chain of `.await`s
//! down to the tokio resource it is parked on. The detector takes one after the settle
//! window for the leak report, and one when the watchdog finds the runtime hung. A dump
//! is time-boxed: it needs every task to yield once, which a stuck task never does.

use crate::paths;
use std::collections::HashMap;
#[cfg(all(tokio_unstable, feature = "stacks"))]
use std::time::Duration;

/// Await chains by task id, or why there are none.
pub(crate) type Stacks = Result<HashMap<u64, String>, &'static str>;

/// What the runtime answers when the watchdog asks it, hung, for its await chains.
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
pub(crate) struct HangDump {
    pub tasks: Stacks,
    /// The scenario's own await chain (it is not a task, so no dump holds it).
    pub scenario: Option<String>,
}

/// A task id as a number, as the hooks and the dumps both name it.
///
/// `Id` shows only `Display` and `Hash`; hashing it hands over its one `u64`, which
/// beats formatting and parsing it on every spawn.
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
pub(crate) fn id_of(id: tokio::task::Id) -> u64 {
    use std::hash::{Hash, Hasher};
    #[derive(Default)]
    struct Take(u64);
    impl Hasher for Take {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 << 8) | u64::from(b);
            }
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }
    let mut take = Take::default();
    id.hash(&mut take);
    take.finish()
}

/// Each task's await chain, keyed by task id.
#[cfg(all(tokio_unstable, feature = "stacks"))]
pub(crate) async fn dump(handle: &tokio::runtime::Handle) -> Stacks {
    match tokio::time::timeout(Duration::from_secs(1), handle.dump()).await {
        Ok(dump) => Ok(unwatched(|| {
            dump.tasks()
                .iter()
                .map(|t| (id_of(t.id()), tidy_trace(&t.trace().to_string())))
                // A task parked on something that is not a tokio resource has no await chain.
                .filter(|(_, trace)| !trace.trim().is_empty())
                .collect()
        })),
        Err(_) => Err("the task dump timed out, so stacks are unavailable"),
    }
}

#[cfg(not(all(tokio_unstable, feature = "stacks")))]
pub(crate) async fn dump(_handle: &tokio::runtime::Handle) -> Stacks {
    Err(if cfg!(feature = "stacks") {
        "no await chain: task dumps need `--cfg tokio_unstable`"
    } else {
        "no await chain: turn on tokio-leakcheck's `stacks` feature (Linux) for task dumps"
    })
}

/// Runs `work`, the symbolising of a dump's frames, out of the watchdog's sight: it
/// takes a second of CPU the first time, inside the scenario's poll (see
/// [`crate::watchdog::unwatched`]). Outside leaklab there is no watchdog.
#[cfg_attr(not(all(tokio_unstable, feature = "stacks")), allow(dead_code))]
pub(crate) fn unwatched<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(feature = "lab")]
    return crate::watchdog::unwatched(work);
    #[cfg(not(feature = "lab"))]
    work()
}

/// Keeps the frames a student can act on: paths shortened to the workspace or crate.
#[cfg_attr(not(all(tokio_unstable, feature = "stacks")), allow(dead_code))]
pub(crate) fn tidy_trace(trace: &str) -> String {
    trace
        .lines()
        .map(|line| match line.rsplit_once(" at ") {
            Some((frame, place)) => {
                // `file:line:col`: only the file is a path.
                let name_end = place.rfind('/').map_or(0, |i| i + 1);
                let (file, at) =
                    place.split_at(place[name_end..].find(':').map_or(place.len(), |c| name_end + c));
                format!("{frame} at {}{at}", paths::normalize(file))
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_task_id_reads_as_its_number() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let task = runtime.spawn(async {});
        let id = task.id();
        assert_eq!(super::id_of(id), id.to_string().parse::<u64>().unwrap());
        runtime.block_on(task).unwrap();
    }
}

//! Live mode, as tokio-console sees it: `cargo lab 9 --console`, watched through the
//! console's own protocol (console-api's `InstrumentClient::watch_updates`).
//!
//! Lab 9's service spawns a task per request, on both copies. In the broken copy the
//! tasks for a hanging laboratory never end, so they pile up; in the fixed copy each
//! ends at the deadline. The test reads the task list as the console does (names,
//! spawn locations, whether each task was dropped) and asserts on it: the named tasks
//! of the driver are there, the lab's tasks carry the lab file as their spawn location,
//! and the first ones stay alive while the count grows (broken) or all end (fixed).
//!
//! Live mode runs on the real clock by design, so this test takes a few seconds of real
//! time; it asserts on counts and states, never on timing. Every wait is bounded and
//! fails with what it was waiting for. Run with `cargo test --features console --test
//! console` (`.ci/run` does, with its own target dir).

use console_api::field::{Name, Value};
use console_api::instrument::InstrumentRequest;
use console_api::instrument::instrument_client::InstrumentClient;
use console_api::{Field, Metadata};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The lab file whose tasks the test follows.
const LAB_FILE: &str = "lab09_no_timeout_downstream.rs";

/// How many of the lab's first tasks the test follows.
const FIRST: usize = 6;

/// A bound on any one wait for the live run (not a timing: a run that works is done in
/// seconds). The first build of the console mode is bounded separately.
const WAIT: Duration = Duration::from_secs(60);

/// The first `cargo build --features console` of the check binary compiles the gRPC
/// stack: minutes on a small machine.
const BUILD: Duration = Duration::from_secs(20 * 60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo lab 9 --console [flag]`, its console server on a free port. Killed (with the
/// check binary it started, in its process group) when dropped.
struct Live {
    child: Child,
    port: u16,
}

impl Live {
    fn start(flag: Option<&str>) -> Live {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free local port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_leaklab"));
        command
            .args(["9", "--console"])
            .args(flag)
            .env("LEAKLAB_ROOT", repo())
            .env("CARGO_TARGET_DIR", repo().join("target"))
            .env("TOKIO_CONSOLE_BIND", format!("127.0.0.1:{port}"))
            // A request every 100 ms, so the count grows in seconds.
            .env("LEAKLAB_LIVE_PERIOD_MS", "100")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect("run leaklab");
        // The live run prints how to attach once its console server is up.
        let (lines, read) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut live = Live { child, port };
        let deadline = Instant::now() + BUILD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match read.recv_timeout(left) {
                Ok(line) if line.contains(&format!("tokio-console http://127.0.0.1:{port}")) => break,
                Ok(_) => {}
                Err(_) => {
                    let status = live.child.try_wait().ok().flatten();
                    panic!(
                        "`cargo lab 9 --console {}` never printed how to attach on port {port} \
                         (it ended: {status:?}; a cold build is given {} min)",
                        flag.unwrap_or_default(),
                        BUILD.as_secs() / 60
                    );
                }
            }
        }
        // Keep draining the count lines, so the child never blocks on a full pipe.
        std::thread::spawn(move || while read.recv().is_ok() {});
        live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: a plain kill(2) of the process group this test started.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One task as the console knows it.
#[derive(Clone, Debug, Default)]
struct Task {
    name: Option<String>,
    file: String,
    /// When it was spawned (seconds, nanoseconds), once its stats came.
    created: Option<(i64, i32)>,
    dropped: bool,
}

/// The task list, built from the console's updates as tokio-console builds it.
#[derive(Default)]
struct TaskList {
    metadata: HashMap<u64, Metadata>,
    tasks: HashMap<u64, Task>,
}

impl TaskList {
    fn apply(&mut self, update: console_api::instrument::Update) {
        for new in update.new_metadata.into_iter().flat_map(|m| m.metadata) {
            if let (Some(id), Some(metadata)) = (new.id, new.metadata) {
                self.metadata.insert(id.id, metadata);
            }
        }
        let Some(tasks) = update.task_update else {
            return;
        };
        for task in tasks.new_tasks {
            let Some(id) = task.id.map(|id| id.id) else {
                continue;
            };
            let name = task
                .fields
                .iter()
                .find(|field| self.field_name(field).as_deref() == Some("task.name"))
                .and_then(|field| match &field.value {
                    Some(Value::StrVal(text) | Value::DebugVal(text)) => {
                        Some(text.trim_matches('"').to_owned())
                    }
                    _ => None,
                })
                // An unnamed task has the field, empty.
                .filter(|name| !name.is_empty());
            let file = task.location.and_then(|l| l.file).unwrap_or_default();
            let entry = self.tasks.entry(id).or_default();
            entry.name = name;
            entry.file = file;
        }
        for (id, stats) in tasks.stats_update {
            let task = self.tasks.entry(id).or_default();
            if let Some(at) = stats.created_at {
                task.created = Some((at.seconds, at.nanos));
            }
            task.dropped |= stats.dropped_at.is_some();
        }
    }

    /// A field's name: given as text, or as an index into its metadata's field names.
    fn field_name(&self, field: &Field) -> Option<String> {
        match field.name.as_ref()? {
            Name::StrName(name) => Some(name.clone()),
            Name::NameIdx(index) => {
                let metadata = self.metadata.get(&field.metadata_id.as_ref()?.id)?;
                metadata.field_names.get(*index as usize).cloned()
            }
        }
    }

    /// The lab's own tasks (spawned in the lab file), oldest first.
    fn of_lab(&self) -> Vec<&Task> {
        let mut tasks: Vec<&Task> = self
            .tasks
            .values()
            .filter(|task| task.file.ends_with(LAB_FILE) && task.created.is_some())
            .collect();
        tasks.sort_by_key(|task| task.created);
        tasks
    }

    fn alive_of_lab(&self) -> usize {
        self.of_lab().iter().filter(|task| !task.dropped).count()
    }

    fn named(&self, name: &str) -> usize {
        self.tasks
            .values()
            .filter(|task| task.name.as_deref() == Some(name))
            .count()
    }
}

/// Watches the live run's task list until `done` holds of it, or fails after [`WAIT`]
/// saying `waiting_for`.
fn watch(live: &Live, waiting_for: &str, done: impl Fn(&TaskList) -> bool) -> TaskList {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the console client");
    runtime.block_on(async {
        let address = format!("http://127.0.0.1:{}", live.port);
        let watching = async {
            let mut client = InstrumentClient::connect(address.clone())
                .await
                .unwrap_or_else(|e| panic!("could not connect to the console server at {address}: {e}"));
            let mut updates = client
                .watch_updates(InstrumentRequest {})
                .await
                .expect("the console server streams updates")
                .into_inner();
            let mut list = TaskList::default();
            while let Some(update) = updates.message().await.expect("an update from the console") {
                list.apply(update);
                if done(&list) {
                    return list;
                }
            }
            panic!("the console server closed the stream while waiting for {waiting_for}");
        };
        tokio::time::timeout(WAIT, watching)
            .await
            .unwrap_or_else(|_| panic!("waited {} s for {waiting_for}", WAIT.as_secs()))
    })
}

#[test]
fn the_broken_lab_piles_up_named_tasks_and_the_fixed_one_ends_them() {
    let original = std::fs::read_to_string(repo().join("tests/originals").join(LAB_FILE)).expect("original");
    let yours = std::fs::read_to_string(repo().join("labs").join(LAB_FILE)).expect("labs/ copy");
    assert_eq!(
        yours, original,
        "this test runs labs/{LAB_FILE} as the broken copy; put the original back first (`cargo lab reset 9`)"
    );

    let broken = Live::start(None);
    // The count grows well past the first tasks: by then, the ones the hanging laboratory
    // holds (every other request) must all still be alive.
    let list = watch(&broken, "the broken lab's tasks to pile up", |list| {
        list.of_lab().len() >= FIRST && list.alive_of_lab() >= 3 * FIRST
    });
    let first: Vec<&Task> = list.of_lab().into_iter().take(FIRST).collect();
    let still_alive = first.iter().filter(|task| !task.dropped).count();
    assert!(
        still_alive >= FIRST / 2,
        "of the broken lab's first {FIRST} tasks, only {still_alive} are still alive while the count grew \
         to {}: the ones the laboratory hangs on must stay",
        list.alive_of_lab()
    );
    assert!(
        list.named("lab09 serve") == 1 && list.named("lab09 request") >= FIRST,
        "the driver's tasks carry their names (`lab09 serve` once, `lab09 request` each): {:?}",
        list.tasks
            .values()
            .filter_map(|t| t.name.as_deref())
            .collect::<Vec<_>>()
    );
    assert!(
        first.iter().all(|task| task.name.is_none()),
        "the lab's own tasks are spawned by the lab with tokio::spawn, so they have no name: {first:?}"
    );
    drop(broken);

    let fixed = Live::start(Some("--fixed"));
    let list = watch(&fixed, "the fixed lab's first tasks to end", |list| {
        let first: Vec<&Task> = list.of_lab().into_iter().take(FIRST).collect();
        first.len() == FIRST && first.iter().all(|task| task.dropped)
    });
    assert!(list.named("lab09 request") >= FIRST);
}

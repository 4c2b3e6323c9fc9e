//! The detector on a server of mini-redis's shape, as its users would test it: an
//! accept loop, a task per connection, a background task that purges expired keys, and
//! a shutdown signal that tells them all to stop.
//!
//! A test that shuts the server down passes; one that forgets to (as mini-redis's own
//! test harness does) fails with a report naming the server task, the purge task and
//! the connection handler, each where it was spawned in this file.

use std::future::Future;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A key-value server: `SET key value` answers `OK`, `GET key` the value or `(nil)`.
mod server {
    use std::collections::HashMap;
    use std::future::Future;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{broadcast, mpsc};

    /// The shared map, and the purge task that forgets keys as they expire.
    #[derive(Clone)]
    struct Db {
        entries: Arc<Mutex<HashMap<String, String>>>,
    }

    impl Db {
        /// Spawns the purge task: it runs until `shutdown` fires.
        fn new(mut shutdown: broadcast::Receiver<()>) -> Db {
            let db = Db {
                entries: Arc::default(),
            };
            let purged = db.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(60)) => {
                            purged.entries.lock().unwrap().retain(|_, v| !v.is_empty());
                        }
                        _ = shutdown.recv() => return,
                    }
                }
            });
            db
        }
    }

    /// Serves `listener` until `shutdown` completes, then waits for every connection
    /// to finish: nothing it spawned outlives it.
    pub async fn run(listener: TcpListener, shutdown: impl Future) {
        // One send (or the sender's drop) stops every task; `_done` is held by each
        // task, so `done.recv()` returns once the last of them has stopped.
        let (stop, _) = broadcast::channel::<()>(1);
        let (done_tx, mut done) = mpsc::channel::<()>(1);
        let db = Db::new(stop.subscribe());
        tokio::select! {
            _ = accept(&listener, &db, &stop, &done_tx) => {}
            _ = shutdown => {}
        }
        drop(stop);
        drop(done_tx);
        let _ = done.recv().await;
    }

    async fn accept(listener: &TcpListener, db: &Db, stop: &broadcast::Sender<()>, done: &mpsc::Sender<()>) {
        while let Ok((socket, _)) = listener.accept().await {
            let (db, stop, done) = (db.clone(), stop.subscribe(), done.clone());
            tokio::spawn(async move {
                handle(socket, db, stop).await;
                drop(done);
            });
        }
    }

    /// Answers one client's commands until it hangs up or the server stops.
    async fn handle(socket: TcpStream, db: Db, mut stop: broadcast::Receiver<()>) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        loop {
            let line = tokio::select! {
                line = lines.next_line() => line,
                _ = stop.recv() => return,
            };
            let Ok(Some(line)) = line else { return };
            let answer = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["SET", key, value] => {
                    db.entries
                        .lock()
                        .unwrap()
                        .insert(key.to_string(), value.to_string());
                    "OK".to_owned()
                }
                ["GET", key] => db
                    .entries
                    .lock()
                    .unwrap()
                    .get(*key)
                    .cloned()
                    .unwrap_or("(nil)".into()),
                _ => "ERR unknown command".to_owned(),
            };
            if write.write_all(format!("{answer}\n").as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// Starts the server on a free port; it stops when `shutdown` completes.
async fn start(shutdown: impl Future + Send + 'static) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(server::run(listener, shutdown));
    (addr, server)
}

/// One client: sets a key, reads it back, and stays connected.
async fn set_and_get(addr: SocketAddr) -> (TcpStream, String) {
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"SET hello world\nGET hello\n").await.unwrap();
    let mut answers = BufReader::new(&mut client).lines();
    answers.next_line().await.unwrap();
    let value = answers.next_line().await.unwrap().unwrap();
    (client, value)
}

/// A graceful shutdown: the server, its purge task and the connection all stop.
async fn shuts_the_server_down() {
    let (stop, stopped) = oneshot::channel::<()>();
    let (addr, server) = start(stopped).await;
    let (_client, value) = set_and_get(addr).await;
    assert_eq!(value, "world");
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio_leakcheck::test]
async fn a_server_that_is_shut_down_leaves_nothing_behind() {
    shuts_the_server_down().await;
}

/// The same test on worker threads.
#[tokio_leakcheck::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_shut_down_leaves_nothing_behind_on_worker_threads() {
    shuts_the_server_down().await;
}

/// The harness mini-redis's own tests use: start the server, never stop it.
async fn forgets_the_shutdown() -> TcpStream {
    let (addr, _server) = start(std::future::pending::<()>()).await;
    set_and_get(addr).await.0
}

/// The client hangs up as the test returns, so its handler ends: the server and its
/// purge task are left.
#[tokio_leakcheck::test]
#[should_panic(expected = "2 tasks still alive after the test returned")]
async fn a_server_never_shut_down_fails_the_test() {
    forgets_the_shutdown().await;
}

/// The report names each task where it was spawned, in this file, the server first.
/// (The client is the scenario's output here, so it is still connected when the
/// detector looks: its handler is alive too.)
#[cfg(tokio_unstable)]
#[test]
fn the_report_names_the_server_its_purge_task_and_the_connection() {
    let outcome = tokio_leakcheck::Detector::current_thread()
        .root(env!("CARGO_MANIFEST_DIR"))
        .settle(std::time::Duration::from_millis(50))
        .run(forgets_the_shutdown);
    let report = outcome.report("after the test returned").expect("a leak");
    let this = "tests/server.rs";
    let source = include_str!("server.rs");
    let sites: Vec<(String, u32)> = report.sites.iter().map(|s| (s.file.clone(), s.line)).collect();
    assert_eq!(report.count, 3, "{report}");
    assert_eq!(outcome.alive, 3, "the runtime's count agrees: {report}");
    assert_eq!(sites.len(), 3, "{report}");
    assert!(sites.iter().all(|(file, _)| file == this), "{report}");
    // Spawn order: the server, then the purge task it starts, then the handler.
    let spawn_lines: Vec<u32> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("tokio::spawn("))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    let (purge, handler, server) = (spawn_lines[0], spawn_lines[1], spawn_lines[2]);
    assert_eq!(sites[0].1, server, "{report}");
    assert_eq!(sites[1].1, purge, "{report}");
    assert_eq!(sites[2].1, handler, "{report}");
    let text = report.to_string();
    assert!(
        text.starts_with(&format!(
            "3 tasks still alive after the test returned, the first spawned at {this}:{server}"
        )),
        "{text}"
    );
    if cfg!(feature = "stacks") {
        // The purge task's and the handler's await chains show this file's frames and
        // what each branch of their select! is parked on; a task parked in accept has
        // none (task dumps do not trace it), and the report says so.
        for site in &report.sites[1..] {
            let stack = site.stack.as_ref().expect("an await chain");
            assert!(stack.contains(&format!("at {this}:")), "{text}");
            assert!(stack.contains("broadcast"), "{text}");
        }
        let why = report.sites[0].stack.as_ref().expect_err("accept is not traced");
        assert!(why.contains("TcpListener::accept"), "{text}");
    }
}

//! Live mode: a lab on the real clock, at human speed, for tokio-console to watch.
//!
//! The checks run each lab on the paused clock and finish in an instant: right for
//! grading, nothing to watch. `cargo lab N --console` runs the same lab function again
//! and again on the real clock (a request a second, until Ctrl-C), so the tasks a broken
//! copy leaks pile up where tokio-console can see them, and the fixed copy shows the
//! same load with the count flat.
//!
//! No new binaries: `labkit::check_bin!` asks this crate's [`live!`](crate::live!)
//! first, and that runs the lab's driver (in [`labs`]) when the runner set [`LIVE_ENV`];
//! otherwise the binary goes on to its check. [`labs`] also says, for the labs with no
//! driver, why there is nothing to watch.
//!
//! Tasks that a lab spawns with `tokio::spawn` cannot be named from outside it: the
//! console shows them by their spawn location, the lab's own line. The tasks the driver
//! spawns carry names ([`spawn_named`]): each request runs in a task named after the
//! lab (`lab01 request`), and the clinic services a lab needs run in tasks named
//! `clinic: ...`. Task names and the console server need the `console` feature (tokio's
//! `tracing` feature, console-subscriber); without it the count still prints.

pub mod labs;

use crate::Subject;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

pub use labkit::child::LIVE_ENV;

/// How often a request is made, in milliseconds (default 1000). The console test makes
/// them faster, to see the count grow in a few seconds.
pub const PERIOD_ENV: &str = "LEAKLAB_LIVE_PERIOD_MS";

/// The exit code of a live run of a lab that has nothing to watch: the runner passes it
/// on (2, as for any request the tool cannot serve).
pub const NOTHING_TO_WATCH: i32 = 2;

/// Whether this check binary was started in live mode.
pub fn requested() -> bool {
    std::env::var_os(LIVE_ENV).is_some()
}

/// What a lab's live run shows, for the header it prints.
#[derive(Debug)]
pub struct Show {
    /// The load, in one line: "a request a second for patient 1 (answers in 10 ms) or 2
    /// (never answers)".
    pub load: &'static str,
    /// What to look for in the console's task list.
    pub look_for: &'static str,
}

/// The driver's pace, and its count of requests and of its own long-lived tasks.
#[derive(Clone, Debug)]
pub struct Pace {
    period: Duration,
    requests: Arc<AtomicU64>,
    services: Arc<AtomicU64>,
}

impl Pace {
    fn from_env() -> Pace {
        let period = std::env::var(PERIOD_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .filter(|&ms| ms > 0)
            .map_or(Duration::from_secs(1), Duration::from_millis);
        Pace {
            period,
            requests: Arc::default(),
            services: Arc::default(),
        }
    }

    /// Makes request number `n` (from 1) every period, for ever: `request(n)` is the
    /// request's future, run in a task named `name`. (Not in a span per request: the
    /// console cannot show it, as console-subscriber 0.5 sends no task's parent spans.)
    pub async fn every<F, Fut>(&self, name: &str, mut request: F)
    where
        F: FnMut(u64) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut ticks = tokio::time::interval(self.period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
            spawn_named(name, request(n));
        }
    }

    /// Starts a clinic service the lab needs (it runs for good): a named task that the
    /// count leaves out.
    #[track_caller]
    pub fn service<Fut>(&self, name: &str, future: Fut) -> JoinHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.services.fetch_add(1, Ordering::Relaxed);
        spawn_named(name, future)
    }
}

/// `tokio::spawn` with a task name the console shows (with the `console` feature; a
/// plain spawn without it). The spawn location is the caller's.
#[track_caller]
pub fn spawn_named<Fut>(name: &str, future: Fut) -> JoinHandle<Fut::Output>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    #[cfg(all(tokio_unstable, feature = "console"))]
    {
        tokio::task::Builder::new()
            .name(name)
            .spawn(future)
            .expect("a task spawns on a running runtime")
    }
    #[cfg(not(all(tokio_unstable, feature = "console")))]
    {
        let _ = name;
        tokio::spawn(future)
    }
}

/// Runs `driver` live until Ctrl-C, with the console server up, and prints the count of
/// alive tasks once a second. Never returns.
pub fn serve<D, Fut>(subject: &Subject, show: &Show, driver: D) -> !
where
    D: FnOnce(Pace) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => fail(&format!("could not start a tokio runtime: {error}")),
    };
    let attach = console::start().unwrap_or_else(|message| fail(&message));
    let pace = Pace::from_env();
    print_header(subject, show, attach.as_deref(), pace.period);

    let (requests, services, period) = (pace.requests.clone(), pace.services.clone(), pace.period);
    {
        let _inside = runtime.enter();
        spawn_named(&format!("lab{:02} driver", subject.lab), driver(pace));
    }
    let metrics = runtime.metrics();
    // The driver and the services run for good: the count is everything else, the
    // lab's tasks and the requests in flight.
    let alive = || {
        let ours = 1 + services.load(Ordering::Relaxed) as usize;
        metrics.num_alive_tasks().saturating_sub(ours)
    };
    let on_terminal = std::io::stdout().is_terminal();
    runtime.block_on(async {
        // Counted half a period after each request, not as it starts.
        let first = tokio::time::Instant::now() + period / 2;
        let mut ticks = tokio::time::interval_at(first, Duration::from_secs(1));
        let stop = console::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    let line = format!(
                        "after {} requests, tasks alive: {}",
                        requests.load(Ordering::Relaxed),
                        alive()
                    );
                    // On a terminal, one line that updates; in a pipe, a line each.
                    if on_terminal {
                        print!("\r{line:<48}");
                    } else {
                        println!("{line}");
                    }
                    let _ = std::io::stdout().flush();
                }
                () = &mut stop => break,
            }
        }
    });
    println!(
        "\nstopped after {} requests; tasks alive: {}.",
        requests.load(Ordering::Relaxed),
        alive()
    );
    let _ = std::io::stdout().flush();
    // Exit without dropping the runtime: its shutdown would wait on nothing useful.
    std::process::exit(0)
}

/// The live run of a lab that has no driver: says why, and exits 2.
pub fn nothing_to_watch(subject: &Subject, why: &str) -> ! {
    eprintln!("live mode shows nothing for lab {}: {why}", subject.lab);
    std::process::exit(NOTHING_TO_WATCH)
}

fn fail(message: &str) -> ! {
    eprintln!("leaklab live mode: {message}");
    std::process::exit(3)
}

fn print_header(subject: &Subject, show: &Show, attach: Option<&str>, period: Duration) {
    let every = if period == Duration::from_secs(1) {
        "second".to_owned()
    } else {
        format!("{} ms", period.as_millis())
    };
    let copy = match subject.variant {
        labkit::Variant::Yours => "your copy",
        labkit::Variant::Solution => "the solution",
        _ => "the copy",
    };
    println!(
        "lab {} live ({copy}, {}): {}, on the real clock.",
        subject.lab, subject.file, show.load
    );
    println!("one request every {every}, until Ctrl-C.");
    match attach {
        Some(address) => println!("attach from another terminal:  tokio-console {address}"),
        None => println!(
            "(built without the `console` feature, so there is no console server: run it as \
             `cargo lab {} --console`)",
            subject.lab
        ),
    }
    println!("what to look for: {}", show.look_for);
    println!();
    let _ = std::io::stdout().flush();
}

/// The console server, with the `console` feature.
#[cfg(feature = "console")]
mod console {
    use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
    use std::time::{Duration, Instant};
    use tracing_subscriber::layer::SubscriberExt;

    /// The port tokio-console tries when given no address.
    const DEFAULT_PORT: u16 = 6669;

    /// Starts console-subscriber's server, on `TOKIO_CONSOLE_BIND` if set, else on
    /// 127.0.0.1:6669, else (that port taken) on a free port. Returns the address to
    /// attach to.
    pub fn start() -> Result<Option<String>, String> {
        let address = match std::env::var("TOKIO_CONSOLE_BIND") {
            Ok(bind) => bind
                .to_socket_addrs()
                .ok()
                .and_then(|mut addresses| addresses.next())
                .ok_or_else(|| {
                    format!("TOKIO_CONSOLE_BIND={bind} is not a HOST:PORT this machine can bind")
                })?,
            Err(_) => free_address()?,
        };
        let layer = console_subscriber::ConsoleLayer::builder()
            .with_default_env()
            .server_addr(address)
            .spawn();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|error| format!("could not install the console's subscriber: {error}"))?;
        listening(address)?;
        Ok(Some(format!("http://{address}")))
    }

    /// Waits until the server (started on a thread of its own) takes connections, so
    /// that the address is printed only once it works.
    fn listening(address: SocketAddr) -> Result<(), String> {
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "the console server did not start on {address} (is the port taken? set \
                     TOKIO_CONSOLE_BIND to another)"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// 127.0.0.1:6669 when it is free, else a port the system picks.
    fn free_address() -> Result<SocketAddr, String> {
        let default = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT));
        if TcpListener::bind(default).is_ok() {
            return Ok(default);
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|error| format!("could not find a free local port for the console: {error}"))?;
        listener
            .local_addr()
            .map_err(|error| format!("could not read the console's port: {error}"))
    }

    /// Resolves on Ctrl-C.
    pub async fn ctrl_c() {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Without the `console` feature: no server, and Ctrl-C ends the process as usual.
#[cfg(not(feature = "console"))]
mod console {
    pub fn start() -> Result<Option<String>, String> {
        Ok(None)
    }

    pub async fn ctrl_c() {
        std::future::pending::<()>().await;
    }
}

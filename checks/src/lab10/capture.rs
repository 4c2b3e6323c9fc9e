//! Log lines, captured as the lab writes them, with everything each one carries.
//!
//! A `tracing` subscriber sees a line (an event) together with the spans it was logged
//! in: the same view a log collector has. The capture keeps, for each line, the text of
//! its own fields and then of each enclosing span's, innermost first, so the check can
//! ask which trace id a line carries without caring how the lab put it there (a span
//! field, a field on the line, the message itself).
//!
//! Why a global subscriber: a line logged in a spawned task is logged on whichever
//! runtime thread polls it, and a thread-local default (`set_default`) would miss the
//! very lines the lab loses. So the subscriber is installed once per process, and a
//! [`Capture`] turns recording on for one run at a time: a second run in the same
//! process waits for the first to finish rather than mix its lines in.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::sync::{Mutex, MutexGuard, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Logged {
    /// The line's own fields, message included, then each enclosing span's fields,
    /// innermost first: `message=department answered patient=101`.
    pub texts: Vec<String>,
    /// The tokio task that logged it, as the detector numbers tasks (`None`: no task).
    pub task: Option<u64>,
    /// The request the scenario was polling on this thread when it was logged.
    pub polling: Option<usize>,
    /// Where it was logged: the `info!` in the source, as the compiler names it.
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// Recording, for one run. [`Capture::finish`] hands back what was logged.
pub struct Capture {
    _turn: MutexGuard<'static, ()>,
}

impl Capture {
    /// Starts recording every line logged in this process, once the subscriber is
    /// installed; `Err` says why it could not be.
    pub fn start() -> Result<Capture, String> {
        install()?;
        static TURN: Mutex<()> = Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        *lines() = Some(Vec::new());
        Ok(Capture { _turn: turn })
    }

    /// Stops recording; every line logged since [`Capture::start`].
    pub fn finish(self) -> Vec<Logged> {
        lines().take().unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        lines().take();
    }
}

/// Runs `poll` with this thread marked as polling `request`: lines logged meanwhile on
/// this thread are that request's own (the scenario polls each request itself).
pub fn polling<T>(request: usize, poll: impl FnOnce() -> T) -> T {
    let before = POLLING.with(|p| p.replace(Some(request)));
    let output = poll();
    POLLING.with(|p| p.set(before));
    output
}

thread_local! {
    static POLLING: Cell<Option<usize>> = const { Cell::new(None) };
}

fn lines() -> MutexGuard<'static, Option<Vec<Logged>>> {
    static LINES: Mutex<Option<Vec<Logged>>> = Mutex::new(None);
    LINES.lock().unwrap_or_else(|e| e.into_inner())
}

fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(Recorder);
            tracing::subscriber::set_global_default(subscriber)
                .map_err(|_| "another tracing subscriber was installed first".to_owned())
        })
        .clone()
}

/// The layer: renders each span's fields once, when it is made (and when fields are
/// recorded later), and each line with its spans' texts when it is logged.
struct Recorder;

/// A span's fields, rendered.
struct SpanText(String);

impl<S> Layer<S> for Recorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut text = Render::default();
        attrs.record(&mut text);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanText(text.0));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut text = Render::default();
        values.record(&mut text);
        if let Some(span) = ctx.span(id)
            && let Some(SpanText(old)) = span.extensions_mut().get_mut::<SpanText>()
        {
            old.push_str(&text.0);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut lines = lines();
        let Some(lines) = lines.as_mut() else { return };
        let mut own = Render::default();
        event.record(&mut own);
        let mut texts = vec![own.0];
        for span in ctx.event_scope(event).into_iter().flatten() {
            let text = span.extensions().get::<SpanText>().map(|t| t.0.clone());
            texts.push(text.unwrap_or_default());
        }
        let metadata = event.metadata();
        lines.push(Logged {
            texts,
            task: tokio::task::try_id().and_then(|id| id.to_string().parse().ok()),
            polling: POLLING.with(Cell::get),
            file: metadata.file().map(str::to_owned),
            line: metadata.line(),
        });
    }
}

/// Fields as ` name=value` pairs, values as written (`%` and `?` alike).
#[derive(Default)]
struct Render(String);

impl Visit for Render {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

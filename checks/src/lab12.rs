//! Lab 12's check: reads of the chart cache never wait for one another's fetches. A
//! chart already cached comes back at once, a chart that is not takes one fetch from
//! the records service, however many reads are under way, and every read returns that
//! patient's own chart.
//!
//! Each case opens a fresh cache on a records service with its own fetch time, reads
//! some charts one by one (they are cached from then on), then reads a batch of charts
//! all at once, in one task, as a web server's requests share a thread, and times
//! every read on the paused clock, where a fetch of 200 ms takes exactly 200 ms. The
//! records service counts the fetches in flight at once and the line that asked for
//! each.
//!
//! The broken cache holds a `std::sync::Mutex` guard across the fetch: the second read
//! blocks the runtime's only thread in `lock()`, and the watchdog reports the deadlock
//! at that line. Swapping in `tokio::sync::Mutex` and still holding it across the fetch
//! cannot pass: nothing blocks, but the reads queue at the lock, ten uncached charts
//! take ten fetches, and a cached chart waits behind fetches of other patients. A read
//! lock to look and a write lock held across the fetch queues the same way. Dropping
//! the cache takes one fetch per read, also for the charts the ward already has; and
//! answering with a placeholder while the fetch runs in the background returns the
//! wrong chart. Retrying `try_lock` after a `yield_now` never blocks the thread, but
//! spins for as long as the fetch under the lock takes; on the paused clock, which moves
//! only when nothing is ready to run, it would spin for ever, so the reads at once count
//! their wake-ups at one instant and stop at [`SPIN_POLLS`] (a spin).

use crate::hidden::Cases;
use crate::{Subject, count};
use labkit::detector::{TaskRecord, group_sites, normalize};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{Chart, ChartArchive, RecordsService};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 12;

/// How much longer than what it waits for a read may take: timers tick in whole
/// milliseconds, and nothing else costs virtual time.
pub const SLACK: Duration = Duration::from_millis(1);

/// How many times the reads at once may be woken without the clock moving. Ten reads
/// of a correct cache wake the batch a few dozen times in all.
pub const SPIN_POLLS: u32 = 10_000;

/// One ward round: a fresh cache, some charts read one by one, then a batch at once.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// How long the records service takes to send one chart.
    pub fetch_ms: u64,
    /// Patients whose charts are read one after another first: cached from then on.
    pub first: &'static [u32],
    /// Patients whose charts are then read all at once, in this order.
    pub at_once: &'static [u32],
}

pub const CASES: [Case; 3] = [
    Case {
        name: "ten clinicians open ten charts at once",
        fetch_ms: 200,
        first: &[],
        at_once: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    },
    Case {
        name: "a cached chart read while two others are fetched",
        fetch_ms: 350,
        first: &[7],
        at_once: &[3, 4, 7, 7, 7, 7, 7],
    },
    Case {
        name: "five clinicians open one chart at once",
        fetch_ms: 250,
        first: &[],
        at_once: &[5, 5, 5, 5, 5],
    },
];

impl Case {
    fn fetch_time(&self) -> Duration {
        Duration::from_millis(self.fetch_ms)
    }

    /// Whether `patient`'s chart is in the cache before the reads at once begin.
    pub fn cached(&self, patient: u32) -> bool {
        self.first.contains(&patient)
    }
}

/// One read: whose chart, what came back, and how long it took.
#[derive(Clone, Debug)]
pub struct Read {
    pub patient: u32,
    pub chart: Chart,
    pub took: Duration,
}

/// What one round saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The reads one by one, in order.
    pub first: Vec<Read>,
    /// The reads at once, in the case's order.
    pub at_once: Vec<Read>,
    /// The most fetches the records service had in flight at once.
    pub most_in_flight: u32,
    /// Fetches of charts that were already cached, asked for during the reads at once.
    pub refetched: u32,
    /// The reads at once were woken this many times without the clock moving, this long
    /// after they began, and the check stopped them there.
    pub spun: Option<(u32, Duration)>,
    /// The lines of the lab that asked the records service for a chart.
    pub fetched_at: Vec<Site>,
    /// Tasks still alive after the round and the settle window.
    pub leaks: Vec<TaskRecord>,
}

/// How a check binary calls this lab: one cache per round, shared by its reads.
#[macro_export]
macro_rules! lab12 {
    ($lab:ident, $subject:expr) => {
        $crate::lab12::check($subject, |records| {
            let cache = ::std::rc::Rc::new($lab::ChartCache::new(records));
            move |patient| {
                let cache = cache.clone();
                async move { cache.chart(patient).await }
            }
        })
    };
}

/// Every round against one copy of the lab.
pub fn check<O, R, Fut>(_subject: &Subject, open: O) -> Verdict
where
    O: Fn(RecordsService) -> R,
    R: Fn(u32) -> Fut,
    Fut: Future<Output = Chart>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    for (i, case) in cases.iter().enumerate() {
        let seen = run(case, &open);
        if i == 0 {
            let slowest = seen.at_once.iter().map(|r| r.took).max().unwrap_or_default();
            verdict.measure("reads_at_once", seen.at_once.len() as u64);
            verdict.measure("slowest_read_ms", slowest.as_millis() as u64);
            verdict.measure("one_fetch_ms", case.fetch_ms);
            verdict.measure("most_fetches_in_flight", u64::from(seen.most_in_flight));
        }
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.findings = crate::once_each(verdict.findings, same_bug);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    fetch_ms: u64,
    #[serde(default)]
    first: Vec<u32>,
    at_once: Vec<u32>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        Ok(Case {
            name: crate::hidden::name(self.name),
            fetch_ms: self.fetch_ms,
            first: crate::hidden::leak(self.first),
            at_once: crate::hidden::leak(self.at_once),
        })
    }
}

/// One round on a fresh cache.
fn run<O, R, Fut>(case: &Case, open: &O) -> Seen
where
    O: Fn(RecordsService) -> R,
    R: Fn(u32) -> Fut,
    Fut: Future<Output = Chart>,
{
    let archive = ChartArchive::new(case.fetch_time());
    let outcome = Detector::new().without_stacks().run(|| async {
        let read = open(archive.service());
        let timed = |patient: u32| {
            let chart = read(patient);
            async move {
                let started = Instant::now();
                let chart = chart.await;
                Read {
                    patient,
                    chart,
                    took: started.elapsed(),
                }
            }
        };
        let mut first = Vec::new();
        for &patient in case.first {
            first.push(timed(patient).await);
        }
        let batch_began = Instant::now();
        let batch = all_at_once(case.at_once.iter().map(|&p| timed(p)).collect()).await;
        let (at_once, spun) = match batch {
            Ok(reads) => (reads, None),
            Err(polls) => (Vec::new(), Some((polls, batch_began.elapsed()))),
        };
        let refetched = archive
            .fetches()
            .iter()
            .filter(|f| f.started >= batch_began && case.cached(f.patient))
            .count();
        (first, at_once, refetched as u32, spun)
    });
    let (first, at_once, refetched, spun) = outcome.output;
    let mut fetched_at: BTreeMap<(String, u32), Site> = BTreeMap::new();
    for fetch in archive.fetches() {
        let file = normalize(fetch.asked_at.file());
        let line = fetch.asked_at.line();
        fetched_at
            .entry((file.clone(), line))
            .and_modify(|site| site.count += 1)
            .or_insert(Site {
                file,
                line,
                count: 1,
                stack: None,
            });
    }
    Seen {
        first,
        at_once,
        most_in_flight: archive.most_in_flight(),
        refetched,
        spun,
        fetched_at: fetched_at.into_values().collect(),
        leaks: outcome.leaks,
    }
}

/// Runs every future concurrently in the calling task (like `futures::future::join_all`):
/// each is polled whenever the task wakes, until all are done.
///
/// It gives up, with how many times it was polled, if it is polled [`SPIN_POLLS`] times
/// at one instant of the paused clock: a read that yields in a loop (`try_lock` and
/// `yield_now`) wakes it again at once, every time, and a runtime that always has a
/// task to run never lets the clock reach the fetch the loop is waiting for.
async fn all_at_once<F: Future>(futures: Vec<F>) -> Result<Vec<F::Output>, u32> {
    let mut pending: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    let mut same_instant = (Instant::now(), 0);
    let finished = std::future::poll_fn(|cx| {
        let now = Instant::now();
        if now == same_instant.0 {
            same_instant.1 += 1;
            if same_instant.1 >= SPIN_POLLS {
                return Poll::Ready(Err(same_instant.1));
            }
        } else {
            same_instant = (now, 1);
        }
        for (slot, output) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *output = Some(value);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await;
    finished.map(|()| done.into_iter().flatten().collect())
}

/// The rules for one round: the right chart for every read, a cached chart at once, an
/// uncached one within one fetch, and nothing left running.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some((polls, after)) = seen.spun {
        let message = format!(
            "{}: the reads at once were woken {} times, {} ms after they began, without the clock \
             moving: a read goes round a loop that yields (try_lock and yield_now?) while the read \
             holding the lock waits for its fetch. It burns CPU for as long as the fetch takes, \
             and on the paused clock, which moves only when nothing is ready to run, it keeps the \
             fetch from ever finishing{}",
            case.name,
            count(polls.into()),
            count(after.as_millis() as u64),
            asked_at(&seen.fetched_at).replace("the slow call", "the fetch it waits for"),
        );
        let finding = Finding::new(Kind::Spin, message)
            .measure("polls_at_one_instant", polls.into())
            .with_sites(seen.fetched_at.clone());
        findings.push(finding);
    }
    findings.extend(wrong_charts(case, seen));
    let fetch = case.fetch_time();
    let name = case.name;
    let uncached: Vec<&Read> = seen
        .first
        .iter()
        .chain(seen.at_once.iter().filter(|r| !case.cached(r.patient)))
        .collect();
    if let Some(slowest) = uncached.iter().map(|r| r.took).max()
        && slowest > fetch + SLACK
    {
        let reads = seen.at_once.iter().filter(|r| !case.cached(r.patient)).count();
        let which = if reads == seen.at_once.len() {
            format!("{reads} reads at once")
        } else {
            format!("{reads} reads of charts not yet cached, at once,")
        };
        let why = if seen.most_in_flight <= 1 && reads > 1 {
            format!(
                ": the lock serialised them (the records service never had more than {} fetch in \
                 flight){}",
                seen.most_in_flight,
                asked_at(&seen.fetched_at)
            )
        } else {
            ": each waited for more than its own fetch".to_owned()
        };
        let message = format!(
            "{name}: {which} took {} ms; one read takes {} ms{why}",
            count(slowest.as_millis() as u64),
            count(case.fetch_ms)
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("uncached_reads", reads as u64)
            .measure("slowest_read_ms", slowest.as_millis() as u64)
            .measure("one_fetch_ms", case.fetch_ms)
            .measure("most_fetches_in_flight", u64::from(seen.most_in_flight))
            .with_sites(seen.fetched_at.clone());
        findings.push(finding);
    }
    let cached: Vec<&Read> = seen.at_once.iter().filter(|r| case.cached(r.patient)).collect();
    if let Some(slowest) = cached.iter().map(|r| r.took).max()
        && slowest > SLACK
    {
        let patients: Vec<u32> = case.first.to_vec();
        let why = if seen.refetched > 0 {
            format!(
                "the cache was not used: the records service was asked for {} again",
                charts_of(&patients)
            )
        } else {
            "they waited at the lock while it was held across other patients' fetches".to_owned()
        };
        let message = format!(
            "{name}: {} reads of {}, already cached, took up to {} ms; a cached chart should come \
             back at once, but {why}",
            cached.len(),
            charts_of(&patients),
            count(slowest.as_millis() as u64)
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("cached_reads", cached.len() as u64)
            .measure("slowest_cached_read_ms", slowest.as_millis() as u64)
            .measure("refetched", u64::from(seen.refetched))
            .with_sites(seen.fetched_at.clone());
        findings.push(finding);
    }
    if !seen.leaks.is_empty() {
        let sites = group_sites(&seen.leaks);
        let message = format!(
            "{name}: {} still alive after the reads returned and the runtime settled{}",
            if seen.leaks.len() == 1 {
                "1 task was".to_owned()
            } else {
                format!("{} tasks were", seen.leaks.len())
            },
            sites
                .first()
                .map(|site| format!(", spawned at {site}"))
                .unwrap_or_default()
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("alive_tasks", seen.leaks.len() as u64);
        findings.push(finding.with_sites(sites));
    }
    findings
}

/// Reads that came back with someone else's chart, or an empty one.
fn wrong_charts(case: &Case, seen: &Seen) -> Option<Finding> {
    let reads: Vec<&Read> = seen.first.iter().chain(&seen.at_once).collect();
    let wrong: Vec<&&Read> = reads.iter().filter(|r| r.chart != Chart::of(r.patient)).collect();
    let example = wrong.first()?;
    let got = if example.chart.summary.is_empty() {
        "an empty chart".to_owned()
    } else if example.chart.patient != example.patient {
        format!("patient {}'s", example.chart.patient)
    } else {
        "a chart that is not the records service's".to_owned()
    };
    let message = format!(
        "{}: {} of {} reads returned the wrong chart: a clinician who opened patient {}'s chart \
         got {got}",
        case.name,
        wrong.len(),
        reads.len(),
        example.patient
    );
    Some(
        Finding::new(Kind::LostWork, message)
            .measure("wrong_charts", wrong.len() as u64)
            .measure("reads", reads.len() as u64),
    )
}

fn asked_at(sites: &[Site]) -> String {
    sites
        .first()
        .map(|site| format!("; the slow call is at {site}"))
        .unwrap_or_default()
}

/// `patient 7's chart`, `the charts of patients 3 and 7`.
fn charts_of(patients: &[u32]) -> String {
    match patients {
        [one] => format!("patient {one}'s chart"),
        many => {
            let words: Vec<String> = many.iter().map(u32::to_string).collect();
            format!("the charts of patients {}", words.join(" and "))
        }
    }
}

/// Two findings are the same bug when they break one rule (kind and measures) at one
/// first site.
fn same_bug(f: &Finding) -> (Kind, Option<(String, u32)>, Vec<String>) {
    let place = f.sites.first().map(|s| (s.file.clone(), s.line));
    (f.kind, place, f.measured.keys().cloned().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(patient: u32, took_ms: u64) -> Read {
        Read {
            patient,
            chart: Chart::of(patient),
            took: Duration::from_millis(took_ms),
        }
    }

    /// What a correct cache sees: every uncached read takes one fetch, every cached one
    /// no time, and as many fetches run at once as there are uncached reads.
    fn correct(case: &Case) -> Seen {
        let took = |p: u32| if case.cached(p) { 0 } else { case.fetch_ms };
        Seen {
            first: case.first.iter().map(|&p| read(p, case.fetch_ms)).collect(),
            at_once: case.at_once.iter().map(|&p| read(p, took(p))).collect(),
            most_in_flight: case.at_once.iter().filter(|&&p| !case.cached(p)).count() as u32,
            ..Seen::default()
        }
    }

    /// What a lock held across the fetch sees: one fetch at a time, in order, and the
    /// cached reads behind them all.
    fn serialised(case: &Case) -> Seen {
        let mut at = 0;
        let at_once = case
            .at_once
            .iter()
            .map(|&p| {
                if !case.cached(p) {
                    at += case.fetch_ms;
                }
                read(p, at)
            })
            .collect();
        Seen {
            at_once,
            most_in_flight: 1,
            fetched_at: vec![Site {
                file: "labs/lab12_lock_across_await.rs".into(),
                line: 35,
                count: 10,
                stack: None,
            }],
            ..correct(case)
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_correct_cache_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_lock_held_across_the_fetch_is_reported_with_the_numbers() {
        let case = &CASES[0];
        let findings = judge(case, &serialised(case));
        assert_eq!(findings.len(), 1);
        let message = &findings[0].message;
        assert!(
            message
                .contains("10 reads at once took 2,000 ms; one read takes 200 ms: the lock serialised them"),
            "{message}"
        );
        assert!(
            message.contains("labs/lab12_lock_across_await.rs:35"),
            "{message}"
        );
        assert_eq!(findings[0].measured["slowest_read_ms"], 2_000);
    }

    #[test]
    fn a_cached_chart_must_not_wait_behind_other_fetches() {
        let case = &CASES[1];
        assert_eq!(
            kinds(case, &serialised(case)),
            [Kind::MissedDeadline, Kind::MissedDeadline]
        );
        // Fetching the cached chart again costs a fetch, too.
        let mut seen = correct(case);
        for read in seen.at_once.iter_mut().filter(|r| r.patient == 7) {
            read.took = Duration::from_millis(case.fetch_ms);
        }
        seen.refetched = 5;
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("the cache was not used"));
    }

    #[test]
    fn one_fetch_is_the_bound_for_an_uncached_read() {
        let case = &CASES[2];
        let mut seen = correct(case);
        seen.at_once[4].took += SLACK;
        assert_eq!(kinds(case, &seen), []);
        seen.at_once[4].took += SLACK;
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline]);
    }

    #[test]
    fn a_placeholder_chart_is_the_wrong_chart() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.at_once[2].chart = Chart {
            patient: 3,
            summary: String::new(),
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LostWork);
        assert!(findings[0].message.contains("got an empty chart"));
    }

    #[test]
    fn one_rule_broken_in_many_cases_is_told_once() {
        let findings: Vec<Finding> = CASES
            .iter()
            .flat_map(|case| judge(case, &serialised(case)))
            .collect();
        assert_eq!(findings.len(), 4, "{findings:#?}");
        let told = crate::once_each(findings, same_bug);
        assert_eq!(told.len(), 2, "the uncached and the cached reads are two lessons");
        assert!(
            told[0].message.ends_with("(the same in 2 more cases)"),
            "{}",
            told[0].message
        );
    }

    #[test]
    fn reads_that_yield_in_a_loop_are_a_spin_at_the_fetch_they_wait_for() {
        let case = &CASES[0];
        let seen = Seen {
            at_once: Vec::new(),
            spun: Some((SPIN_POLLS, Duration::ZERO)),
            ..serialised(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::Spin);
        assert!(
            findings[0].message.contains("woken 10,000 times"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].sites[0].line, 35);
    }

    #[test]
    fn counts_read_as_a_person_writes_them() {
        assert_eq!(count(200), "200");
        assert_eq!(count(2_000), "2,000");
    }
}

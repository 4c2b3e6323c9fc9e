//! Each lab's live driver: the load it puts on the lab function, what the console
//! shows, and, for a lab with no driver, why there is nothing to watch.
//!
//! A driver gets the lab function (from the check binary, through [`live!`]) and calls
//! it as a clinic would on a slow night: a request a second, some answered quickly,
//! some never. Every service a request waits on is the clinic's own (`leaklab_clinic`),
//! as in the checks, but on the real clock.
//!
//! [`live!`]: crate::live!

use super::{Pace, Show};
use leaklab_clinic::{
    Ack, Appointment, Diary, GpInbox, GpPractice, LabResults, LabSystem, Laboratory, Pager, PagingNetwork,
    PatientResults, ResearchStudy, ResultRequest, Scheduler,
};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Runs a lab live when the runner asks for it (see [`crate::live`]); otherwise does
/// nothing, and the check binary goes on to its check. `labkit::check_bin!` calls it
/// with the lab's module (`lab01`), the copy's module and the [`Subject`](crate::Subject).
#[macro_export]
macro_rules! live {
    ($which:ident, $lab:ident, $subject:expr) => {
        if $crate::live::requested() {
            $crate::live_driver!($which, $lab, &$subject)
        }
    };
}

/// The table: the driver of each lab, or why it has none.
#[doc(hidden)]
#[macro_export]
macro_rules! live_driver {
    (lab01, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB01, |pace| {
            $crate::live::labs::lab01(pace, $lab::fetch_lab_result)
        })
    };
    (lab05, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB05, |pace| {
            $crate::live::labs::lab05(pace, $lab::export_lab_results)
        })
    };
    (lab06, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB06, |pace| {
            $crate::live::labs::lab06(pace, $lab::book_appointment)
        })
    };
    (lab07, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB07, |pace| {
            $crate::live::labs::lab07(pace, $lab::page_on_call)
        })
    };
    (lab08, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB08, |pace| {
            $crate::live::labs::lab08(pace, $lab::export_for_research)
        })
    };
    (lab09, $lab:ident, $subject:expr) => {
        $crate::live::serve($subject, &$crate::live::labs::LAB09, |pace| {
            $crate::live::labs::lab09(pace, $lab::serve)
        })
    };
    ($other:ident, $lab:ident, $subject:expr) => {
        $crate::live::nothing_to_watch($subject, $crate::live::labs::why_not($subject.lab))
    };
}

/// Why a lab has no live driver.
pub fn why_not(lab: u32) -> &'static str {
    match lab {
        2 => {
            "the sync's writes do end, a moment after the function returned, so nothing piles up \
             to watch; the bug is that nobody waits for them (`cargo lab 2` shows the records \
             that are not written yet when the sync says it is done)"
        }
        3 => {
            "its bug is a race between threads, not tasks, found by the loom model (`cargo lab 3` \
             shows the interleaving); tokio-console watches tasks"
        }
        11 => {
            "its bug is a race between threads, not tasks, found by the loom model (`cargo lab 11` \
             shows the interleaving); tokio-console watches tasks"
        }
        4 => {
            "the aborted worker runs on to its last note and then ends, so nothing piles up to \
             watch; `cargo lab 4` measures the notes redacted after Stop"
        }
        10 => {
            "no task outlives its request; the bug is in the log lines, which lose their trace \
             id (`cargo lab 10` shows them)"
        }
        12 => {
            "the lock held across .await blocks the runtime's threads, so the console would only \
             show tasks that are never polled again; `cargo lab 12` names the line that blocks"
        }
        13 => {
            "the loop that never exits holds a runtime thread at full CPU for good, which would \
             freeze a live run; `cargo lab 13` counts its turns"
        }
        _ => "it has no live driver",
    }
}

pub const LAB01: Show = Show {
    load: "lab results for patient 1 (the lab system answers in 10 ms) and patient 2 (it never \
           answers), in turn",
    look_for: "tasks spawned at labs/lab01_orphaned_task.rs (no name: the lab spawns them), \
               Idle, one poll, idle time growing: the lookups nobody waits for. The `lab01 \
               request` tasks end within the 50 ms deadline. Fixed: no lookup task at all.",
};

/// Lab 1: a request a period, every other one for a patient the lab system never
/// answers.
pub async fn lab01<F, Fut>(pace: Pace, fetch_lab_result: F)
where
    F: Fn(LabSystem, u32) -> Fut,
    Fut: Future<Output = Option<String>> + Send + 'static,
{
    let lab = LabSystem::answering([(1, Some(Duration::from_millis(10))), (2, None)]);
    pace.every("lab01 request", |n| {
        let answer = fetch_lab_result(lab.clone(), if n % 2 == 1 { 1 } else { 2 });
        async move {
            let _ = answer.await;
        }
    })
    .await;
}

pub const LAB05: Show = Show {
    load: "an export of three patients' results (an hour of pages each), stopped by the \
           clinician after 2 s",
    look_for: "tasks spawned at labs/lab05_orphaned_token.rs that stay alive after their \
               `lab05 request` has ended, their wakes still climbing: a page a second each, \
               for an export nobody wants. Fixed: they end when Stop is pressed.",
};

/// How long the clinician waits before pressing Stop on each export (lab 5).
const STOP_AFTER: Duration = Duration::from_secs(2);

/// Lab 5: an export a period, each cancelled after [`STOP_AFTER`].
pub async fn lab05<F, Fut>(pace: Pace, export_lab_results: F)
where
    F: Fn(CancellationToken, GpInbox, Vec<u32>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let each = PatientResults {
        pages: 3_600,
        page_time: Duration::from_secs(1),
    };
    let practice = GpPractice::new((1..=3).map(|patient| (patient, each)).collect());
    pace.every("lab05 request", |_| {
        let stop = CancellationToken::new();
        let export = export_lab_results(stop.clone(), practice.inbox(), vec![1, 2, 3]);
        async move {
            let clinician = async {
                tokio::time::sleep(STOP_AFTER).await;
                stop.cancel();
            };
            tokio::join!(export, clinician);
        }
    })
    .await;
}

pub const LAB06: Show = Show {
    load: "a booking that the scheduler confirms in 100 ms",
    look_for: "tasks spawned at labs/lab06_forgotten_cancel.rs, Idle for up to 30 s: one \
               watchdog per booking, long after the booking came back, so the count climbs to \
               about 30 and stays there (at a thousand bookings a second: thirty thousand). \
               Fixed: the count stays near 0.",
};

/// Lab 6: a booking a period, each confirmed quickly.
pub async fn lab06<F, Fut>(pace: Pace, book_appointment: F)
where
    F: Fn(Scheduler, u32) -> Fut,
    Fut: Future<Output = Option<Appointment>> + Send + 'static,
{
    let diary = Diary::new(HashMap::from([(1, Some(Duration::from_millis(100)))]));
    pace.every("lab06 request", |_| {
        let booking = book_appointment(diary.scheduler(), 1);
        async move {
            let _ = booking.await;
        }
    })
    .await;
}

pub const LAB07: Show = Show {
    load: "a page to the on-call doctor about patient 1 (answered in 500 ms) and patient 2 \
           (never answered), in turn; each ward waits 2 s",
    look_for: "tasks spawned at labs/lab07_stuck_receive.rs, Idle with one poll, for the pages \
               nobody answers: each stays after its ward stopped waiting. The `clinic: paging \
               network` task is the network itself. Fixed: none stay.",
};

/// How long a ward waits for the doctor (lab 7).
const WARD_PATIENCE: Duration = Duration::from_secs(2);

/// Lab 7: a page a period; the ward gives up after [`WARD_PATIENCE`].
pub async fn lab07<F>(pace: Pace, page_on_call: F)
where
    F: Fn(&Pager, u32) -> oneshot::Receiver<Ack> + Copy + Send + 'static,
{
    let network = PagingNetwork::answering([(1, Some(Duration::from_millis(500))), (2, None)]);
    let pager = network.pager();
    pace.service("clinic: paging network", async move { network.serve().await });
    pace.every("lab07 request", |n| {
        let pager = pager.clone();
        async move {
            let ward = page_on_call(&pager, if n % 2 == 1 { 1 } else { 2 });
            let _ = tokio::time::timeout(WARD_PATIENCE, ward).await;
        }
    })
    .await;
}

pub const LAB08: Show = Show {
    load: "an export of 5 records to the research registry (50 ms a step)",
    look_for: "`lab08 request` tasks that never end, each with the stages it spawned at \
               labs/lab08_unclosed_pipeline.rs (the anonymiser and the writer) Idle beside it: \
               the pipeline's channel never closes. Fixed: each export ends in under a second.",
};

/// Lab 8: an export a period.
pub async fn lab08<F, Fut>(pace: Pace, export_for_research: F)
where
    F: Fn(leaklab_clinic::Ehr, leaklab_clinic::Anonymiser, leaklab_clinic::ResearchRegistry) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let step = Duration::from_millis(50);
    pace.every("lab08 request", |_| {
        let study = ResearchStudy::new(5, step, step, step);
        export_for_research(study.ehr(), study.anonymiser(), study.registry())
    })
    .await;
}

pub const LAB09: Show = Show {
    load: "a request for patient 1's results (the laboratory answers in 300 ms) and patient 2's \
           (it hangs), in turn, to the results service",
    look_for: "tasks spawned at labs/lab09_no_timeout_downstream.rs, Idle for good: one per \
               request the laboratory hangs on. `lab09 serve` is the lab's own loop. Fixed: \
               each ends at the 2 s deadline.",
};

/// Lab 9: the lab's service loop, and a request a period sent to it.
pub async fn lab09<F, Fut>(pace: Pace, serve: F)
where
    F: FnOnce(mpsc::Receiver<ResultRequest>, LabResults) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let laboratory = Laboratory::new([(1, Some(Duration::from_millis(300))), (2, None)]);
    let (requests, received) = mpsc::channel(64);
    pace.service("lab09 serve", serve(received, laboratory.lab_results()));
    pace.every("lab09 request", |n| {
        let request = laboratory.request(if n % 2 == 1 { 1 } else { 2 });
        let requests = requests.clone();
        async move {
            let _ = requests.send(request).await;
        }
    })
    .await;
}

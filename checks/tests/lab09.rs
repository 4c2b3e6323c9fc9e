//! Lab 9's check on real copies: its findings name the line the tasks wait on, the line
//! a student must change (the lookup, or the wait for a permit), not the one that
//! spawned them; and a pass reports only figures that read as one.

use labkit::{Variant, Verdict};
use leaklab_checks::Subject;
use leaklab_checks::lab09::{LAB, check};

// The copies as the check binaries include them: the check calls only `serve`.
#[allow(dead_code)]
#[path = "../../fixtures/lab09/wrong/bound_without_timeout.rs"]
mod bound_without_timeout;
#[allow(dead_code)]
#[path = "../../tests/originals/lab09_no_timeout_downstream.rs"]
mod original;
#[allow(dead_code)]
#[path = "../../solutions/lab09_no_timeout_downstream.rs"]
mod solution;
#[allow(dead_code)]
#[path = "../../fixtures/lab09/wrong/timeout_after_the_permit.rs"]
mod timeout_after_the_permit;

fn subject(file: &'static str) -> Subject {
    Subject {
        lab: LAB,
        variant: Variant::Fixture,
        file,
    }
}

/// Where the tasks wait comes from task dumps, which tokio takes only on these targets.
#[cfg(all(
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod waits {
    use super::*;
    use labkit::Kind;

    /// `file:line` of the first line of `file` that holds `needle`.
    fn place_of(file: &str, needle: &str) -> String {
        let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let index = text.lines().position(|l| l.contains(needle));
        let index = index.unwrap_or_else(|| panic!("no `{needle}` in {file}"));
        format!("{file}:{}", index + 1)
    }

    /// The first site of the `kind` finding.
    fn first_site(verdict: &Verdict, kind: Kind) -> String {
        let finding = verdict.findings.iter().find(|f| f.kind == kind);
        let finding = finding.unwrap_or_else(|| panic!("no {kind} finding: {verdict:#?}"));
        finding.sites[0].to_string()
    }

    #[test]
    fn the_original_waits_in_its_lookup() {
        let file = "tests/originals/lab09_no_timeout_downstream.rs";
        let verdict = check(&subject(file), original::serve);
        let lookup = place_of(file, "lab.fetch(");
        assert_eq!(first_site(&verdict, Kind::Overload), lookup);
        assert_eq!(first_site(&verdict, Kind::MissedDeadline), lookup);
    }

    #[test]
    fn a_bound_without_a_timeout_waits_for_a_permit() {
        let file = "fixtures/lab09/wrong/bound_without_timeout.rs";
        let verdict = check(&subject(file), bound_without_timeout::serve);
        let permit = place_of(file, "permits.acquire()");
        assert_eq!(first_site(&verdict, Kind::MissedDeadline), permit);
        assert_eq!(first_site(&verdict, Kind::LeakedTask), permit);
    }

    #[test]
    fn a_timeout_after_the_permit_waits_for_the_permit() {
        let file = "fixtures/lab09/wrong/timeout_after_the_permit.rs";
        let verdict = check(&subject(file), timeout_after_the_permit::serve);
        let permit = place_of(file, "permits.acquire()");
        assert_eq!(first_site(&verdict, Kind::MissedDeadline), permit);
    }
}

/// `cargo lab 9` prints a pass's figures as its reassurance: each must say the property
/// held (every request answered in time, the bound kept, nothing left), none may read
/// as a problem (hundreds of tasks alive at a peak, which a fix that queues for
/// permits has).
#[test]
fn a_pass_reports_only_what_held() {
    let file = "solutions/lab09_no_timeout_downstream.rs";
    let verdict = check(&subject(file), solution::serve);
    assert!(verdict.findings.is_empty(), "{verdict:#?}");
    let m = &verdict.measured;
    assert!(m["requests"] > 0);
    assert_eq!(m["answered_in_time"], m["requests"], "{m:?}");
    assert!(m["peak_calls_in_flight"] <= m["max_calls"], "{m:?}");
    assert_eq!(m["tasks_left"], 0, "{m:?}");
    let told = [
        "requests",
        "answered_in_time",
        "peak_calls_in_flight",
        "max_calls",
        "tasks_left",
    ];
    for name in m.keys() {
        assert!(told.contains(&name.as_str()), "{name} on a pass: {m:?}");
    }
}

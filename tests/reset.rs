//! `cargo lab reset` never loses work: every reset of a changed copy saves it to a file
//! of its own (twice in the same second included), a copy that is the original is not
//! saved, and a missing copy is not claimed to be.

mod common;

use common::Scratch;

const LAB: &str = "labs/lab01_orphaned_task.rs";

fn backups(scratch: &Scratch) -> Vec<String> {
    let folder = scratch.root.join(".leaklab/backups");
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn resetting_twice_keeps_both_copies_and_saves_nothing_needless() {
    let scratch = Scratch::lock();
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    let original = scratch.original("tests/originals/lab01_orphaned_task.rs");

    // Unchanged copy: restored, nothing saved.
    let (code, out) = scratch.lab(&["reset", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to save"), "{out}");
    assert!(backups(&scratch).is_empty());

    // Two different edits, each reset within the same second: both are kept.
    for edit in ["// first attempt\n", "// second attempt\n"] {
        scratch.write(LAB, &format!("{original}{edit}"));
        let (code, out) = scratch.lab(&["reset", "1"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("your copy is saved as .leaklab/backups/"), "{out}");
        assert_eq!(std::fs::read_to_string(scratch.root.join(LAB)).unwrap(), original);
    }
    let saved: Vec<String> = backups(&scratch)
        .iter()
        .map(|name| std::fs::read_to_string(scratch.root.join(".leaklab/backups").join(name)).unwrap())
        .collect();
    assert_eq!(saved.len(), 2, "{:?}", backups(&scratch));
    assert!(saved.iter().any(|text| text.ends_with("// first attempt\n")));
    assert!(saved.iter().any(|text| text.ends_with("// second attempt\n")));

    // No copy at all: restored, and no backup is claimed.
    std::fs::remove_file(scratch.root.join(LAB)).unwrap();
    let (code, out) = scratch.lab(&["reset", "1"]);
    assert_eq!((code, out.contains("saved as")), (0, false), "{out}");
    assert_eq!(backups(&scratch).len(), 2);
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
}

#[test]
fn bad_input_exits_2_with_the_choices() {
    let scratch = Scratch::lock();
    for args in [
        &["reset", "99"][..],
        &["check", "x"],
        &["hint", "1", "9"],
        &["hint", "1", "0"],
    ] {
        let (code, out) = scratch.lab(args);
        assert_eq!(code, 2, "{args:?}: {out}");
    }
    let (_, out) = scratch.lab(&["check", "99"]);
    assert!(out.contains("there is no lab 99; choose one of 1, 2, 3"), "{out}");
}

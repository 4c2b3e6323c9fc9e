//! What the registry generates, and the checks that keep the tree in step with it.
//!
//! Nothing about a lab is typed twice. From [`leaklab_registry::LABS`] this writes the
//! one-line check binaries, the book's summary, each chapter's header and the README's
//! lab table, and for grading the manifest of what grading depends on and the Classroom
//! 50 tests that pin it (`crate::grade`); from runs of each lab's original and
//! solution, what the book shows of them ([`book_outputs`]: the picture and the output
//! of `cargo lab N`, in `book/src/generated/`); `cargo lab dev --check` fails when any of
//! them is stale, when a lab lacks
//! a file, when an original has no TODO banner or differs from `labs/`, and (through
//! the exhibits) when an original passes or a solution fails.

use crate::runner::{LabRuns, Run};
use labkit::{Check, Report, Variant};
use leaklab_registry::{BEYOND_THE_LABS, LABS, Lab, Part};
use std::path::{Path, PathBuf};

/// Marks a generated file or region.
const GENERATED: &str = "Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.";

/// A file the registry generates, whole or between two marker lines.
pub struct Generated {
    pub path: PathBuf,
    pub content: String,
}

/// The folder of check binaries for `check`, relative to the workspace.
fn bin_folder(check: Check) -> &'static str {
    match check {
        Check::Scenario => "bins/src/bin",
        Check::Loom => "models/src/bin",
    }
}

/// The crate whose `serve` and `labNN!` macro a check binary for `check` calls.
fn bin_crate(check: Check) -> &'static str {
    match check {
        Check::Scenario => "leaklab_checks",
        Check::Loom => "leaklab_models",
    }
}

/// Every generated file, as it should be now. `root` is read for the regions kept in
/// place (the README and chapters around their markers).
pub fn generate(root: &Path) -> Result<Vec<Generated>, String> {
    let mut files = Vec::new();
    for lab in LABS {
        for &check in lab.checks {
            for variant in Variant::COPIES {
                let content = format!(
                    "// {GENERATED}\nlabkit::check_bin!({}, {}, {variant:?}, \"../../../{}\");\n",
                    bin_crate(check),
                    lab.module(),
                    lab.path(variant)
                );
                let path = root
                    .join(bin_folder(check))
                    .join(format!("{}.rs", lab.bin(check, variant)));
                let content = rustfmt(root, &content);
                files.push(Generated { path, content });
            }
        }
    }
    files.push(Generated {
        path: root.join("book/src/SUMMARY.md"),
        content: summary(),
    });
    let readme = root.join("README.md");
    files.push(Generated {
        content: splice(&readme, "labs", &readme_table())?,
        path: readme,
    });
    for lab in LABS {
        let chapter = root.join(lab.chapter());
        if chapter.exists() {
            files.push(Generated {
                content: splice(&chapter, "header", &chapter_header(lab))?,
                path: chapter,
            });
        }
    }
    files.extend(grading(root, &files));
    Ok(files)
}

/// The grading manifest, hashing the files as they will be once `generated` is
/// written, and the Classroom 50 tests, which pin that manifest.
fn grading(root: &Path, generated: &[Generated]) -> [Generated; 2] {
    use crate::grade::{classroom, manifest};
    let overrides = generated
        .iter()
        .map(|g| (g.path.clone(), g.content.clone()))
        .collect();
    let removed = stale_bins(root, generated);
    let text = manifest::Manifest::of(root, &overrides, &removed).render();
    let pin = manifest::pin_of(&text);
    [
        Generated {
            path: root.join(manifest::FILE),
            content: text,
        },
        Generated {
            path: root.join(classroom::FILE),
            content: classroom::generate(&pin),
        },
    ]
}

/// `source` as `cargo fmt` would leave it, so CI's format check and the dev check
/// agree; as it is when rustfmt cannot be run.
fn rustfmt(root: &Path, source: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return source.to_owned();
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(source.as_bytes());
    }
    match child.wait_with_output() {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => {
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
        _ => source.to_owned(),
    }
}

/// Check binaries in the bin folders that no lab generates any more.
pub fn stale_bins(root: &Path, generated: &[Generated]) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    for check in [Check::Scenario, Check::Loom] {
        let Ok(entries) = std::fs::read_dir(root.join(bin_folder(check))) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_lab_bin = name.starts_with("lab") && name.ends_with(".rs");
            if is_lab_bin && !generated.iter().any(|g| g.path == path) {
                stale.push(path);
            }
        }
    }
    stale
}

fn summary() -> String {
    let mut out = format!("# Summary\n\n<!-- {GENERATED} -->\n\n[Introduction](introduction.md)\n");
    let mut numeral = 0;
    for part in Part::ALL {
        let labs: Vec<&Lab> = LABS.iter().filter(|lab| lab.part == part).collect();
        if labs.is_empty() {
            continue;
        }
        numeral += 1;
        out.push_str(&format!("\n# Part {}: {}\n\n", roman(numeral), part.title()));
        for lab in labs {
            out.push_str(&format!(
                "- [Lab {}: {}]({}.md)\n",
                lab.number,
                lab.title.to_lowercase(),
                lab.module()
            ));
        }
    }
    out.push_str("\n# Beyond the labs\n\n");
    for (title, file) in BEYOND_THE_LABS {
        out.push_str(&format!("- [{title}]({file})\n"));
    }
    out
}

fn roman(n: usize) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"][n - 1]
}

fn readme_table() -> String {
    let mut out = String::from("| # | lab | the bug | part |\n|---|-----|---------|------|\n");
    for lab in LABS {
        out.push_str(&format!(
            "| {} | [{}](book/src/{}.md) | {} | {} |\n",
            lab.number,
            lab.title.to_lowercase(),
            lab.module(),
            lab.summary,
            lab.part.title().to_lowercase()
        ));
    }
    out
}

fn chapter_header(lab: &Lab) -> String {
    format!(
        "# Lab {}: {}\n\n> **The bug:** {}.<br>\n> **In Go:** {}.<br>\n> **Your copy:** `{}` · run it with `cargo lab {n}` · check it with \
         `cargo lab check {n}` · hints: `cargo lab hint {n}`\n",
        lab.number,
        lab.title.to_lowercase(),
        lab.summary,
        lab.go,
        lab.path(Variant::Yours),
        n = lab.number,
    )
}

/// `file` with the text between its `<!-- NAME:start -->` and `<!-- NAME:end -->`
/// lines replaced by `body`.
fn splice(file: &Path, name: &str, body: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (start, end) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    let missing = || {
        format!(
            "{} has no `{start}` ... `{end}` lines to write between",
            file.display()
        )
    };
    let open = text.find(&start).ok_or_else(missing)?;
    let close = text[open..].find(&end).ok_or_else(missing)? + open;
    let head = &text[..open + start.len()];
    let tail = &text[close..];
    Ok(format!("{head}\n<!-- {GENERATED} -->\n{body}{tail}"))
}

/// Problems with the labs' files that no generator can fix: a missing copy or chapter,
/// an original with no TODO banner, a `labs/` copy that is not the original, a lab with
/// no wrong or right fixture.
pub fn file_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let fixtures = leaklab_registry::fixtures(root).unwrap_or_else(|e| {
        problems.push(e);
        Vec::new()
    });
    for lab in LABS {
        let mut needed: Vec<String> = Variant::COPIES.iter().map(|&v| lab.path(v)).collect();
        needed.push(lab.chapter());
        for path in &needed {
            if !root.join(path).is_file() {
                problems.push(format!("lab {}: {path} is missing", lab.number));
            }
        }
        let original = std::fs::read_to_string(root.join(lab.path(Variant::Original))).unwrap_or_default();
        if !original.lines().any(|line| line.starts_with("//! TODO:")) {
            problems.push(format!(
                "lab {}: {} has no `//! TODO:` banner saying what to fix",
                lab.number,
                lab.path(Variant::Original)
            ));
        }
        let yours = std::fs::read_to_string(root.join(lab.path(Variant::Yours))).unwrap_or_default();
        if !original.is_empty() && yours != original {
            problems.push(format!(
                "lab {}: {} differs from {} (the shipped copy must be the original; if \
                 that is your work on the lab, `cargo lab check {}` checks it, and these tests \
                 are the tool's own: run them in a fresh clone)",
                lab.number,
                lab.path(Variant::Yours),
                lab.path(Variant::Original),
                lab.number
            ));
        }
        for right in [false, true] {
            if !fixtures.iter().any(|f| f.lab == lab.number && f.right == right) {
                let side = if right { "right" } else { "wrong" };
                problems.push(format!(
                    "lab {}: no fixture in {}/{side}/",
                    lab.number,
                    lab.fixtures()
                ));
            }
        }
    }
    problems
}

/// Where the book's generated exhibits live: each lab's picture and its run.
pub const BOOK_GENERATED: &str = "book/src/generated";

/// The book's copy of the terminal is this wide: what a page's column holds (mdBook's
/// 750 px) in its code font.
const BOOK_WIDTH: usize = 86;

/// What the book shows of `lab` from `runs` of its original and its solution: the
/// picture (`labNN.svg`) and the output of `cargo lab N` (`labNN-run.txt`), as a
/// student sees them before fixing anything (see [`as_the_book_shows`]).
pub fn book_outputs(root: &Path, lab: &'static Lab, mut runs: LabRuns) -> [Generated; 2] {
    for run in &mut runs.runs {
        as_the_book_shows(lab, run);
    }
    let folder = root.join(BOOK_GENERATED);
    let name = lab.module();
    let text = crate::render::side_by_side_at(lab, &runs, BOOK_WIDTH);
    [
        Generated {
            path: folder.join(format!("{name}.svg")),
            content: crate::timeline::draw(lab, &runs.runs, root),
        },
        Generated {
            path: folder.join(format!("{name}-run.txt")),
            content: format!("$ cargo lab {}\n{text}", lab.number),
        },
    ]
}

/// A run as the book shows it, the same on every machine and every time:
/// - the original (run from `tests/originals/`, which is kept identical to `labs/`) is
///   shown as the copy in `labs/`, as a student first meets it;
/// - a lab with a loom model shows the model's report only: its run on real threads
///   counts differently each time;
/// - a stack keeps the frames in the workspace and its crates, not those in the
///   toolchain's own sources (`library/std/...`), which move with every Rust release.
fn as_the_book_shows(lab: &Lab, run: &mut Run) {
    if lab.checks.contains(&Check::Loom) {
        run.reports.retain(|report| report.check == Check::Loom);
        run.passed = run.reports.iter().all(Report::passed);
    }
    if run.variant == Variant::Original {
        run.variant = Variant::Yours;
        run.file = lab.path(Variant::Yours);
        let (from, to) = (Variant::Original.folder(), Variant::Yours.folder());
        let binary = |variant: Variant| format!("{}_{variant}::", lab.module());
        for report in &mut run.reports {
            let json = serde_json::to_string(report).expect("a report serialises");
            let json = json
                .replace(&format!("{from}/"), &format!("{to}/"))
                .replace(&binary(Variant::Original), &binary(Variant::Yours));
            *report = serde_json::from_str(&json).expect("the same report, renamed");
        }
    }
    let toolchain = |line: &&str| {
        [" at library/", " at sysdeps/", " at /rustc/"]
            .iter()
            .any(|p| line.contains(p))
    };
    for finding in run.reports.iter_mut().flat_map(|r| &mut r.findings) {
        for stack in finding.sites.iter_mut().filter_map(|site| site.stack.as_mut()) {
            let kept: Vec<&str> = stack.lines().filter(|line| !toolchain(line)).collect();
            *stack = kept.join("\n");
        }
    }
}

/// A lab's picture or run in the book's generated folder (`lab07.svg`,
/// `lab07-run.txt`) that no lab writes any more. Other files there (the benchmark
/// tables) belong to other generators.
pub fn stale_book_outputs(root: &Path, generated: &[Generated]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join(BOOK_GENERATED)) else {
        return Vec::new();
    };
    let lab_output = |name: &str| {
        let stem = name
            .strip_suffix(".svg")
            .or_else(|| name.strip_suffix("-run.txt"));
        stem.and_then(|stem| stem.strip_prefix("lab"))
            .is_some_and(|number| !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
    };
    entries
        .flatten()
        .filter(|entry| lab_output(&entry.file_name().to_string_lossy()))
        .map(|entry| entry.path())
        .filter(|path| !generated.iter().any(|g| &g.path == path))
        .collect()
}

//! Fixtures: known fixes of a lab, right and wrong, as data.
//!
//! `fixtures/labNN/wrong/*.rs` and `fixtures/labNN/right/*.rs` each stand in for the
//! student's copy of lab NN. The file's first lines say what the lab's checks must make
//! of it:
//!
//! ```text
//! //! expect: leaked_task, missed_deadline
//! //! expect: pass
//! ```
//!
//! Every kind listed must be among the findings (others may come too); `pass` means no
//! finding at all. Adding a wrong fix is adding one file: the check binaries' build
//! scripts compile every fixture into one binary per kind of check, and one test runs
//! them all.

use labkit::Kind;
use std::path::Path;

/// What a fixture must produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Pass,
    /// Each of these kinds must be found.
    Findings(Vec<Kind>),
}

/// One fixture file.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub lab: u32,
    /// `lab01/wrong/drop_handle`: what the fixture binary is asked to run.
    pub name: String,
    /// Relative to the workspace: `fixtures/lab01/wrong/drop_handle.rs`.
    pub path: String,
    pub expect: Expect,
    /// The file is in `right/`: it must pass, and its header must say so.
    pub right: bool,
}

impl Fixture {
    /// An identifier for the fixture's module in a generated binary.
    pub fn ident(&self) -> String {
        self.name.replace(['/', '-', '.'], "_")
    }
}

/// Every fixture under `root/fixtures`, sorted by name. A file whose header is missing
/// or wrong is an error, naming the file.
pub fn fixtures(root: &Path) -> Result<Vec<Fixture>, String> {
    let mut found = Vec::new();
    let Ok(labs) = std::fs::read_dir(root.join("fixtures")) else {
        return Ok(found);
    };
    for lab_dir in labs.flatten() {
        let lab_name = lab_dir.file_name().to_string_lossy().into_owned();
        let Some(lab) = lab_name.strip_prefix("lab").and_then(|n| n.parse().ok()) else {
            continue;
        };
        for side in ["wrong", "right"] {
            let Ok(files) = std::fs::read_dir(lab_dir.path().join(side)) else {
                continue;
            };
            for file in files.flatten() {
                let file_name = file.file_name().to_string_lossy().into_owned();
                let Some(stem) = file_name.strip_suffix(".rs") else {
                    continue;
                };
                let path = format!("fixtures/{lab_name}/{side}/{file_name}");
                let text = std::fs::read_to_string(file.path()).map_err(|e| format!("{path}: {e}"))?;
                let expect = parse_expect(&text).map_err(|e| format!("{path}: {e}"))?;
                let right = side == "right";
                if right != (expect == Expect::Pass) {
                    return Err(format!(
                        "{path}: a fixture in {side}/ must say `//! expect: {}`",
                        if right { "pass" } else { "<finding kinds>" }
                    ));
                }
                found.push(Fixture {
                    lab,
                    name: format!("{lab_name}/{side}/{stem}"),
                    path,
                    expect,
                    right,
                });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The source of a binary that runs any fixture of the labs `check` applies to: the
/// build scripts of `leaklab-checks` and `leaklab-models` write it, with `krate` the
/// crate whose `serve`, `Subject` and `labNN!` macros it calls. The binary takes the
/// fixture's name as its argument.
pub fn fixture_bin(root: &Path, check: crate::Check, krate: &str) -> Result<String, String> {
    let mut modules = String::new();
    let mut arms = String::new();
    for fixture in fixtures(root)? {
        let Some(lab) = crate::lab(fixture.lab) else {
            return Err(format!("{}: there is no lab {}", fixture.path, fixture.lab));
        };
        if !lab.checks.contains(&check) {
            continue;
        }
        let ident = fixture.ident();
        let absolute = root.join(&fixture.path);
        modules.push_str(&format!(
            "#[allow(dead_code)]\n#[path = {:?}]\nmod {ident};\n",
            absolute.display().to_string()
        ));
        arms.push_str(&format!(
            "        {name:?} => {krate}::serve(\n            {krate}::Subject {{ lab: {number}, variant: {krate}::Variant::Fixture, file: {path:?} }},\n            |subject| {krate}::{module}!({ident}, subject),\n        ),\n",
            name = fixture.name,
            number = lab.number,
            path = fixture.path,
            module = lab.module(),
        ));
    }
    Ok(format!(
        "// Written by the build script from fixtures/: do not edit.\n{modules}\n\
         fn main() {{\n    let name = std::env::args().nth(1).unwrap_or_default();\n    match name.as_str() {{\n{arms}\
         \x20       _ => {{\n            eprintln!(\"no fixture named {{name:?}}\");\n            std::process::exit(2)\n        }}\n    }}\n}}\n"
    ))
}

/// The whole of a build script that writes the fixture binary for `check` (see
/// [`fixture_bin`]) into `OUT_DIR/fixtures.rs`.
pub fn build_fixture_bin(check: crate::Check, krate: &str) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"));
    let root = Path::new(&var("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().expect("the workspace exists");
    println!("cargo:rerun-if-changed={}", root.join("fixtures").display());
    // Two clones that share a target dir share these binaries' artifacts too (cargo
    // names them by their place in the workspace, not by the workspace's path), and
    // cargo decides freshness by file times. The runner names the copy it builds for,
    // so a binary built for one clone is never taken as fresh for another.
    println!("cargo:rerun-if-env-changed=LEAKLAB_ROOT");
    println!("cargo:rustc-env=LEAKLAB_BUILT_FOR={}", root.display());
    let source = fixture_bin(&root, check, krate).unwrap_or_else(|e| panic!("{e}"));
    let out = Path::new(&var("OUT_DIR")).join("fixtures.rs");
    std::fs::write(out, source).expect("write the fixtures binary");
}

/// Reads the `//! expect:` line.
pub fn parse_expect(text: &str) -> Result<Expect, String> {
    let line = text
        .lines()
        .take_while(|line| line.starts_with("//!") || line.trim().is_empty())
        .find_map(|line| line.trim_start_matches("//!").trim().strip_prefix("expect:"))
        .ok_or("no `//! expect: ...` line at the top")?;
    let words: Vec<&str> = line.split(',').map(str::trim).filter(|w| !w.is_empty()).collect();
    if words == ["pass"] {
        return Ok(Expect::Pass);
    }
    let kinds = words
        .iter()
        .map(|word| kind(word).ok_or_else(|| format!("`{word}` is not a finding kind")))
        .collect::<Result<Vec<_>, _>>()?;
    if kinds.is_empty() {
        return Err("`expect:` names nothing".into());
    }
    Ok(Expect::Findings(kinds))
}

fn kind(word: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|kind| kind.name() == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_as_expectations() {
        assert_eq!(parse_expect("//! expect: pass\n"), Ok(Expect::Pass));
        assert_eq!(
            parse_expect("//! A wrong fix.\n//! expect: leaked_task, missed_deadline\nuse x;"),
            Ok(Expect::Findings(vec![Kind::LeakedTask, Kind::MissedDeadline]))
        );
        assert!(parse_expect("//! expect: leaked\n").is_err());
        assert!(parse_expect("use x;\n//! expect: pass\n").is_err());
        assert!(parse_expect("//! expect:\n").is_err());
    }
}

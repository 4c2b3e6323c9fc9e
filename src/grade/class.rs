//! `cargo lab grade-class`: a folder of student clones graded into one summary.
//!
//! Each student goes through the same path as `cargo lab grade --student`: only their
//! `labs/lab*.rs` are read, into a clean scratch workspace made from the instructor's
//! copy. What makes a class fast is that most lab files are not new: untouched
//! originals, a solution passed around, a clone submitted twice. A verdict is a
//! function of the lab, the file's content, the checks (the trusted tree's manifest),
//! the hidden cases and the limits, so it is cached under exactly those
//! ([`Cache`]), and each distinct file is graded once, by the first student who has it.
//! The rest is scheduling: a few scratch workspaces at a time, all building into the
//! instructor's one target dir (builds take turns on its lock; runs overlap).

use super::results::{LabResult, Results, Status};
use super::scratch::{self, Put, Scratch};
use super::{Options, manifest};
use leaklab_registry::{Lab, Variant};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One student's clone.
pub struct Student {
    /// The folder's name: the row's name in the summary.
    pub name: String,
    pub dir: PathBuf,
}

/// The student clones in `dir`: each sub-folder with a `labs/` folder, by name.
pub fn students(dir: &Path) -> Result<Vec<Student>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut students: Vec<Student> = entries
        .flatten()
        .filter(|entry| entry.path().join(Variant::Yours.folder()).is_dir())
        .map(|entry| Student {
            name: entry.file_name().to_string_lossy().into_owned(),
            dir: entry.path(),
        })
        .collect();
    students.sort_by(|a, b| a.name.cmp(&b.name));
    if students.is_empty() {
        return Err(format!(
            "{} has no student clones (folders with a labs/ folder in them)",
            dir.display()
        ));
    }
    Ok(students)
}

/// Cached verdicts, valid for one context: the checks, hidden cases and limits.
#[derive(Default, Serialize, Deserialize)]
pub struct Cache {
    context: String,
    /// By `<lab>:<sha256 of the file>`.
    verdicts: BTreeMap<String, LabResult>,
}

impl Cache {
    fn key(lab: u32, sha: &str) -> String {
        format!("{lab}:{sha}")
    }

    /// The cache at `path`, if it was made in `context`; an empty one otherwise.
    fn load(path: &Path, context: &str) -> Cache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cache>(&bytes).ok())
            .filter(|cache| cache.context == context)
            .unwrap_or_else(|| Cache {
                context: context.to_owned(),
                verdicts: BTreeMap::new(),
            })
    }

    fn save(&self, path: &Path) {
        if let Ok(json) = serde_json::to_vec(self) {
            let partial = path.with_extension("partial");
            if std::fs::write(&partial, json).is_ok() {
                let _ = std::fs::rename(partial, path);
            }
        }
    }
}

/// Whether a verdict says something about the file (and so holds for every copy of
/// it), rather than about one grading (a tool failure, a missing file).
fn cacheable(result: &LabResult) -> bool {
    result.status != Status::Error || !result.kinds.is_empty()
}

/// The class's results: one per student, in order.
pub struct Class {
    pub students: Vec<(String, Results)>,
    /// Distinct lab files graded (the rest came from the cache).
    pub graded: usize,
    pub time: Duration,
    pub tool_failed: bool,
}

/// Told as the distinct lab files are graded: how many of how many so far, and whose
/// files were graded last.
pub type Progress = Box<dyn Fn(usize, usize, &str) + Sync>;

/// What one worker found for one student's share of the files: their labs' results, or
/// why the tool could not grade them.
struct Found {
    student: usize,
    labs: Vec<LabResult>,
    tool_failure: Option<String>,
}

/// How to run the class.
pub struct ClassOptions {
    /// Students graded at once, each in its own scratch workspace.
    pub jobs: usize,
    /// Ignore cached verdicts.
    pub fresh: bool,
    pub progress: Progress,
}

/// Grades every student in `students` against the trusted copy at `trusted`, whose
/// builds go to `target`.
pub fn grade(
    trusted: &Path,
    target: &Path,
    students: &[Student],
    options: &Options,
    class: &ClassOptions,
) -> Class {
    let started = Instant::now();
    let files: Vec<BTreeMap<u32, Put>> = students
        .iter()
        .map(|s| {
            options
                .labs
                .iter()
                .map(|lab| (lab.number, scratch::read_lab(&s.dir, lab)))
                .collect()
        })
        .collect();
    let checks = manifest::pin_of(&manifest::Manifest::of(trusted, &BTreeMap::new(), &[]).render());
    let context = format!(
        "v{} checks {checks} hidden {} limits {:?}",
        super::results::VERSION,
        options.hidden.as_ref().map_or("none", |h| h.sha256.as_str()),
        options.limits
    );
    let cache_path = target.join("leaklab-grade").join("verdicts.json");
    let mut cache = if class.fresh {
        Cache::load(Path::new(""), &context)
    } else {
        Cache::load(&cache_path, &context)
    };

    // Each distinct (lab, file) not yet cached is graded once, by the first student
    // who has it.
    let mut units: BTreeMap<usize, Vec<&'static Lab>> = BTreeMap::new();
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    for (i, put) in files.iter().enumerate() {
        for lab in &options.labs {
            if let Some(Ok(sha)) = put.get(&lab.number) {
                let key = Cache::key(lab.number, sha);
                if !cache.verdicts.contains_key(&key) && claimed.insert(key) {
                    units.entry(i).or_default().push(lab);
                }
            }
        }
    }
    let units: Vec<(usize, Vec<&'static Lab>)> = units.into_iter().collect();
    let graded = units.iter().map(|(_, labs)| labs.len()).sum();
    (class.progress)(0, graded, "");

    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let found: Mutex<Vec<Found>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..class.jobs.clamp(1, units.len().max(1)) {
            scope.spawn(|| {
                let scratch = Scratch::take(target);
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((student, labs)) = units.get(index) else {
                        break;
                    };
                    let who = &students[*student];
                    let (results, tool_failure) = match &scratch {
                        Ok(scratch) => {
                            let options = Options {
                                labs: labs.clone(),
                                ..options.clone()
                            };
                            let outcome = super::student(trusted, target, &who.dir, scratch, &options);
                            (
                                outcome.results.labs,
                                outcome.results.message.filter(|_| outcome.tool_failed),
                            )
                        }
                        Err(problem) => (Vec::new(), Some(problem.clone())),
                    };
                    let entry = Found {
                        student: *student,
                        labs: results,
                        tool_failure,
                    };
                    found.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
                    let n = done.fetch_add(labs.len(), Ordering::Relaxed) + labs.len();
                    (class.progress)(n, graded, &who.name);
                }
            });
        }
    });

    let mut tool_failures: BTreeMap<usize, String> = BTreeMap::new();
    for found in found.into_inner().unwrap_or_else(|e| e.into_inner()) {
        if let Some(failure) = found.tool_failure {
            tool_failures.insert(found.student, failure);
            continue;
        }
        for result in found.labs.into_iter().filter(cacheable) {
            if let Some(sha) = &result.sha256 {
                cache.verdicts.insert(Cache::key(result.number, sha), result);
            }
        }
    }
    cache.save(&cache_path);

    let tool_failed = !tool_failures.is_empty();
    let mut rows = Vec::new();
    for (i, (who, put)) in students.iter().zip(&files).enumerate() {
        let labs: Vec<LabResult> = options
            .labs
            .iter()
            .map(|lab| match &put[&lab.number] {
                Err(problem) => LabResult::error(lab, problem),
                Ok(sha) => match cache.verdicts.get(&Cache::key(lab.number, sha)) {
                    Some(result) => result.clone(),
                    None => {
                        let why = tool_failures.values().next().map_or("not graded", String::as_str);
                        LabResult::error(lab, why)
                    }
                },
            })
            .collect();
        let message = tool_failures.get(&i).cloned();
        let mut results = Results::new(who.name.clone(), labs, message, Duration::ZERO);
        results.manifest_sha256 = Some(checks.clone());
        results.hidden_sha256 = options.hidden.as_ref().map(|h| h.sha256.clone());
        rows.push((who.name.clone(), results));
    }
    Class {
        students: rows,
        graded,
        time: started.elapsed(),
        tool_failed,
    }
}

/// The class summary as CSV: a row per student, a column per lab (its status).
pub fn csv(class: &Class, labs: &[&Lab]) -> String {
    let mut out = String::from("student,score,max_score,status");
    for lab in labs {
        out.push_str(&format!(",{}", lab.module()));
    }
    out.push('\n');
    for (name, results) in &class.students {
        out.push_str(&format!(
            "{},{},{},{}",
            csv_field(name),
            results.score,
            results.max_score,
            results.status.as_str()
        ));
        for lab in &results.labs {
            out.push_str(&format!(",{}", lab.status.as_str()));
        }
        out.push('\n');
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The class summary as JSON: the labs, and per student the totals and, per lab, the
/// status, why, the finding kinds and the file's SHA-256 (equal files are equal
/// hashes), and whether it is the untouched original.
pub fn json(class: &Class, trusted: &Path, labs: &[&Lab]) -> serde_json::Value {
    let original: BTreeMap<u32, Option<String>> = labs
        .iter()
        .map(|lab| {
            let sha = std::fs::read(trusted.join(lab.path(Variant::Original)))
                .ok()
                .map(|bytes| manifest::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
            (lab.number, sha)
        })
        .collect();
    let students: Vec<serde_json::Value> = class
        .students
        .iter()
        .map(|(name, results)| {
            let per_lab: serde_json::Map<String, serde_json::Value> = results
                .labs
                .iter()
                .map(|lab| {
                    let untouched = lab.sha256.is_some() && lab.sha256 == original[&lab.number];
                    let entry = serde_json::json!({
                        "status": lab.status,
                        "message": lab.message,
                        "kinds": lab.kinds,
                        "sha256": lab.sha256,
                        "untouched": untouched,
                    });
                    (lab.number.to_string(), entry)
                })
                .collect();
            serde_json::json!({
                "student": name,
                "status": results.status,
                "message": results.message,
                "score": results.score,
                "max_score": results.max_score,
                "labs": per_lab,
            })
        })
        .collect();
    serde_json::json!({
        "version": super::results::VERSION,
        "labs": labs.iter().map(|lab| serde_json::json!({
            "number": lab.number,
            "name": super::results::lab_name(lab),
            "file": lab.path(Variant::Yours),
        })).collect::<Vec<_>>(),
        "students": students,
        "distinct_files_graded": class.graded,
        "time_ms": class.time.as_millis() as u64,
    })
}

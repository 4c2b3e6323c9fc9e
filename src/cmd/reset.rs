//! `cargo lab reset N`: put the original lab back, and never lose the student's work.
//!
//! Your copy is saved first, under `.leaklab/backups/` (outside `target/`, which
//! `cargo clean` deletes), in a file of its own that no later reset overwrites. Nothing
//! is saved when your copy is already the original or when there is no copy.

use super::{Ctx, parse_lab, print_json};
use crate::workspace::relative;
use clap::Args;
use labkit::Variant;
use leaklab_registry::Lab;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct Reset {
    #[arg(value_parser = parse_lab)]
    lab: &'static Lab,
}

/// Where backups go, relative to the workspace.
pub const BACKUPS: &str = ".leaklab/backups";

impl Reset {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let lab = self.lab;
        let original = ctx.root.join(lab.path(Variant::Original));
        let yours = ctx.root.join(lab.path(Variant::Yours));
        let pristine = match std::fs::read(&original) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!(
                    "error: cannot read the original {}: {e}; nothing was changed",
                    original.display()
                );
                return ExitCode::from(3);
            }
        };
        let backup = match std::fs::read(&yours) {
            Ok(bytes) if bytes == pristine => None,
            Ok(bytes) => match save(&ctx.root, lab.file, &bytes) {
                Ok(path) => Some(path),
                Err(e) => {
                    eprintln!(
                        "error: could not back up {}: {e}; nothing was changed",
                        yours.display()
                    );
                    return ExitCode::from(3);
                }
            },
            Err(_) => None,
        };
        if let Err(e) = std::fs::write(&yours, &pristine) {
            eprintln!("error: could not restore {}: {e}", yours.display());
            return ExitCode::from(3);
        }
        let backup = backup.map(|path| relative(&ctx.root, &path));
        if ctx.json {
            print_json(
                &serde_json::json!({ "lab": lab.number, "file": lab.path(Variant::Yours), "backup": backup }),
            );
        } else {
            match backup {
                Some(path) => println!(
                    "{} is back to the original; your copy is saved as {path}",
                    lab.path(Variant::Yours)
                ),
                None => println!(
                    "{} is the original (it was already, or there was no copy): nothing to save",
                    lab.path(Variant::Yours)
                ),
            }
        }
        ExitCode::SUCCESS
    }
}

/// Writes `bytes` to a new file under the backups folder, named for the lab file and
/// the time, with a counter if that name is taken: a backup is never overwritten.
fn save(root: &Path, file: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let folder = root.join(BACKUPS);
    std::fs::create_dir_all(&folder)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for n in 0.. {
        // `lab01_orphaned_task.1795694382.rs`: still a Rust file to an editor.
        let stem = file.strip_suffix(".rs").unwrap_or(file);
        let name = match n {
            0 => format!("{stem}.{stamp}.rs"),
            n => format!("{stem}.{stamp}-{n}.rs"),
        };
        let path = folder.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut out) => {
                out.write_all(bytes)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("some name is free")
}

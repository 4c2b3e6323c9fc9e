//! Which copy of leaklab the runner works on, and where its builds go.
//!
//! The runner works on the copy it is run in (the current directory or one above it),
//! never on the copy it was built from: two clones that share one `CARGO_TARGET_DIR`
//! (a grader of many copies does this) share one runner binary, and each must still
//! check its own labs.

use std::path::{Path, PathBuf};

/// The copy to work on: `LEAKLAB_ROOT` if set, else the nearest folder at or above the
/// current directory with a `Cargo.toml` and a `labs/` folder.
pub fn root() -> Result<PathBuf, String> {
    if let Some(root) = std::env::var_os("LEAKLAB_ROOT") {
        return std::path::absolute(&root).map_err(|e| format!("LEAKLAB_ROOT: {e}"));
    }
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    here.ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("labs").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "{} is not inside a copy of leaklab (no folder with Cargo.toml and labs/ here or above); \
                 run `cargo lab` from your clone",
                here.display()
            )
        })
}

/// Where cargo puts this copy's builds: `CARGO_TARGET_DIR` if set, else `target/`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        // Relative to where cargo was run, as cargo reads it.
        Some(dir) => std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir)),
        None => root.join("target"),
    }
}

/// `path` relative to `root` when it is inside it, for messages.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

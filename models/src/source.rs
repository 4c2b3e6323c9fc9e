//! Where a lab's code lives, for the sites a finding points at.

use labkit::Site;

/// The first line of `path` (relative to the workspace) that contains `needle`, read
/// when the check runs, or line 1 if the file cannot be read.
pub fn site_of(path: &str, needle: &str, count: u32) -> Site {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let text = std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_default();
    let line = text
        .lines()
        .position(|line| line.contains(needle))
        .map_or(1, |i| i + 1);
    Site {
        file: path.to_owned(),
        line: line as u32,
        count,
        stack: None,
    }
}

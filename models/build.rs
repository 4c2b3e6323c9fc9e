//! Writes the `fixtures` binary's source: every fixture of a lab with a loom model, as a
//! module, and a `main` that serves the one named on the command line. Adding a
//! fixture is adding a file; no Cargo.toml or list to edit.

fn main() {
    leaklab_registry::build_fixture_bin(leaklab_registry::Check::Loom, "leaklab_models");
}

//! The repository's Rust revisions, compiled in for the tests that run them directly.

fn main() {
    braid_build::rust_revisions(["../migrations"]);
}

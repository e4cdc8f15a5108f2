//! The repository's migrations compiled into the tests: its Rust revisions (and those of a
//! second migration set, `tests/fixtures/sets/billing`) for the tests that run them directly,
//! and the whole directory embedded, as an application embeds it.

fn main() {
    braid_build::rust_revisions(["../migrations", "fixtures/sets/billing"]);
    braid_build::embed("../migrations");
}

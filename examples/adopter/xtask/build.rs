//! Compiles the Rust revisions of the migrations directory into `cargo xtask migrate`.

fn main() {
    braid_build::rust_revisions(["../migrations"]);
}

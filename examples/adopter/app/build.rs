//! Embeds the migrations directory — SQL, Rust revisions and their checksums — into the binary.

fn main() {
    braid_build::embed("../migrations");
}

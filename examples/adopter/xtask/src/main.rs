//! `cargo xtask migrate …`: this workspace's database migrations, with Braid.

fn main() -> std::process::ExitCode {
    braid_cli::xtask(braid::rust_revisions!())
}

//! `cargo xtask migrate …`: this workspace's database migrations, with Braid — the Rust
//! revisions compiled in by `build.rs`, and the application's sea-orm entities, which
//! `generate --autogenerate` writes migrations from and `check --models` compares with them.

use braid_cli::FrontEnd;

fn main() -> std::process::ExitCode {
    let front = FrontEnd::xtask(braid::rust_revisions!()).with_models(shop::entities::models());
    braid_cli::run_xtask(&front)
}

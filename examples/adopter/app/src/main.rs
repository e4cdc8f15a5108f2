//! The shop: an application that migrates its own database before it starts serving.
//!
//! The migrations are compiled in (`build.rs`), so the deploy image needs no migration files
//! and no `cargo`. Several instances may start at once: Braid's lock lets one migrate while the
//! others wait, and they then find nothing to do.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://.braid/app.db".into());
    let migrator = braid::Migrator::new(braid::embedded_migrations!());
    match migrator.upgrade(&url).await {
        Ok(report) => {
            println!(
                "migrations applied: {} (now at {})",
                report.steps.len(),
                report.to.join(", ")
            );
            // … start serving here.
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the database could not be migrated: {e}");
            ExitCode::FAILURE
        }
    }
}

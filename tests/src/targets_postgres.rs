//! The Postgres target: a uniquely named database on the server at `BRAID_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`), created per test and dropped after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use braid_driver::{Dialect, Driver, ErrorKind};

use crate::{Cleanup, Connector, TestDb, TestTarget, Unavailable, unique_name};

/// The server URL the Postgres tests connect to (its database is only used to create and drop
/// the per-test databases).
pub fn postgres_url() -> String {
    std::env::var("BRAID_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// `url` with its database replaced by `database` (query options kept).
pub fn postgres_url_for(url: &str, database: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let query = rest[authority_end..]
        .find('?')
        .map_or("", |q| &rest[authority_end + q..]);
    format!("{scheme}://{}/{database}{query}", &rest[..authority_end])
}

/// Postgres: `CREATE DATABASE braid_t_…` per test, `DROP DATABASE … WITH (FORCE)` after it.
pub struct PostgresTarget;

async fn admin_script(sql: &str) -> Result<(), braid_driver::DriverError> {
    let mut admin = braid_postgres::open(&postgres_url()).await?;
    let result = admin.execute_script(sql).await;
    Box::new(admin).close().await?;
    result
}

/// Drops the database if the test panicked before its cleanup ran (the cleanup sets `done`).
/// `Drop` cannot await, so it runs the drop on a thread with its own runtime.
struct DropOnPanic {
    name: String,
    done: Arc<AtomicBool>,
}

impl Drop for DropOnPanic {
    fn drop(&mut self) {
        if self.done.load(Ordering::SeqCst) {
            return;
        }
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(admin_script(&sql)).ok()
        })
        .join();
    }
}

impl TestTarget for PostgresTarget {
    const NAME: &'static str = "postgres";

    async fn fresh() -> Result<TestDb, Unavailable> {
        let base = postgres_url();
        let name = unique_name("t");
        match admin_script(&format!("CREATE DATABASE {name}")).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Connect => return Err(Unavailable(e.to_string())),
            Err(e) => panic!("[postgres] create database {name}: {e}"),
        }
        let url = postgres_url_for(&base, &name);
        let connector: Connector = Arc::new(|url: String| {
            Box::pin(async move {
                let driver = braid_postgres::open(&url).await?;
                Ok(Box::new(driver) as Box<dyn Driver>)
            })
        });
        let driver = connector(url.clone())
            .await
            .unwrap_or_else(|e| panic!("[postgres] open {url}: {e}"));
        let done = Arc::new(AtomicBool::new(false));
        let cleanup: Cleanup = {
            let (name, done) = (name.clone(), Arc::clone(&done));
            Box::new(move || {
                Box::pin(async move {
                    let sql = format!("DROP DATABASE {name} WITH (FORCE)");
                    if let Err(e) = admin_script(&sql).await {
                        panic!("[postgres] drop database {name}: {e}");
                    }
                    done.store(true, Ordering::SeqCst);
                })
            })
        };
        Ok(
            TestDb::new(Self::NAME, Dialect::Postgres, url, driver, connector)
                .with_cleanup(cleanup)
                .with_guard(DropOnPanic { name, done }),
        )
    }
}

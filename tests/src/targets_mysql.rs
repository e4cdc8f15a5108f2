//! The MySQL/MariaDB target: a uniquely named database on the server at `BRAID_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`), created per test and dropped after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use braid_driver::{Dialect, Driver, ErrorKind};

use crate::{Cleanup, Connector, TestDb, TestTarget, Unavailable, unique_name};

/// The server URL the MySQL tests connect to (its database is only used to create and drop the
/// per-test databases).
pub fn mysql_url() -> String {
    std::env::var("BRAID_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// `url` with its database replaced by `database` (query options kept).
pub fn mysql_url_for(url: &str, database: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let query = rest[authority_end..]
        .find('?')
        .map_or("", |q| &rest[authority_end + q..]);
    format!("{scheme}://{}/{database}{query}", &rest[..authority_end])
}

/// MySQL/MariaDB: `CREATE DATABASE braid_… CHARACTER SET utf8mb4` per test (utf8mb4 whatever
/// the server's default, so the text round trips hold), `DROP DATABASE` after it.
pub struct MysqlTarget;

async fn admin_script(sql: &str) -> Result<(), braid_driver::DriverError> {
    let mut admin = braid_mysql::open(&mysql_url()).await?;
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
        let sql = format!("DROP DATABASE IF EXISTS `{}`", self.name);
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

impl TestTarget for MysqlTarget {
    const NAME: &'static str = "mysql";

    async fn fresh() -> Result<TestDb, Unavailable> {
        let base = mysql_url();
        let name = unique_name("t");
        match admin_script(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Connect => return Err(Unavailable(e.to_string())),
            Err(e) => panic!("[mysql] create database {name}: {e}"),
        }
        let url = mysql_url_for(&base, &name);
        let connector: Connector = Arc::new(|url: String| {
            Box::pin(async move {
                let driver = braid_mysql::open(&url).await?;
                Ok(Box::new(driver) as Box<dyn Driver>)
            })
        });
        let driver = connector(url.clone())
            .await
            .unwrap_or_else(|e| panic!("[mysql] open {url}: {e}"));
        let done = Arc::new(AtomicBool::new(false));
        let cleanup: Cleanup = {
            let (name, done) = (name.clone(), Arc::clone(&done));
            Box::new(move || {
                Box::pin(async move {
                    let sql = format!("DROP DATABASE `{name}`");
                    if let Err(e) = admin_script(&sql).await {
                        panic!("[mysql] drop database {name}: {e}");
                    }
                    done.store(true, Ordering::SeqCst);
                })
            })
        };
        Ok(
            TestDb::new(Self::NAME, Dialect::Mysql, url, driver, connector)
                .with_cleanup(cleanup)
                .with_guard(DropOnPanic { name, done }),
        )
    }
}

//! The test targets that exist today.

use std::sync::Arc;

use braid_driver::{Dialect, Driver};

use crate::{Connector, TestDb, TestTarget, Unavailable, unique_name};

/// SQLite on a uniquely named file in a fresh temp directory (removed when the test ends).
pub struct SqliteTarget;

impl TestTarget for SqliteTarget {
    const NAME: &'static str = "sqlite";

    async fn fresh() -> Result<TestDb, Unavailable> {
        let dir = tempfile::tempdir().expect("create temp dir");
        let path = dir.path().join(format!("{}.db", unique_name("conf")));
        let url = format!("sqlite://{}", path.display());
        let connector: Connector = Arc::new(|url: String| {
            Box::pin(async move {
                let driver = braid_sqlite::open(&url).await?;
                Ok(Box::new(driver) as Box<dyn Driver>)
            })
        });
        let driver = connector(url.clone())
            .await
            .unwrap_or_else(|e| panic!("[sqlite] open {url}: {e}"));
        Ok(TestDb::new(Self::NAME, Dialect::Sqlite, url, driver, connector).with_guard(dir))
    }
}

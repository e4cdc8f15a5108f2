//! The server targets (Postgres, MySQL/MariaDB): a uniquely named database on the server at the
//! target's URL, created per test and dropped after it — also when the test panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use braid_driver::{Dialect, Driver, DriverError, ErrorKind};

use crate::{BoxFuture, Cleanup, Connector, TestDb, TestTarget, Unavailable, unique_name};

/// Opens a connection to a URL.
type Open = fn(String) -> BoxFuture<'static, Result<Box<dyn Driver>, DriverError>>;

/// What differs between the servers; everything else is [`Server::fresh`].
pub(crate) struct Server {
    pub name: &'static str,
    pub dialect: Dialect,
    /// The variable naming the server URL, and its default.
    pub env: &'static str,
    pub default_url: &'static str,
    pub create: fn(&str) -> String,
    /// Drops the database, whether or not it exists and whoever is connected.
    pub drop: fn(&str) -> String,
    pub open: Open,
}

/// `url` with its database replaced by `database` (query options kept).
pub fn url_for(url: &str, database: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let query = rest[authority_end..]
        .find('?')
        .map_or("", |q| &rest[authority_end + q..]);
    format!("{scheme}://{}/{database}{query}", &rest[..authority_end])
}

impl Server {
    /// The server URL the tests connect to (its database only creates and drops the per-test
    /// databases).
    pub fn url(&self) -> String {
        std::env::var(self.env).unwrap_or_else(|_| self.default_url.to_string())
    }

    async fn admin_script(&'static self, sql: &str) -> Result<(), DriverError> {
        let mut admin = (self.open)(self.url()).await?;
        let result = admin.execute_script(sql).await;
        admin.close().await?;
        result
    }

    pub async fn fresh(&'static self) -> Result<TestDb, Unavailable> {
        let name = unique_name("t");
        match self.admin_script(&(self.create)(&name)).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Connect => return Err(Unavailable(e.to_string())),
            Err(e) => panic!("[{}] create database {name}: {e}", self.name),
        }
        let url = url_for(&self.url(), &name);
        let open = self.open;
        let connector: Connector = Arc::new(move |url: String| open(url));
        let driver = connector(url.clone())
            .await
            .unwrap_or_else(|e| panic!("[{}] open {url}: {e}", self.name));
        let done = Arc::new(AtomicBool::new(false));
        let cleanup: Cleanup = {
            let (name, done) = (name.clone(), Arc::clone(&done));
            Box::new(move || {
                Box::pin(async move {
                    if let Err(e) = self.admin_script(&(self.drop)(&name)).await {
                        panic!("[{}] drop database {name}: {e}", self.name);
                    }
                    done.store(true, Ordering::SeqCst);
                })
            })
        };
        Ok(TestDb::new(self.name, self.dialect, url, driver, connector)
            .with_cleanup(cleanup)
            .with_guard(DropOnPanic {
                server: self,
                name,
                done,
            }))
    }
}

/// Drops the database if the test panicked before its cleanup ran (the cleanup sets `done`).
/// `Drop` cannot await, so it runs the drop on a thread with its own runtime.
struct DropOnPanic {
    server: &'static Server,
    name: String,
    done: Arc<AtomicBool>,
}

impl Drop for DropOnPanic {
    fn drop(&mut self) {
        if self.done.load(Ordering::SeqCst) {
            return;
        }
        let (server, sql) = (self.server, (self.server.drop)(&self.name));
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(server.admin_script(&sql)).ok()
        })
        .join();
    }
}

pub(crate) static POSTGRES: Server = Server {
    name: "postgres",
    dialect: Dialect::Postgres,
    env: "BRAID_TEST_POSTGRES_URL",
    default_url: "postgres://postgres@127.0.0.1:5432/test",
    create: |name| format!("CREATE DATABASE {name}"),
    drop: |name| format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    open: |url| Box::pin(async move { braid_postgres::open_boxed(&url).await }),
};

/// utf8mb4 whatever the server's default, so the text round trips hold.
pub(crate) static MYSQL: Server = Server {
    name: "mysql",
    dialect: Dialect::Mysql,
    env: "BRAID_TEST_MYSQL_URL",
    default_url: "mysql://root@127.0.0.1:3306/test",
    create: |name| format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
    drop: |name| format!("DROP DATABASE IF EXISTS `{name}`"),
    open: |url| Box::pin(async move { braid_mysql::open_boxed(&url).await }),
};

/// Postgres at `BRAID_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
pub struct PostgresTarget;

impl TestTarget for PostgresTarget {
    const NAME: &'static str = "postgres";
    async fn fresh() -> Result<TestDb, Unavailable> {
        POSTGRES.fresh().await
    }
}

/// MySQL/MariaDB at `BRAID_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`).
pub struct MysqlTarget;

impl TestTarget for MysqlTarget {
    const NAME: &'static str = "mysql";
    async fn fresh() -> Result<TestDb, Unavailable> {
        MYSQL.fresh().await
    }
}

/// The Postgres server URL the tests use.
pub fn postgres_url() -> String {
    POSTGRES.url()
}

/// The MySQL/MariaDB server URL the tests use.
pub fn mysql_url() -> String {
    MYSQL.url()
}

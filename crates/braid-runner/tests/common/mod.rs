#![allow(dead_code)]

use std::path::PathBuf;

use braid_driver::{Driver, Value};
use braid_graph::{Body, Graph, Revision};
use tempfile::TempDir;

/// Revisions with SQL bodies written into a temp dir, plus SQLite database files next to them.
pub struct Fixture {
    pub dir: TempDir,
    pub revs: Vec<Revision>,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            revs: Vec::new(),
        }
    }

    pub fn rev_dir(&self, id: &str) -> PathBuf {
        self.dir.path().join("migrations").join(id)
    }

    /// Adds a revision whose up script creates table `t_<id>` and down script drops it.
    pub fn table(&mut self, id: &str, parents: &[&str]) -> &mut Revision {
        let up = format!("CREATE TABLE t_{id} (id INTEGER PRIMARY KEY);");
        let down = format!("DROP TABLE t_{id};");
        self.sql(id, parents, &up, &down)
    }

    pub fn sql(&mut self, id: &str, parents: &[&str], up: &str, down: &str) -> &mut Revision {
        let dir = self.rev_dir(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), down).unwrap();
        let mut rev = Revision::new(id, parents);
        rev.body = Body::Sql {
            dir,
            files: vec!["down.sql".into(), "up.sql".into()],
        };
        self.revs.push(rev);
        self.revs.last_mut().unwrap()
    }

    pub fn write_up(&self, id: &str, up: &str) {
        std::fs::write(self.rev_dir(id).join("up.sql"), up).unwrap();
    }

    pub fn graph(&self) -> Graph {
        Graph::build(self.revs.clone()).unwrap()
    }

    pub fn url(&self, name: &str) -> String {
        format!(
            "sqlite://{}",
            self.dir.path().join(format!("{name}.db")).display()
        )
    }

    pub async fn open(&self, name: &str) -> Box<dyn Driver> {
        braid_sqlite::open_boxed(&self.url(name)).await.unwrap()
    }
}

/// Tables of the database, sorted, without SQLite's own.
pub async fn tables(driver: &mut dyn Driver) -> Vec<String> {
    let rows = driver
        .query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            &[],
        )
        .await
        .unwrap();
    rows.rows
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

/// User tables (`t_*`) only.
pub async fn user_tables(driver: &mut dyn Driver) -> Vec<String> {
    tables(driver)
        .await
        .into_iter()
        .filter(|t| t.starts_with("t_"))
        .collect()
}

/// Revisions in the version table, sorted.
pub async fn rows(driver: &mut dyn Driver) -> Vec<String> {
    let rows = driver
        .query("SELECT revision FROM braid_version ORDER BY revision", &[])
        .await
        .unwrap();
    rows.rows
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

pub async fn scalar(driver: &mut dyn Driver, sql: &str) -> Value {
    let rows = driver.query(sql, &[]).await.unwrap();
    rows.rows[0][0].clone()
}

pub fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

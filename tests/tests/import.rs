//! Moving to Braid: `import` of another tool's migrations, then `adopt` of databases that tool
//! migrated, on SQLite, Postgres and MariaDB.
//!
//! Each source database is made as its tool leaves it: the tool's SQL run, its version table
//! created with the tool's columns and filled with the rows (and checksums, computed here as
//! the tool computes them) it writes. The adopted database then upgrades with Braid and runs
//! nothing twice; a tampered file, a failed row and a gap are refused.
//!
//! Postgres and MariaDB cases skip with a message when the server is unreachable, and fail
//! instead when `BRAID_REQUIRE_SERVERS=1`.

mod support;

use std::path::{Path, PathBuf};

use braid::import::{AdoptPlan, ReadOptions, Tool};
use braid::{
    AdoptOutcome, AdoptRequest, Adoption, Dialect, Driver, ImportRequest, Operation, Project,
    RunSettings,
};
use braid_driver::Value;
use support::{Configured, each_backend, with_conn};

/// The three migrations every source history has: the first two ran under the source tool.
const UP: [&str; 3] = [
    "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
    "CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL);\n",
    "CREATE TABLE tags (id INT PRIMARY KEY, label VARCHAR(50));\n",
];
const DOWN: [&str; 3] = [
    "DROP TABLE users;\n",
    "DROP TABLE posts;\n",
    "DROP TABLE tags;\n",
];
const NAMES: [&str; 3] = ["create_users", "create_posts", "create_tags"];

/// One source tool's layout of the three migrations, and its version table.
struct Source {
    tool: Tool,
    /// What its version table records for each migration.
    keys: [&'static str; 3],
}

const SQLX: Source = Source {
    tool: Tool::Sqlx,
    keys: ["20240101000001", "20240101000002", "20240101000003"],
};
const DIESEL: Source = Source {
    tool: Tool::Diesel,
    keys: ["20240101000001", "20240101000002", "20240101000003"],
};
const FLYWAY: Source = Source {
    tool: Tool::Flyway,
    keys: ["1", "1.1", "2"],
};
const REFINERY: Source = Source {
    tool: Tool::Refinery,
    keys: ["1", "2", "3"],
};

impl Source {
    /// Writes the tool's migrations directory.
    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for i in 0..3 {
            let (key, name) = (self.keys[i], NAMES[i]);
            match self.tool {
                Tool::Sqlx => {
                    write(dir.join(format!("{key}_{name}.up.sql")), UP[i]);
                    write(dir.join(format!("{key}_{name}.down.sql")), DOWN[i]);
                }
                Tool::Diesel => {
                    let stamp = format!(
                        "{}-{}-{}-{}",
                        &key[0..4],
                        &key[4..6],
                        &key[6..8],
                        &key[8..14]
                    );
                    let sub = dir.join(format!("{stamp}_{name}"));
                    write(sub.join("up.sql"), UP[i]);
                    write(sub.join("down.sql"), DOWN[i]);
                }
                Tool::Flyway => {
                    write(dir.join(format!("V{key}__{name}.sql")), UP[i]);
                    write(dir.join(format!("U{key}__{name}.sql")), DOWN[i]);
                }
                // refinery has no down migrations.
                Tool::Refinery => write(dir.join(format!("V{key}__{name}.sql")), UP[i]),
                other => unreachable!("{other}"),
            }
        }
    }

    /// Makes `db` what the tool leaves after running the first `ran` migrations.
    async fn migrate(&self, d: &mut dyn Driver, dialect: Dialect, ran: &[usize]) {
        for &i in ran {
            d.execute_script(UP[i]).await.unwrap();
        }
        d.execute_script(&self.table(dialect)).await.unwrap();
        for (rank, &i) in ran.iter().enumerate() {
            self.record(d, dialect, rank, i, true).await;
        }
    }

    /// The version table as the tool creates it.
    fn table(&self, dialect: Dialect) -> String {
        let (bytes, now) = match dialect {
            Dialect::Postgres => ("BYTEA", "TIMESTAMPTZ NOT NULL DEFAULT now()"),
            Dialect::Mysql => ("BLOB", "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"),
            Dialect::Sqlite => ("BLOB", "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        };
        match self.tool {
            Tool::Sqlx => format!(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT \
                 NULL, installed_on {now}, success BOOLEAN NOT NULL, checksum {bytes} NOT NULL, \
                 execution_time BIGINT NOT NULL)"
            ),
            Tool::Diesel => format!(
                "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT \
                 NULL, run_on {now})"
            ),
            Tool::Flyway => format!(
                "CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version \
                 VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, \
                 script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT \
                 NULL, installed_on {now}, execution_time INT NOT NULL, success BOOLEAN NOT NULL)"
            ),
            Tool::Refinery => "CREATE TABLE refinery_schema_history (version INT PRIMARY KEY, \
                               name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))"
                .to_string(),
            other => unreachable!("{other}"),
        }
    }

    /// The row the tool writes for migration `i`, as its `rank`th.
    async fn record(&self, d: &mut dyn Driver, dialect: Dialect, rank: usize, i: usize, ok: bool) {
        let p = |n| braid_tests::param(dialect, n);
        let key = self.keys[i];
        let success = if ok { "TRUE" } else { "FALSE" };
        let (sql, params): (String, Vec<Value>) = match self.tool {
            Tool::Sqlx => (
                format!(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                     execution_time) VALUES ({}, {}, {success}, {}, 1)",
                    p(1),
                    p(2),
                    p(3)
                ),
                vec![
                    Value::Int(key.parse().unwrap()),
                    NAMES[i].replace('_', " ").into(),
                    Value::Bytes(sqlx_checksum(UP[i])),
                ],
            ),
            Tool::Diesel => (
                format!(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ({})",
                    p(1)
                ),
                vec![key.into()],
            ),
            Tool::Flyway => (
                format!(
                    "INSERT INTO flyway_schema_history (installed_rank, version, description, \
                     type, script, checksum, installed_by, execution_time, success) VALUES \
                     ({}, {}, {}, 'SQL', {}, {}, 'deploy', 1, {success})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5)
                ),
                vec![
                    Value::Int(rank as i64 + 1),
                    key.into(),
                    NAMES[i].replace('_', " ").into(),
                    format!("V{key}__{}.sql", NAMES[i]).into(),
                    Value::Int(flyway_checksum(UP[i]).into()),
                ],
            ),
            Tool::Refinery => (
                format!(
                    "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
                     VALUES ({}, {}, '2024-01-01T00:00:00Z', {})",
                    p(1),
                    p(2),
                    p(3)
                ),
                vec![
                    Value::Int(key.parse().unwrap()),
                    NAMES[i].into(),
                    refinery_checksum(NAMES[i], key.parse().unwrap(), UP[i])
                        .to_string()
                        .into(),
                ],
            ),
            other => unreachable!("{other}"),
        };
        d.execute(&sql, &params).await.unwrap();
    }
}

/// sqlx: SHA-384 of the migration's SQL.
fn sqlx_checksum(sql: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha384::digest(sql.as_bytes()).to_vec()
}

/// Flyway: CRC32 over the script's lines, without their line ends, as a signed integer.
fn flyway_checksum(sql: &str) -> i32 {
    let mut crc = crc32fast::Hasher::new();
    for line in sql.lines() {
        crc.update(line.as_bytes());
    }
    crc.finalize() as i32
}

/// refinery: SipHash-1-3 (zero keys) over the name, the version and the SQL, through Rust's
/// `Hash` of `str` (bytes, then 0xff) and of `i32` (four bytes, little-endian).
fn refinery_checksum(name: &str, version: i32, sql: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = siphasher::sip::SipHasher13::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    sql.hash(&mut hasher);
    hasher.finish()
}

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A project moving to Braid: `source/` (the other tool's migrations), `migrations/` (empty
/// until the import) and `braid.toml` with one database, `app`.
struct Moving {
    dir: tempfile::TempDir,
}

impl Moving {
    fn new() -> Self {
        Moving {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn source(&self) -> PathBuf {
        self.dir.path().join("source")
    }

    fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    fn project(&self, url: &str) -> Project {
        support::project(self.dir.path(), &self.migrations(), url)
    }

    fn import(&self, project: &Project, tool: Tool) -> braid::ImportReport {
        project
            .import(
                &ImportRequest {
                    tool,
                    source: self.source(),
                    options: ReadOptions::default(),
                },
                &[],
            )
            .unwrap()
    }

    /// The directory of the imported revision `id`.
    fn revision_dir(&self, id: &str) -> PathBuf {
        std::fs::read_dir(self.migrations())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(id))
            .unwrap_or_else(|| panic!("no revision {id}"))
    }
}

fn adopt(project: &Project, dry_run: bool) -> AdoptOutcome {
    adopt_from(project, dry_run, None)
}

fn adopt_from(project: &Project, dry_run: bool, table: Option<&str>) -> AdoptOutcome {
    let request = AdoptRequest {
        dry_run,
        table: table.map(str::to_string),
    };
    let adoptions: Vec<Adoption> = project
        .adopt(&RunSettings::default(), &request, &|_| {})
        .unwrap();
    let [one]: [Adoption; 1] = adoptions.try_into().unwrap();
    assert_eq!(one.database, "app");
    one.outcome
}

#[track_caller]
fn plan_of(outcome: AdoptOutcome, expect: &str) -> AdoptPlan {
    match (outcome, expect) {
        (AdoptOutcome::Adopted { plan }, "adopted")
        | (AdoptOutcome::Planned { plan }, "planned")
        | (AdoptOutcome::AlreadyAdopted { plan }, "already") => plan,
        (other, _) => panic!("expected {expect}, got {other:?}"),
    }
}

#[track_caller]
fn refusal(outcome: AdoptOutcome) -> String {
    match outcome {
        AdoptOutcome::Failed { error } => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The revisions Braid's store records.
fn recorded(project: &Project) -> Vec<String> {
    let results = project
        .run(&RunSettings::default(), &Operation::Current, &|_| {})
        .unwrap();
    let mut ids: Vec<String> = results[0]
        .rows
        .iter()
        .flatten()
        .map(|r| r.revision.clone())
        .collect();
    ids.sort();
    ids
}

fn count(url: &str, table: &str) -> i64 {
    with_conn(url, async |d: &mut dyn Driver| {
        d.query(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .unwrap()
            .rows[0][0]
            .as_i64()
            .unwrap()
    })
}

/// The whole move for one tool on one backend: import, adopt --dry-run, adopt, adopt again,
/// upgrade (runs only what the tool had not run), the tool's table left as it was.
fn moves(source: &Source, db: &Configured) {
    let moving = Moving::new();
    source.write(&moving.source());
    with_conn(&db.url, async |d: &mut dyn Driver| {
        source.migrate(d, db.dialect, &[0, 1]).await
    });
    let project = moving.project(&db.url);
    let report = moving.import(&project, source.tool);
    let ids: Vec<String> = report
        .written
        .revisions
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(ids.len(), 3, "[{}] {report:?}", db.dialect);

    let plan = plan_of(adopt(&project, true), "planned");
    assert_eq!(plan.applied, ids[..2], "[{}] {plan:?}", db.dialect);
    assert_eq!(plan.stamp, ids[1..2]);
    assert_eq!(plan.pending, ids[2..]);
    assert!(recorded(&project).is_empty(), "a dry run records nothing");

    let plan = plan_of(adopt(&project, false), "adopted");
    assert_eq!(plan.applied, ids[..2]);
    let mut expected = ids[..2].to_vec();
    expected.sort();
    assert_eq!(recorded(&project), expected, "[{}]", db.dialect);
    plan_of(adopt(&project, false), "already");

    assert_eq!(upgrade(&project), ids[2..], "[{}]", db.dialect);
    assert_eq!(count(&db.url, source.tool.version_table()), 2);
}

#[test]
fn sqlx_moves_on_every_backend() {
    each_backend(|db| moves(&SQLX, db));
}

#[test]
fn diesel_moves_on_every_backend() {
    each_backend(|db| moves(&DIESEL, db));
}

#[test]
fn flyway_moves_on_every_backend() {
    each_backend(|db| moves(&FLYWAY, db));
}

#[test]
fn refinery_moves_on_every_backend() {
    each_backend(|db| moves(&REFINERY, db));
}

/// A file edited after the tool ran it no longer matches the tool's checksum: refused, naming
/// the revision, for each tool that kept one.
#[test]
fn a_tampered_file_is_refused() {
    for source in [&SQLX, &FLYWAY, &REFINERY] {
        each_backend(|db| {
            let moving = Moving::new();
            source.write(&moving.source());
            with_conn(&db.url, async |d: &mut dyn Driver| {
                source.migrate(d, db.dialect, &[0, 1]).await
            });
            let project = moving.project(&db.url);
            let report = moving.import(&project, source.tool);
            let first = &report.written.revisions[0].id;
            let up = moving.revision_dir(first).join("up.sql");
            std::fs::write(&up, UP[0].replace("100", "200")).unwrap();
            let error = refusal(adopt(&project, false));
            assert!(
                error.contains(&format!("revision {first} "))
                    && error.contains("no longer matches"),
                "[{} {}] {error}",
                source.tool,
                db.dialect
            );
            assert!(recorded(&project).is_empty());
        });
    }
}

/// A migration the tool recorded as failed stops the adoption with what to do.
#[test]
fn a_failed_row_stops_the_adoption() {
    for source in [&SQLX, &FLYWAY] {
        let moving = Moving::new();
        source.write(&moving.source());
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", tmp.path().join("app.db").display());
        with_conn(&url, async |d: &mut dyn Driver| {
            source.migrate(d, Dialect::Sqlite, &[0]).await;
            source.record(d, Dialect::Sqlite, 1, 1, false).await;
        });
        let project = moving.project(&url);
        moving.import(&project, source.tool);
        let error = refusal(adopt(&project, true));
        assert!(
            error.contains("as failed") && error.contains(source.keys[1]),
            "[{}] {error}",
            source.tool
        );
    }
}

/// A history applied with a gap cannot be a Braid chain: refused, naming both.
#[test]
fn a_gap_is_refused() {
    let moving = Moving::new();
    SQLX.write(&moving.source());
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    with_conn(&url, async |d: &mut dyn Driver| {
        SQLX.migrate(d, Dialect::Sqlite, &[0, 2]).await
    });
    let project = moving.project(&url);
    moving.import(&project, Tool::Sqlx);
    let error = refusal(adopt(&project, false));
    assert!(
        error.contains(SQLX.keys[1]) && error.contains(SQLX.keys[2]),
        "{error}"
    );
    assert!(recorded(&project).is_empty());
}

/// A database the tool never migrated is not adopted by mistake; a store Braid already wrote
/// to is not overwritten.
#[test]
fn only_a_database_the_tool_migrated_is_adopted() {
    let moving = Moving::new();
    SQLX.write(&moving.source());
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let project = moving.project(&url);
    moving.import(&project, Tool::Sqlx);
    let error = refusal(adopt(&project, false));
    assert!(error.contains("_sqlx_migrations"), "{error}");

    with_conn(&url, async |d: &mut dyn Driver| {
        SQLX.migrate(d, Dialect::Sqlite, &[0, 1]).await
    });
    project
        .run(
            &RunSettings::default(),
            &Operation::Stamp {
                targets: vec![SQLX.keys[0].into()],
                purge: false,
            },
            &|_| {},
        )
        .unwrap();
    let error = refusal(adopt(&project, false));
    assert!(error.contains("already records"), "{error}");
}

/// A revision without a down migration gets one that refuses to run, naming the tool; lint
/// reports it.
#[test]
fn a_missing_down_refuses_to_run() {
    let moving = Moving::new();
    REFINERY.write(&moving.source());
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let project = moving.project(&url);
    moving.import(&project, Tool::Refinery);
    upgrade(&project);
    let down = project
        .run(
            &RunSettings::default(),
            &Operation::Downgrade {
                target: "-1".into(),
            },
            &|_| {},
        )
        .unwrap();
    let error = down[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("not written yet") && error.contains("refinery had no down migration"),
        "{down:?}"
    );
    assert_eq!(recorded(&project).len(), 3, "nothing was undone");
    let offline = project.offline(
        &braid::OfflineCommand::Downgrade {
            target: "3:2".into(),
        },
        None,
        &[],
    );
    let error = offline.unwrap_err().to_string();
    assert!(error.contains("not written yet"), "{error}");
    let lint = project.lint(&braid::LintRequest::default()).unwrap();
    let unwritten = lint
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "B506")
        .count();
    assert_eq!(unwritten, 3, "{:?}", lint.findings);
}

/// The Alembic project of braid-import's tests: a base, a branch labelled `audit`, a
/// `depends_on` and a merge, made with the real `alembic`.
fn alembic_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/braid-import/tests/fixtures/alembic")
}

/// Whether Python can import `modules`; when it cannot, the test is skipped with a message, or
/// fails under `BRAID_REQUIRE_SERVERS=1` (CI installs them).
fn python_has(modules: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("BRAID_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "python3 cannot import {modules}: `pip install alembic psycopg2-binary pymysql`"
        );
        eprintln!("SKIPPED: python3 cannot import {modules}");
    }
    found
}

/// SQLAlchemy's URL for a test database.
fn sqlalchemy_url(db: &Configured) -> String {
    match db.dialect {
        Dialect::Sqlite => format!("sqlite:///{}", db.url.trim_start_matches("sqlite://")),
        Dialect::Postgres => db
            .url
            .replacen("postgres://", "postgresql+psycopg2://", 1)
            .split('?')
            .next()
            .unwrap()
            .to_string(),
        Dialect::Mysql => db.url.replacen("mysql://", "mysql+pymysql://", 1),
    }
}

/// Runs the real Alembic on `db`: a copy of the fixture pointed at it, `alembic upgrade TARGET`.
fn alembic_upgrade(project: &Path, db: &Configured, target: &str) {
    let ini = project.join("alembic.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    let text: String = text
        .lines()
        .map(|line| match line.starts_with("sqlalchemy.url") {
            true => format!("sqlalchemy.url = {}\n", sqlalchemy_url(db)),
            false => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&ini, text).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "alembic", "upgrade", target])
        .current_dir(project)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "[{}] alembic upgrade {target}: {}",
        db.dialect,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn upgrade(project: &Project) -> Vec<String> {
    let results = project
        .run(
            &RunSettings::default(),
            &Operation::Upgrade {
                target: "heads".into(),
                phase: None,
            },
            &|_| {},
        )
        .unwrap();
    assert!(results[0].error.is_none(), "{results:?}");
    results[0]
        .applied
        .iter()
        .map(|s| s.revision.clone())
        .collect()
}

fn schema(url: &str) -> braid_driver::Schema {
    with_conn(url, async |d: &mut dyn Driver| {
        d.introspect().await.unwrap()
    })
}

/// The move from Alembic with the real tool, on each backend: Alembic migrates one database to
/// its heads and another part of the way. Braid imports the history (its SQL rendered by
/// Alembic's offline mode for the backend), adopts both, runs nothing on the first and the
/// rest on the second, which then has the first one's schema.
#[test]
fn alembic_moves_with_the_real_tool() {
    each_backend(|part| {
        let driver = match part.dialect {
            Dialect::Sqlite => "alembic",
            Dialect::Postgres => "alembic, psycopg2",
            Dialect::Mysql => "alembic, pymysql",
        };
        if !python_has(driver) {
            return;
        }
        let whole = |test: &(dyn Fn(&Configured) + Sync)| match part.dialect {
            Dialect::Sqlite => {
                let tmp = tempfile::tempdir().unwrap();
                test(&Configured {
                    dialect: Dialect::Sqlite,
                    url: format!("sqlite://{}", tmp.path().join("whole.db").display()),
                })
            }
            Dialect::Postgres => support::with_db::<braid_tests::PostgresTarget>(|db| {
                test(&Configured {
                    dialect: Dialect::Postgres,
                    url: db.url.clone(),
                })
            }),
            Dialect::Mysql => support::with_db::<braid_tests::MysqlTarget>(|db| {
                test(&Configured {
                    dialect: Dialect::Mysql,
                    url: db.url.clone(),
                })
            }),
        };
        whole(&|all: &Configured| alembic_moves(part, all));
    });
}

fn alembic_moves(part: &Configured, all: &Configured) {
    let moving = Moving::new();
    let source = moving.source();
    copy_dir(&alembic_fixture(), &source);
    alembic_upgrade(&source, all, "heads");
    alembic_upgrade(&source, part, "7ae6d94ceeb9");

    let project = moving.project(&all.url);
    let report = moving.import(&project, Tool::Alembic);
    assert_eq!(report.written.revisions.len(), 6);
    // Rendered for the configured database's dialect only: the others' files refuse to run.
    let others: Vec<Dialect> = Dialect::ALL
        .into_iter()
        .filter(|d| *d != all.dialect)
        .collect();
    for rev in &report.written.revisions {
        let merge = rev.id == "dd1bc5fdfdb0";
        let expected = match merge {
            true => Vec::new(),
            false => vec![braid::import::Need::NotRendered(others.clone())],
        };
        assert_eq!(rev.needs, expected, "{}", rev.id);
    }
    let plan = plan_of(adopt(&project, false), "adopted");
    assert!(plan.pending.is_empty(), "{plan:?}");
    assert_eq!(plan.stamp, ["dd1bc5fdfdb0"]);
    assert!(upgrade(&project).is_empty(), "nothing runs twice");

    let project = moving.project(&part.url);
    let plan = plan_of(adopt(&project, false), "adopted");
    assert_eq!(plan.applied, ["14414c37c911", "7ae6d94ceeb9"]);
    let ran = upgrade(&project);
    assert_eq!(ran.len(), 4, "[{}] {ran:?}", part.dialect);
    let differences = braid_driver::diff(&schema(&all.url), &schema(&part.url));
    assert!(
        differences.is_empty(),
        "[{}] Braid's run of Alembic's SQL differs from Alembic's: {differences:?}",
        part.dialect
    );
}

/// sea-orm-migration: its modules become Rust revisions (compiled by the project's own build,
/// so here only recorded, never run), keyed by the names `seaql_migrations` holds.
#[test]
fn sea_orm_moves_on_every_backend() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/braid-import/tests/fixtures/sea-orm");
    each_backend(|db| {
        let moving = Moving::new();
        copy_dir(&fixture.join("migration"), &moving.source());
        let names = [
            "m20220101_000001_create_table",
            "m20240315_101500_create_post",
            "m20240402_083000_add_post_published",
        ];
        with_conn(&db.url, async |d: &mut dyn Driver| {
            d.execute_script(
                "CREATE TABLE seaql_migrations (version VARCHAR(255) PRIMARY KEY, applied_at \
                 BIGINT NOT NULL)",
            )
            .await
            .unwrap();
            for name in names {
                let sql = format!(
                    "INSERT INTO seaql_migrations (version, applied_at) VALUES ({}, 1700000000)",
                    braid_tests::param(db.dialect, 1)
                );
                d.execute(&sql, &[name.into()]).await.unwrap();
            }
        });
        let project = moving.project(&db.url);
        let report = moving.import(&project, Tool::SeaOrm);
        let ids: Vec<&str> = report
            .written
            .revisions
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, names);
        let plan = plan_of(adopt(&project, false), "adopted");
        assert_eq!(plan.stamp, [names[2]], "[{}]", db.dialect);
        assert!(plan.pending.is_empty());
        assert!(
            upgrade(&project).is_empty(),
            "[{}] nothing runs twice",
            db.dialect
        );
    });
}

/// The command line: `braid import` then `braid adopt --dry-run` and `adopt`, in human text
/// and JSON, with the exit codes a script branches on.
#[test]
fn the_command_line_moves_a_project() {
    let moving = Moving::new();
    REFINERY.write(&moving.source());
    let root = moving.dir.path();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(
        root.join("config/braid.toml"),
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n",
    )
    .unwrap();
    let url = format!("sqlite://{}", root.join("app.db").display());
    with_conn(&url, async |d: &mut dyn Driver| {
        REFINERY.migrate(d, Dialect::Sqlite, &[0, 1]).await
    });
    let braid = |args: &[&str]| support::run_in(support::braid_bin(), root, args, &[]);

    let unknown = braid(&["import", "--from", "liquibase", "source"]).fails(2);
    assert!(
        unknown.stderr.contains("unknown tool 'liquibase'"),
        "{}",
        unknown.stderr
    );
    let imported = braid(&["import", "--from", "refinery", "source"]).ok();
    assert!(
        imported
            .stdout
            .contains("Imported 3 refinery migration(s) into migrations"),
        "{}",
        imported.stdout
    );
    assert!(
        imported.stdout.contains("3 revision(s) need you")
            && imported.stdout.contains("write down.sql")
            && imported.stdout.contains("`braid adopt --dry-run`"),
        "{}",
        imported.stdout
    );
    let again = braid(&["import", "--from", "refinery", "source"]).fails(1);
    assert!(
        again.stderr.contains("already holds 3 revision(s)"),
        "{}",
        again.stderr
    );

    let planned = braid(&["adopt", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(planned["databases"][0]["status"], "planned");
    assert_eq!(
        planned["databases"][0]["plan"]["applied"],
        serde_json::json!(["1", "2"])
    );
    let adopted = braid(&["adopt"]).ok();
    assert!(
        adopted
            .stdout
            .contains("app: adopted from refinery: recorded 2 revision(s)")
            && adopted.stdout.contains("1 pending for `upgrade` (3)"),
        "{}",
        adopted.stdout
    );
    braid(&["upgrade"]).ok();
    let check = braid(&["check"]).ok();
    assert!(
        check.stdout.contains("1 database(s) up to date"),
        "{}",
        check.stdout
    );

    // A database whose refinery table names a migration the import does not have.
    with_conn(&url, async |d: &mut dyn Driver| {
        d.execute_script(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES \
             (9, 'elsewhere', '2024-01-01', '1')",
        )
        .await
        .unwrap()
    });
    let refused = braid(&["adopt"]).fails(1);
    assert!(
        refused.stdout.contains("app: not adopted"),
        "{}",
        refused.stdout
    );
}

/// A tool's table under another name, or (Postgres) in another schema, is read when named; its
/// absence is not taken for a database the tool never migrated.
#[test]
fn a_table_elsewhere_is_read_when_named() {
    each_backend(|db| {
        let moving = Moving::new();
        SQLX.write(&moving.source());
        with_conn(&db.url, async |d: &mut dyn Driver| {
            SQLX.migrate(d, db.dialect, &[0, 1]).await;
            d.execute_script("ALTER TABLE _sqlx_migrations RENAME TO app_migrations")
                .await
                .unwrap();
        });
        let project = moving.project(&db.url);
        moving.import(&project, Tool::Sqlx);
        let error = refusal(adopt(&project, true));
        assert!(
            error.contains("--table") && error.contains("never migrated at all"),
            "[{}] {error}",
            db.dialect
        );
        let plan = plan_of(
            adopt_from(&project, false, Some("app_migrations")),
            "adopted",
        );
        assert_eq!(plan.applied.len(), 2, "[{}]", db.dialect);
    });
    support::with_db::<braid_tests::PostgresTarget>(|db| {
        let moving = Moving::new();
        SQLX.write(&moving.source());
        with_conn(&db.url, async |d: &mut dyn Driver| {
            SQLX.migrate(d, Dialect::Postgres, &[0]).await;
            d.execute_script(
                "CREATE SCHEMA legacy; ALTER TABLE _sqlx_migrations SET SCHEMA legacy",
            )
            .await
            .unwrap();
        });
        let project = moving.project(&db.url);
        moving.import(&project, Tool::Sqlx);
        let plan = plan_of(
            adopt_from(&project, false, Some("legacy._sqlx_migrations")),
            "adopted",
        );
        assert_eq!(plan.applied, [SQLX.keys[0]]);
    });
}

/// A row whose version cannot be read stops the adoption: skipping it would leave a migration
/// that ran to run again.
#[test]
fn an_unreadable_row_stops_the_adoption() {
    let moving = Moving::new();
    DIESEL.write(&moving.source());
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    with_conn(&url, async |d: &mut dyn Driver| {
        DIESEL.migrate(d, Dialect::Sqlite, &[0]).await;
        // SQLite keeps a blob as it is, whatever the column's type: bytes that are not text.
        d.execute_script("INSERT INTO __diesel_schema_migrations (version) VALUES (X'FF')")
            .await
            .unwrap();
    });
    let project = moving.project(&url);
    moving.import(&project, Tool::Diesel);
    let error = refusal(adopt(&project, false));
    assert!(
        error.contains("row 2 of __diesel_schema_migrations"),
        "{error}"
    );
    assert!(recorded(&project).is_empty());
}

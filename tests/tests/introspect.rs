//! Schema introspection as `verify` relies on it, on every backend: each kind of object is
//! reported; creating objects and dropping them again gives back the schema from before
//! (verify's promise: `down` undoes `up`); the same DDL in two fresh databases gives equal
//! schemas; and a driver reached through its plugin reports exactly what the static driver
//! reports.

use braid_driver::{Driver, Schema, Table, diff};
use braid_tests::{
    MysqlTarget, PostgresTarget, SqliteTarget, TestDb, TestTarget, fresh_or_skip, plugin,
    plugin_connector,
};

/// One backend's DDL: `base` exists before and after; `create` makes one object of every kind
/// the backend has; `drop` undoes `create`.
#[derive(Clone, Copy)]
struct Ddl {
    base: &'static str,
    create: &'static str,
    drop: &'static str,
}

const SQLITE: Ddl = Ddl {
    base: "CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    create: "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email TEXT NOT NULL COLLATE NOCASE,
    name TEXT DEFAULT 'anon',
    score INTEGER CONSTRAINT users_score_positive CHECK (score >= 0),
    doubled INTEGER GENERATED ALWAYS AS (score * 2) STORED,
    CONSTRAINT users_email_uq UNIQUE (email)
);
CREATE INDEX ix_users_lower_name ON users (lower(name) DESC) WHERE name IS NOT NULL;
CREATE TRIGGER users_touch AFTER UPDATE OF name ON users
BEGIN UPDATE orgs SET name = name WHERE id = NEW.org_id; END;
CREATE VIEW active_users AS SELECT id, email FROM users WHERE score > 0;",
    drop: "\
DROP VIEW active_users;
DROP TRIGGER users_touch;
DROP INDEX ix_users_lower_name;
DROP TABLE users;",
};

const POSTGRES: Ddl = Ddl {
    base: "CREATE TABLE orgs (id bigint PRIMARY KEY, name text NOT NULL);",
    create: "\
CREATE SEQUENCE invoice_no AS integer INCREMENT BY 5 MINVALUE 10 MAXVALUE 100000
    START WITH 100 CYCLE;
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY,
    org_id bigint NOT NULL,
    email varchar(200) NOT NULL COLLATE \"C\",
    name text DEFAULT 'anon',
    score integer,
    doubled integer GENERATED ALWAYS AS (score * 2) STORED,
    CONSTRAINT users_pk PRIMARY KEY (id),
    CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
    CONSTRAINT users_score_positive CHECK (score >= 0),
    CONSTRAINT users_email_uq UNIQUE (email)
);
CREATE INDEX ix_users_lower_name ON users (lower(name) DESC) INCLUDE (score)
    WHERE name IS NOT NULL;
CREATE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN NEW.name := coalesce(NEW.name, 'anon'); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_touch();
CREATE VIEW active_users AS SELECT id, email FROM users WHERE score > 0;
CREATE MATERIALIZED VIEW org_sizes AS SELECT org_id, count(*) AS n FROM users GROUP BY org_id;",
    drop: "\
DROP MATERIALIZED VIEW org_sizes;
DROP VIEW active_users;
DROP TRIGGER users_touch ON users;
DROP FUNCTION users_touch();
DROP TABLE users;
DROP SEQUENCE invoice_no;",
};

/// MySQL and MariaDB; MariaDB's sequence comes on top ([`MARIADB_SEQUENCE`]).
const MYSQL: Ddl = Ddl {
    base: "CREATE TABLE orgs (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL);",
    create: "\
CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT,
    org_id BIGINT NOT NULL,
    email VARCHAR(200) NOT NULL,
    name VARCHAR(100) DEFAULT 'anon',
    score INT,
    doubled INT AS (score * 2) STORED,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
    CONSTRAINT users_score_positive CHECK (score >= 0),
    CONSTRAINT users_email_uq UNIQUE (email),
    KEY ix_users_name_prefix (name(10), score DESC)
);
CREATE TRIGGER users_touch BEFORE INSERT ON users
    FOR EACH ROW SET NEW.name = COALESCE(NEW.name, 'anon');
CREATE VIEW active_users AS SELECT id, email FROM users WHERE score > 0;
CREATE FUNCTION user_score(n INT) RETURNS INT DETERMINISTIC RETURN n * 2;
CREATE PROCEDURE touch_users(IN since INT)
BEGIN
    UPDATE users SET score = score WHERE id > since;
END;",
    drop: "\
DROP PROCEDURE touch_users;
DROP FUNCTION user_score;
DROP VIEW active_users;
DROP TRIGGER users_touch;
DROP TABLE users;",
};

const MARIADB_SEQUENCE: Ddl = Ddl {
    base: "",
    create: "CREATE SEQUENCE invoice_no START WITH 100 INCREMENT BY 5 MINVALUE 10 \
             MAXVALUE 100000 CYCLE;",
    drop: "DROP SEQUENCE invoice_no;",
};

async fn run(db: &mut TestDb, sql: &str) {
    if sql.is_empty() {
        return;
    }
    if let Err(e) = db.driver.execute_script(sql).await {
        panic!("[{}] script failed: {e}\n{sql}", db.target);
    }
}

async fn snapshot(driver: &mut dyn Driver, target: &str) -> Schema {
    driver
        .introspect()
        .await
        .unwrap_or_else(|e| panic!("[{target}] introspect failed: {e}"))
}

async fn is_mariadb(db: &mut TestDb) -> bool {
    let version = db.driver.server_version().await.expect("server version");
    version.to_ascii_lowercase().contains("mariadb")
}

/// The backend's DDL, MariaDB's sequence included where the server is MariaDB.
async fn ddl_for(db: &mut TestDb, ddl: &Ddl) -> Vec<Ddl> {
    let mut all = vec![*ddl];
    if db.dialect == braid_driver::Dialect::Mysql && is_mariadb(db).await {
        all.push(MARIADB_SEQUENCE);
    }
    all
}

async fn create(db: &mut TestDb, ddl: &[Ddl]) {
    for d in ddl {
        run(db, d.create).await;
    }
}

async fn drop_all(db: &mut TestDb, ddl: &[Ddl]) {
    for d in ddl.iter().rev() {
        run(db, d.drop).await;
    }
}

/// Panics with the differences, one per line, unless `actual` is `expected`.
#[track_caller]
fn assert_same(expected: &Schema, actual: &Schema, what: &str) {
    let found = diff(expected, actual);
    assert!(
        found.is_empty() && expected == actual,
        "{what}:\n{}",
        found
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
    schema
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("table {name} missing from {schema:#?}"))
}

/// Creating every kind of object and dropping it again gives back the schema from before;
/// creating it again gives back the schema of the first creation. Braid's version store
/// never shows.
async fn round_trip<T: TestTarget>(ddl: &Ddl) {
    let Some(mut db) = fresh_or_skip::<T>().await else {
        return;
    };
    let ddl = ddl_for(&mut db, ddl).await;
    for d in &ddl {
        run(&mut db, d.base).await;
    }
    run(
        &mut db,
        "CREATE TABLE braid_version (revision VARCHAR(64) NOT NULL PRIMARY KEY);\n\
         CREATE TABLE braid_version_log (id INT);",
    )
    .await;
    let target = db.target;
    let before = snapshot(db.driver.as_mut(), target).await;
    assert!(
        before
            .tables
            .iter()
            .all(|t| !t.name.starts_with("braid_version")),
        "[{target}] the version store is reported: {before:#?}"
    );
    create(&mut db, &ddl).await;
    let after_up = snapshot(db.driver.as_mut(), target).await;
    assert_ne!(before, after_up, "[{target}] creating changed nothing");
    drop_all(&mut db, &ddl).await;
    let after_down = snapshot(db.driver.as_mut(), target).await;
    assert_same(
        &before,
        &after_down,
        &format!("[{target}] dropping differs"),
    );
    create(&mut db, &ddl).await;
    let again = snapshot(db.driver.as_mut(), target).await;
    assert_same(
        &after_up,
        &again,
        &format!("[{target}] creating again differs"),
    );
    db.teardown().await;
}

/// An index left behind by an incomplete `drop` is named as such.
async fn left_behind_index<T: TestTarget>(base: &str, create: &str, drop_table: &str) {
    let Some(mut db) = fresh_or_skip::<T>().await else {
        return;
    };
    let target = db.target;
    run(&mut db, base).await;
    let before = snapshot(db.driver.as_mut(), target).await;
    run(&mut db, create).await;
    run(&mut db, drop_table).await;
    let after = snapshot(db.driver.as_mut(), target).await;
    let found: Vec<String> = diff(&before, &after)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        found,
        ["index `ix_orgs_name` on `orgs`: left behind"],
        "[{target}]"
    );
    db.teardown().await;
}

/// The same DDL in two fresh databases gives equal schemas.
async fn same_ddl_same_schema<T: TestTarget>(ddl: &Ddl) {
    let Some(mut first) = fresh_or_skip::<T>().await else {
        return;
    };
    let Some(mut second) = fresh_or_skip::<T>().await else {
        first.teardown().await;
        return;
    };
    let target = first.target;
    let mut schemas = Vec::new();
    for db in [&mut first, &mut second] {
        let ddl = ddl_for(db, ddl).await;
        for d in &ddl {
            run(db, d.base).await;
        }
        create(db, &ddl).await;
        schemas.push(snapshot(db.driver.as_mut(), target).await);
    }
    assert_same(
        &schemas[0],
        &schemas[1],
        &format!("[{target}] two databases differ"),
    );
    first.teardown().await;
    second.teardown().await;
}

/// Introspection through the plugin `package` is the static driver's, exactly.
async fn plugin_matches_static<T: TestTarget>(ddl: &Ddl, package: &'static str) {
    let Some(mut db) = fresh_or_skip::<T>().await else {
        return;
    };
    let target = db.target;
    let ddl = ddl_for(&mut db, ddl).await;
    for d in &ddl {
        run(&mut db, d.base).await;
    }
    create(&mut db, &ddl).await;
    let direct = snapshot(db.driver.as_mut(), target).await;
    let plugin = tokio::task::spawn_blocking(move || plugin(package))
        .await
        .unwrap_or_else(|e| panic!("[{target}] build/load {package}: {e}"));
    let mut through = plugin_connector(plugin)(db.url.clone())
        .await
        .unwrap_or_else(|e| panic!("[{target}] open through {package}: {e}"));
    let via_plugin = snapshot(through.as_mut(), target).await;
    through.close().await.expect("close the plugin connection");
    assert_same(
        &direct,
        &via_plugin,
        &format!("[{target}] the plugin's schema differs"),
    );
    db.teardown().await;
}

/// Every kind of object the backend has, created by `ddl`.
/// Also says whether the server is MariaDB.
async fn created_schema<T: TestTarget>(ddl: &Ddl) -> Option<(Schema, bool)> {
    let mut db = fresh_or_skip::<T>().await?;
    let target = db.target;
    let ddl = ddl_for(&mut db, ddl).await;
    let mariadb = ddl.len() > 1;
    for d in &ddl {
        run(&mut db, d.base).await;
    }
    create(&mut db, &ddl).await;
    let schema = snapshot(db.driver.as_mut(), target).await;
    db.teardown().await;
    Some((schema, mariadb))
}

#[tokio::test]
async fn sqlite_reports_every_kind() {
    let Some((s, _)) = created_schema::<SqliteTarget>(&SQLITE).await else {
        return;
    };
    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orgs", "users"], "{s:#?}");
    let users = table(&s, "users");
    let id = &users.columns[0];
    assert_eq!(id.identity.as_deref(), Some("AUTOINCREMENT"), "{id:?}");
    let email = &users.columns[2];
    assert_eq!(email.collation.as_deref(), Some("NOCASE"), "{email:?}");
    let name = &users.columns[3];
    assert_eq!(name.default.as_deref(), Some("'anon'"), "{name:?}");
    let doubled = &users.columns[5];
    let generated = doubled.generated.as_ref().expect("generated column");
    assert!(
        generated.stored && generated.expression == "score * 2",
        "{doubled:?}"
    );
    let pk = users.primary_key.as_ref().expect("primary key");
    assert_eq!(pk.columns, ["id"]);
    let ix = users
        .indexes
        .iter()
        .find(|i| i.name == "ix_users_lower_name")
        .expect("expression index");
    assert_eq!(ix.columns, ["lower(name) DESC"], "{ix:?}");
    assert_eq!(ix.predicate.as_deref(), Some("name IS NOT NULL"), "{ix:?}");
    let uq = users
        .indexes
        .iter()
        .find(|i| i.constraint)
        .expect("unique constraint");
    assert!(
        uq.unique && uq.columns == ["email COLLATE NOCASE"],
        "{uq:?}"
    );
    assert_eq!(users.foreign_keys[0].referenced_table, "orgs");
    assert_eq!(users.checks.len(), 1, "{:?}", users.checks);
    assert_eq!(
        users.checks[0].name.as_deref(),
        Some("users_score_positive")
    );
    assert_eq!(users.checks[0].expression, "score >= 0");
    assert_eq!(s.views.len(), 1);
    assert_eq!(s.views[0].name, "active_users");
    assert!(s.views[0].definition.contains("WHERE score > 0"));
    let t = &s.triggers[0];
    assert_eq!(
        (t.name.as_str(), t.table.as_str(), t.timing.as_str()),
        ("users_touch", "users", "AFTER")
    );
    assert_eq!(t.event, "UPDATE OF name");
    assert!(s.sequences.is_empty() && s.routines.is_empty());
}

#[tokio::test]
async fn postgres_reports_every_kind() {
    let Some((s, _)) = created_schema::<PostgresTarget>(&POSTGRES).await else {
        return;
    };
    let users = table(&s, "users");
    let id = &users.columns[0];
    assert_eq!(
        id.identity.as_deref(),
        Some("GENERATED ALWAYS AS IDENTITY"),
        "{id:?}"
    );
    assert_eq!(users.columns[2].data_type, "character varying(200)");
    assert_eq!(users.columns[2].collation.as_deref(), Some("C"));
    assert_eq!(users.columns[3].default.as_deref(), Some("'anon'::text"));
    let doubled = &users.columns[5];
    assert_eq!(doubled.default, None, "{doubled:?}");
    let generated = doubled.generated.as_ref().expect("generated column");
    assert!(
        generated.stored && generated.expression == "(score * 2)",
        "{doubled:?}"
    );
    let pk = users.primary_key.as_ref().expect("primary key");
    assert_eq!(
        (pk.name.as_deref(), pk.columns.as_slice()),
        (Some("users_pk"), &["id".to_string()][..])
    );
    let ix = users
        .indexes
        .iter()
        .find(|i| i.name == "ix_users_lower_name")
        .expect("expression index");
    assert_eq!(ix.columns, ["lower(name) DESC"], "{ix:?}");
    assert_eq!(ix.include, ["score"], "{ix:?}");
    assert_eq!(ix.predicate.as_deref(), Some("name IS NOT NULL"), "{ix:?}");
    let uq = users
        .indexes
        .iter()
        .find(|i| i.name == "users_email_uq")
        .expect("unique constraint");
    assert!(uq.unique && uq.constraint, "{uq:?}");
    let fk = &users.foreign_keys[0];
    assert_eq!(fk.name.as_deref(), Some("users_org_fk"));
    assert_eq!(fk.on_delete.as_deref(), Some("CASCADE"));
    assert_eq!(users.checks.len(), 1, "{:?}", users.checks);
    assert_eq!(users.checks[0].expression, "score >= 0");
    let views: Vec<(&str, bool)> = s
        .views
        .iter()
        .map(|v| (v.name.as_str(), v.materialized))
        .collect();
    assert_eq!(views, [("active_users", false), ("org_sizes", true)]);
    let t = &s.triggers[0];
    assert_eq!(
        (t.timing.as_str(), t.event.as_str()),
        ("BEFORE", "INSERT OR UPDATE")
    );
    assert!(
        t.definition.starts_with("CREATE TRIGGER users_touch"),
        "{t:?}"
    );
    // The identity column's own sequence belongs to the column.
    let seq: Vec<&str> = s.sequences.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(seq, ["invoice_no"], "{:?}", s.sequences);
    let q = &s.sequences[0];
    assert_eq!(
        (
            q.data_type.as_str(),
            q.start,
            q.increment,
            q.minimum,
            q.maximum,
            q.cycle
        ),
        ("integer", 100, 5, 10, 100_000, true)
    );
    let r = &s.routines[0];
    assert_eq!(
        (r.name.as_str(), r.kind.as_str()),
        ("users_touch", "FUNCTION")
    );
    assert!(r.definition.contains("coalesce(NEW.name, 'anon')"), "{r:?}");
}

#[tokio::test]
async fn mysql_reports_every_kind() {
    let Some((s, mariadb)) = created_schema::<MysqlTarget>(&MYSQL).await else {
        return;
    };
    let users = table(&s, "users");
    let id = &users.columns[0];
    assert_eq!(id.identity.as_deref(), Some("AUTO_INCREMENT"), "{id:?}");
    assert!(
        users.columns[2].collation.is_some(),
        "{:?}",
        users.columns[2]
    );
    let doubled = &users.columns[5];
    let generated = doubled.generated.as_ref().expect("generated column");
    assert!(
        generated.stored && generated.expression.contains("score"),
        "{doubled:?}"
    );
    let updated = &users.columns[6];
    assert!(
        updated
            .on_update
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().contains("current_timestamp")),
        "{updated:?}"
    );
    let pk = users.primary_key.as_ref().expect("primary key");
    assert_eq!(pk.columns, ["id"]);
    let ix = users
        .indexes
        .iter()
        .find(|i| i.name == "ix_users_name_prefix")
        .expect("prefix index");
    assert_eq!(ix.columns, ["name(10)", "score DESC"], "{ix:?}");
    let uq = users
        .indexes
        .iter()
        .find(|i| i.name == "users_email_uq")
        .expect("unique key");
    assert!(uq.unique, "{uq:?}");
    assert_eq!(users.foreign_keys[0].name.as_deref(), Some("users_org_fk"));
    let check = users
        .checks
        .iter()
        .find(|c| c.name.as_deref() == Some("users_score_positive"))
        .expect("check constraint");
    assert!(check.expression.contains("score"), "{check:?}");
    assert_eq!(s.views[0].name, "active_users");
    assert!(
        !s.views[0].definition.contains("braid_"),
        "the database's own name is left out: {:?}",
        s.views[0]
    );
    let t = &s.triggers[0];
    assert_eq!(
        (t.timing.as_str(), t.event.as_str(), t.table.as_str()),
        ("BEFORE", "INSERT", "users")
    );
    let routines: Vec<(&str, &str)> = s
        .routines
        .iter()
        .map(|r| (r.name.as_str(), r.kind.as_str()))
        .collect();
    assert_eq!(
        routines,
        [("touch_users", "PROCEDURE"), ("user_score", "FUNCTION")]
    );
    assert!(
        s.routines[0].arguments.starts_with("IN since int"),
        "{:?}",
        s.routines[0]
    );
    assert!(
        s.routines[1].definition.starts_with("RETURNS int"),
        "{:?}",
        s.routines[1]
    );
    if mariadb {
        let q = &s.sequences[0];
        assert_eq!(
            (q.name.as_str(), q.start, q.increment, q.minimum, q.cycle),
            ("invoice_no", 100, 5, 10, true)
        );
    }
}

#[tokio::test]
async fn sqlite_round_trip() {
    round_trip::<SqliteTarget>(&SQLITE).await;
}

#[tokio::test]
async fn postgres_round_trip() {
    round_trip::<PostgresTarget>(&POSTGRES).await;
}

#[tokio::test]
async fn mysql_round_trip() {
    round_trip::<MysqlTarget>(&MYSQL).await;
}

const LEFT_BEHIND_BASE: &str = "CREATE TABLE orgs (id INT PRIMARY KEY, name VARCHAR(50));";
const LEFT_BEHIND_CREATE: &str = "CREATE TABLE extra (id INT PRIMARY KEY);\n\
     CREATE INDEX ix_orgs_name ON orgs (name);";

#[tokio::test]
async fn sqlite_names_a_left_behind_index() {
    left_behind_index::<SqliteTarget>(LEFT_BEHIND_BASE, LEFT_BEHIND_CREATE, "DROP TABLE extra;")
        .await;
}

#[tokio::test]
async fn postgres_names_a_left_behind_index() {
    left_behind_index::<PostgresTarget>(LEFT_BEHIND_BASE, LEFT_BEHIND_CREATE, "DROP TABLE extra;")
        .await;
}

#[tokio::test]
async fn mysql_names_a_left_behind_index() {
    left_behind_index::<MysqlTarget>(LEFT_BEHIND_BASE, LEFT_BEHIND_CREATE, "DROP TABLE extra;")
        .await;
}

#[tokio::test]
async fn sqlite_same_ddl_same_schema() {
    same_ddl_same_schema::<SqliteTarget>(&SQLITE).await;
}

#[tokio::test]
async fn postgres_same_ddl_same_schema() {
    same_ddl_same_schema::<PostgresTarget>(&POSTGRES).await;
}

#[tokio::test]
async fn mysql_same_ddl_same_schema() {
    same_ddl_same_schema::<MysqlTarget>(&MYSQL).await;
}

#[tokio::test]
async fn sqlite_plugin_matches_static() {
    plugin_matches_static::<SqliteTarget>(&SQLITE, "braid-sqlite-plugin").await;
}

#[tokio::test]
async fn postgres_plugin_matches_static() {
    plugin_matches_static::<PostgresTarget>(&POSTGRES, "braid-postgres-plugin").await;
}

#[tokio::test]
async fn mysql_plugin_matches_static() {
    plugin_matches_static::<MysqlTarget>(&MYSQL, "braid-mysql-plugin").await;
}

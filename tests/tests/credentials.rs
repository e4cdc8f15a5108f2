//! Credentials outside the config file, through the real `cargo xtask` binary: `${VAR}` in a
//! URL, `password_env` and `password_file`, and libpq's environment for what a Postgres URL
//! leaves out. No password is printed on the way.

mod support;

use std::path::{Path, PathBuf};

use braid_driver::Driver;
use braid_tests::{MysqlTarget, PostgresTarget, TestDb, unique_name};
use support::{Run, run_in, with_conn, with_db, xtask_bin};

/// A project: the SQL part of nothing but one revision creating `creds_t`, and a config.
fn project(root: &Path, config: &str) -> PathBuf {
    let rev = root.join("migrations/c1");
    std::fs::create_dir_all(&rev).unwrap();
    std::fs::write(
        rev.join("revision.toml"),
        "id = \"c1\"\nparents = []\nmessage = \"c1\"\ncreated = 2026-11-01T00:00:00Z\n",
    )
    .unwrap();
    std::fs::write(rev.join("up.sql"), "CREATE TABLE creds_t (id INT);\n").unwrap();
    std::fs::write(rev.join("down.sql"), "DROP TABLE creds_t;\n").unwrap();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/braid.toml"), config).unwrap();
    root.to_path_buf()
}

fn migrate(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(xtask_bin(), root, &[&["migrate"], args].concat(), env)
}

fn toml(s: &str) -> String {
    format!("{s:?}")
}

#[test]
fn a_url_from_the_environment_is_needed_only_by_its_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let root = project(
        &tmp.path().join("p"),
        "[default.databases.app]\nurl = \"${SHOP_DATABASE_URL}\"\n",
    );
    // Graph commands need no database, so no variable.
    migrate(&root, &["heads"], &[]).ok();
    let unset = migrate(&root, &["upgrade"], &[]).fails(10);
    assert!(
        unset
            .stderr
            .contains("environment variable `SHOP_DATABASE_URL` is not set"),
        "{}",
        unset.stderr
    );
    let url = format!("sqlite://{}", db.display());
    migrate(&root, &["upgrade"], &[("SHOP_DATABASE_URL", &url)]).ok();
    assert!(db.is_file());
}

#[test]
fn two_sources_of_one_password_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(
        &tmp.path().join("p"),
        "[default.databases.app]\nurl = \"sqlite://x.db\"\npassword_env = \"A\"\npassword_file = \"b\"\n",
    );
    let refused = migrate(&root, &["heads"], &[]).fails(1);
    assert!(refused.stderr.contains("keep one"), "{}", refused.stderr);
}

/// A MariaDB user whose password has every character a URL treats specially, given by
/// `password_file` and by `password_env`; nothing prints it.
#[test]
fn mysql_passwords_from_a_file_and_from_the_environment() {
    with_db::<MysqlTarget>(|db| {
        let user = unique_name("u");
        let password = "Pw@:/?#&% 'x\"Zq9";
        let database = db.url.rsplit('/').next().unwrap().to_string();
        with_conn(&db.url, async |d: &mut dyn Driver| {
            d.execute_script(&format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY '{}'; \
                 GRANT ALL ON `{database}`.* TO '{user}'@'%'",
                password.replace('\'', "''").replace('\\', "\\\\")
            ))
            .await
            .unwrap();
        });
        let server = db.url.split_once("://").unwrap().1;
        let host_and_db = server.rsplit_once('@').map_or(server, |(_, rest)| rest);
        let url = format!("mysql://{user}@{host_and_db}");
        let tmp = tempfile::tempdir().unwrap();
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, format!("{password}\n")).unwrap();
        let by_file = project(
            &tmp.path().join("f"),
            &format!(
                "[default.databases.app]\nurl = {}\npassword_file = {}\n",
                toml(&url),
                toml(&secret.display().to_string())
            ),
        );
        let up = migrate(&by_file, &["--format", "json", "upgrade"], &[]).ok();
        assert_eq!(up.json()["databases"][0]["current"][0], "c1");
        let by_env = project(
            &tmp.path().join("e"),
            &format!(
                "[default.databases.app]\nurl = {}\npassword_env = \"SHOP_DB_PASSWORD\"\n",
                toml(&url)
            ),
        );
        let env = [("SHOP_DB_PASSWORD", password)];
        let current = migrate(&by_env, &["current", "-v"], &env).ok();
        assert!(current.stdout.contains("c1"), "{}", current.stdout);
        let wrong = migrate(&by_env, &["current"], &[("SHOP_DB_PASSWORD", "nope")]).fails(10);
        assert!(wrong.stdout.contains("denied"), "{}", wrong.stdout);
        for run in [&up, &current, &wrong] {
            assert!(
                !run.stdout.contains("Zq9") && !run.stderr.contains("Zq9"),
                "{}{}",
                run.stdout,
                run.stderr
            );
        }
        with_conn(&db.url, async |d: &mut dyn Driver| {
            d.execute(&format!("DROP USER '{user}'@'%'"), &[])
                .await
                .unwrap();
        });
    });
}

/// A Postgres URL that names only the server takes its user and database from libpq's
/// environment.
#[test]
fn postgres_takes_what_the_url_leaves_out_from_libpq_variables() {
    with_db::<PostgresTarget>(|db: &mut TestDb| {
        let (server, database) = db.url.rsplit_once('/').unwrap();
        let (scheme, rest) = server.split_once("://").unwrap();
        let (user, host) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
        let tmp = tempfile::tempdir().unwrap();
        let root = project(
            &tmp.path().join("p"),
            &format!("[default.databases.pg]\nurl = \"{scheme}://{host}\"\n"),
        );
        let env = [
            ("PGUSER", user),
            ("PGDATABASE", database),
            ("PGSSLMODE", "disable"),
        ];
        let up = migrate(&root, &["--format", "json", "upgrade"], &env).ok();
        assert_eq!(up.json()["databases"][0]["current"][0], "c1");
        let tables = with_conn(&db.url, async |d: &mut dyn Driver| {
            d.introspect().await.unwrap()
        });
        assert!(tables.tables.iter().any(|t| t.name == "creds_t"));
    });
}

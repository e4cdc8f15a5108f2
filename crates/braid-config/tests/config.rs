//! Configuration sources, profiles, validation and password redaction. Each test runs in a
//! figment `Jail`: its own temporary directory and environment, restored afterwards.

use std::path::{Path, PathBuf};

use braid_config::{
    Config, ConfigError, DatabaseConfig, DriverSource, interpolate, redact_all, url_dialect,
};
use braid_driver::Dialect;
use figment::Jail;

const BASIC: &str = r#"
[default]
migrations = "db/migrations"

[default.databases.app]
url = "sqlite://.braid/app.db"

[ci]
jobs = 8

[ci.databases.pg]
url = "postgres://ci:s3cret@127.0.0.1:5432/test"
schema = "public"
branches = ["billing"]
"#;

// figment::Error is large, and it is figment's own API shape.
#[allow(clippy::result_large_err)]
fn jail(f: impl FnOnce(&mut Jail) -> Result<(), String>) {
    Jail::expect_with(|j| {
        j.clear_env();
        f(j).map_err(figment::Error::from)
    });
}

fn load(file: &str, profile: Option<&str>) -> Result<Config, ConfigError> {
    Config::load(Path::new(file), profile)
}

fn err(file: &str, profile: Option<&str>) -> String {
    match load(file, profile) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn file_only_with_defaults() {
    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        let c = load("braid.toml", None).unwrap();
        assert_eq!(c.profile, "default");
        assert_eq!(c.migrations, PathBuf::from("db/migrations"));
        assert_eq!(c.lock_timeout_secs, 60);
        assert_eq!(c.jobs, 4);
        let dbs: Vec<_> = c.databases().collect();
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0].name, "app");
        assert_eq!(dbs[0].config.url, "sqlite://.braid/app.db");
        assert_eq!(dbs[0].config.version_table, "braid_version");
        assert_eq!(dbs[0].config.schema, None);
        assert_eq!(dbs[0].config.branches, None);
        assert_eq!(dbs[0].config.dialect().unwrap(), Dialect::Sqlite);
        Ok(())
    });
}

#[test]
fn profile_layers_over_default_and_env_selects_it() {
    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        let c = load("braid.toml", Some("ci")).unwrap();
        assert_eq!(c.profile, "ci");
        assert_eq!(c.jobs, 8);
        assert_eq!(c.migrations, PathBuf::from("db/migrations"));
        let names: Vec<_> = c.databases().map(|d| d.name).collect();
        assert_eq!(names, ["app", "pg"]);
        let pg = c.database("pg").unwrap().config;
        assert_eq!(pg.dialect().unwrap(), Dialect::Postgres);
        assert_eq!(pg.schema.as_deref(), Some("public"));
        assert_eq!(pg.branches, Some(vec!["billing".to_string()]));

        j.set_env("BRAID_PROFILE", "ci");
        assert_eq!(load("braid.toml", None).unwrap().jobs, 8);
        // The argument wins over BRAID_PROFILE.
        assert_eq!(load("braid.toml", Some("default")).unwrap().jobs, 4);
        Ok(())
    });
}

#[test]
fn env_overrides_file_in_every_profile() {
    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        j.set_env("BRAID_DATABASES__APP__URL", "mysql://root@db:3306/app");
        j.set_env("BRAID_MIGRATIONS", "/abs/migrations");
        j.set_env("BRAID_JOBS", "2");
        j.set_env("BRAID_LOCK_TIMEOUT_SECS", "5");
        j.set_env("BRAID_LOG", "debug"); // not configuration: ignored
        for profile in ["default", "ci"] {
            let c = load("braid.toml", Some(profile)).unwrap();
            let app = c.database("app").unwrap().config;
            assert_eq!(app.url, "mysql://root@db:3306/app");
            assert_eq!(app.dialect().unwrap(), Dialect::Mysql);
            assert_eq!(c.migrations, PathBuf::from("/abs/migrations"));
            assert_eq!(c.jobs, 2, "{profile}");
            assert_eq!(c.lock_timeout().as_secs(), 5);
        }
        // A database defined only in the environment.
        j.set_env("BRAID_DATABASES__EXTRA__URL", "sqlite://extra.db");
        let c = load("braid.toml", None).unwrap();
        assert!(c.database("extra").is_ok());
        Ok(())
    });
}

#[test]
fn unknown_profile_lists_existing_ones() {
    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        let e = err("braid.toml", Some("prod"));
        assert!(e.contains("`prod`") && e.contains("braid.toml"), "{e}");
        assert!(e.contains("ci, default"), "{e}");
        j.set_env("BRAID_PROFILE", "staging");
        let e = err("braid.toml", None);
        assert!(e.contains("`staging`"), "{e}");
        Ok(())
    });
}

#[test]
fn unknown_key_names_the_key_and_file() {
    jail(|j| {
        j.create_file(
            "braid.toml",
            "[default]\nmigration = \"x\"\n[default.databases.app]\nurl = \"sqlite://a.db\"\n",
        )
        .unwrap();
        let e = err("braid.toml", None);
        assert!(e.contains("migration"), "{e}");
        assert!(e.contains("braid.toml"), "{e}");
        assert!(e.contains("migrations"), "lists the allowed keys: {e}");

        j.create_file(
            "db.toml",
            "[default.databases.app]\nurl = \"sqlite://a.db\"\nversion_tabel = \"v\"\n",
        )
        .unwrap();
        let e = err("db.toml", None);
        assert!(e.contains("version_tabel") && e.contains("db.toml"), "{e}");
        Ok(())
    });
}

#[test]
fn file_problems_name_the_file() {
    jail(|j| {
        let e = err("missing.toml", None);
        assert!(e.contains("missing.toml") && e.contains("--config"), "{e}");

        j.create_file("bad.toml", "[default]\njobs = \n").unwrap();
        let e = err("bad.toml", None);
        assert!(e.contains("bad.toml") && e.contains("line 2"), "{e}");

        j.create_file("flat.toml", "migrations = \"m\"\n").unwrap();
        let e = err("flat.toml", None);
        assert!(e.contains("flat.toml") && e.contains("`migrations`"), "{e}");
        assert!(e.contains("[default]"), "{e}");

        j.create_file("nodb.toml", "[default]\njobs = 1\n").unwrap();
        let e = err("nodb.toml", None);
        assert!(e.contains("no database") && e.contains("nodb.toml"), "{e}");

        j.create_file(
            "type.toml",
            "[default]\njobs = \"many\"\n[default.databases.a]\nurl = \"sqlite://a\"\n",
        )
        .unwrap();
        let e = err("type.toml", None);
        assert!(e.contains("jobs") && e.contains("type.toml"), "{e}");
        Ok(())
    });
}

#[test]
fn bad_url_scheme_is_rejected_and_redacted() {
    jail(|j| {
        j.create_file(
            "braid.toml",
            "[default.databases.app]\nurl = \"oracle://scott:tiger@db/orcl\"\n",
        )
        .unwrap();
        let e = err("braid.toml", None);
        assert!(e.contains("database `app`"), "{e}");
        assert!(e.contains("unknown scheme"), "{e}");
        assert!(e.contains("oracle://scott:***@db/orcl"), "{e}");
        assert!(!e.contains("tiger"), "{e}");
        Ok(())
    });
}

#[test]
fn identifiers_are_checked() {
    jail(|j| {
        for (toml, needle) in [
            ("[default.databases.my-db]\nurl = \"sqlite://a\"\n", "my-db"),
            (
                "[default.databases.app]\nurl = \"sqlite://a\"\nversion_table = \"1v\"\n",
                "version_table `1v`",
            ),
            (
                "[default.databases.app]\nurl = \"sqlite://a\"\nschema = \"a.b\"\n",
                "schema `a.b`",
            ),
        ] {
            j.create_file("braid.toml", toml).unwrap();
            let e = err("braid.toml", None);
            assert!(e.contains(needle) && e.contains("identifier"), "{e}");
        }
        let long = "x".repeat(64);
        j.create_file(
            "braid.toml",
            &format!("[default.databases.{long}]\nurl = \"sqlite://a\"\n"),
        )
        .unwrap();
        assert!(err("braid.toml", None).contains("63"));
        Ok(())
    });
}

#[test]
fn schema_is_refused_where_the_backend_has_none() {
    jail(|j| {
        for url in ["sqlite://a.db", "mysql://root@localhost/app"] {
            j.create_file(
                "braid.toml",
                &format!("[default.databases.app]\nurl = \"{url}\"\nschema = \"public\"\n"),
            )
            .unwrap();
            let e = err("braid.toml", None);
            assert!(e.contains("database `app`"), "{e}");
            assert!(e.contains("`schema` applies to Postgres only"), "{e}");
        }
        j.create_file(
            "braid.toml",
            "[default.databases.app]\nurl = \"postgres://u@h/app\"\nschema = \"public\"\n",
        )
        .unwrap();
        assert!(Config::load(Path::new("braid.toml"), None).is_ok());
        Ok(())
    });
}

#[test]
fn passwords_never_appear_in_debug_or_errors() {
    let db = DatabaseConfig::new("postgres://admin:hunter2@db:5432/app");
    let debug = format!("{db:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(
        debug.contains("postgres://admin:***@db:5432/app"),
        "{debug}"
    );

    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        let c = load("braid.toml", Some("ci")).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cret"), "{debug}");

        // figment quotes the offending value in type errors: still redacted.
        j.create_file(
            "typed.toml",
            "[default.databases]\napp = \"mysql://root:hunter2@h/db\"\n",
        )
        .unwrap();
        let e = err("typed.toml", None);
        assert!(!e.contains("hunter2"), "{e}");

        j.set_env("BRAID_DATABASES__APP__URL", "bogus://u:hunter2@h/db");
        let e = err("braid.toml", None);
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("bogus://u:***@h/db"), "{e}");
        Ok(())
    });
}

#[test]
fn resolve_paths_makes_migrations_absolute() {
    jail(|j| {
        j.create_file("braid.toml", BASIC).unwrap();
        let mut c = load("braid.toml", None).unwrap();
        c.resolve_paths(Path::new("/project"));
        assert_eq!(c.migrations, PathBuf::from("/project/db/migrations"));
        c.migrations = PathBuf::from("/elsewhere");
        c.resolve_paths(Path::new("/project"));
        assert_eq!(c.migrations, PathBuf::from("/elsewhere"));
        // URLs stay as written: the facade opens relative SQLite files against the root.
        assert_eq!(
            c.database("app").unwrap().config.url,
            "sqlite://.braid/app.db"
        );
        Ok(())
    });
}

#[test]
fn per_database_migrations_and_relative_paths_follow_the_root() {
    jail(|j| {
        j.create_file(
            "braid.toml",
            r#"
[default]
migrations = "migrations"
[default.plugins]
crdb = "target/libcrdb.so"
[default.databases.app]
url = "sqlite:data/app.db"
[default.databases.billing]
url = "sqlite:///var/billing.db"
migrations = "services/billing/migrations"
driver = { plugin = "plugins/libx.so" }
[default.databases.mem]
url = "sqlite::memory:"
[default.databases.pg]
url = "postgres://u@h/db"
"#,
        )
        .unwrap();
        let mut c = load("braid.toml", None).unwrap();
        c.resolve_paths(Path::new("/root"));
        let db = |n: &str| c.database(n).unwrap().config.clone();
        assert_eq!(db("app").url, "sqlite:data/app.db");
        assert_eq!(
            c.migrations_of(&db("billing")),
            Path::new("/root/services/billing/migrations")
        );
        assert_eq!(c.migrations_of(&db("app")), Path::new("/root/migrations"));
        assert_eq!(c.plugins["crdb"], PathBuf::from("/root/target/libcrdb.so"));
        assert_eq!(
            db("billing").driver,
            Some(braid_config::DriverChoice::Plugin {
                plugin: PathBuf::from("/root/plugins/libx.so")
            })
        );
        Ok(())
    });
}

#[test]
fn url_schemes() {
    for (url, dialect) in [
        ("sqlite://a.db", Dialect::Sqlite),
        ("sqlite::memory:", Dialect::Sqlite),
        ("postgres://h/db", Dialect::Postgres),
        ("postgresql://h/db", Dialect::Postgres),
        ("mysql://h/db", Dialect::Mysql),
        ("MariaDB://h/db", Dialect::Mysql),
    ] {
        assert_eq!(url_dialect(url).unwrap(), dialect, "{url}");
    }
    for bad in ["", "a.db", "http://x", "pg://x"] {
        assert!(url_dialect(bad).is_err(), "{bad}");
    }
    let unknown = Config {
        migrations: "m".into(),
        lock_timeout_secs: 1,
        ddl_lock_timeout_ms: None,
        ddl_lock_retries: 3,
        jobs: 1,
        databases: Default::default(),
        tenants: Default::default(),
        max_connections: None,
        plugins: Default::default(),
        profile: "default".into(),
        file: "f".into(),
    }
    .database("nope")
    .unwrap_err()
    .to_string();
    assert!(
        unknown.contains("nope") && unknown.contains("none"),
        "{unknown}"
    );
}

#[test]
fn redact_all_handles_several_urls() {
    assert_eq!(
        redact_all("a \"postgres://u:p@h/db\" and mysql://r:x@h2 end"),
        "a \"postgres://u:***@h/db\" and mysql://r:***@h2 end"
    );
    assert_eq!(redact_all("no urls here"), "no urls here");
    assert_eq!(redact_all("sqlite://a.db"), "sqlite://a.db");
}

#[test]
fn repository_config_loads_without_a_server() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/braid.toml");
    jail(|_| {
        let c = Config::load(&file, Some("default")).map_err(|e| e.to_string())?;
        let dbs: Vec<_> = c.databases().collect();
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0].name, "app");
        assert_eq!(dbs[0].config.url, "sqlite://.braid/app.db");
        assert_eq!(c.migrations, PathBuf::from("migrations"));
        Ok(())
    });
}

#[test]
fn drivers_resolve_to_built_ins_and_plugins() {
    jail(|j| {
        j.create_file(
            "braid.toml",
            r#"
[default.plugins]
cockroach = "plugins/libbraid_cockroach.so"

[default.databases.app]
url = "sqlite://app.db"

[default.databases.crdb]
url = "cockroach://root@h:26257/db"
driver = "cockroach"

[default.databases.inline]
url = "anything://x"
driver = { plugin = "lib/libbraid_x.so" }

[default.databases.pg]
url = "postgres://h/db"
driver = "postgres"
"#,
        )
        .map_err(|e| e.to_string())?;
        let config = load("braid.toml", None).map_err(|e| e.to_string())?;
        let source = |name: &str| config.driver_source(&config.databases[name]).unwrap();
        assert_eq!(source("app"), DriverSource::BuiltIn(Dialect::Sqlite));
        assert_eq!(source("pg"), DriverSource::BuiltIn(Dialect::Postgres));
        assert_eq!(
            source("crdb"),
            DriverSource::Plugin {
                name: Some("cockroach".into()),
                path: "plugins/libbraid_cockroach.so".into()
            }
        );
        assert_eq!(
            source("inline"),
            DriverSource::Plugin {
                name: None,
                path: "lib/libbraid_x.so".into()
            }
        );

        j.create_file(
            "bad.toml",
            "[default.databases.x]\nurl = \"sqlite://x.db\"\ndriver = \"oracle\"\n",
        )
        .map_err(|e| e.to_string())?;
        let e = err("bad.toml", None);
        assert!(
            e.contains("oracle") && e.contains("sqlite, postgres, mysql"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn urls_take_environment_variables_and_passwords_come_from_env_or_file() {
    jail(|j| {
        j.set_env("SHOP_HOST", "db.internal");
        j.set_env("SHOP_PASSWORD", "p@ss:w/rd");
        j.create_file("secret", "from-file\n").unwrap();
        j.create_file(
            "braid.toml",
            r#"
[default.databases.a]
url = "postgres://app@${SHOP_HOST}:5432/app?x=$$1"
password_env = "SHOP_PASSWORD"
[default.databases.b]
url = "mysql://root@h/db"
password_file = "secret"
[default.databases.c]
url = "${SHOP_UNSET_URL}"
"#,
        )
        .unwrap();
        let c = load("braid.toml", None).unwrap();
        let db = |n: &str| c.database(n).unwrap().config.clone();
        assert_eq!(
            db("a").resolved_url().unwrap(),
            "postgres://app@db.internal:5432/app?x=$1"
        );
        assert_eq!(
            db("a").connection_url().unwrap(),
            "postgres://app:p%40ss%3Aw%2Frd@db.internal:5432/app?x=$1"
        );
        assert!(!db("a").redacted_url().contains("p@ss"));
        assert_eq!(
            db("b").connection_url().unwrap(),
            "mysql://root:from-file@h/db"
        );
        // An unset variable fails its database when it is used, naming the variable.
        let err = db("c").connection_url().unwrap_err().to_string();
        assert!(err.contains("`SHOP_UNSET_URL` is not set"), "{err}");
        assert!(interpolate("${broken").is_err());
        Ok(())
    });
}

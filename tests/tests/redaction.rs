//! No password reaches any output, whatever its characters: end to end through the real
//! `cargo xtask migrate` binary, for every command that opens a database (`upgrade`,
//! `current -v`, `check`, `history -i`), in both formats, and for config files that cannot be
//! read (a syntax error on the URL's line, a URL where a table is expected, an unknown scheme).
//!
//! The databases cannot be used: Postgres on a port where nothing listens (connection refused)
//! and MariaDB at 127.0.0.1:3306 as root with a wrong password (access denied; the local
//! Postgres trusts every password, so it cannot refuse one). A MariaDB that is not running only
//! turns the second into a connection failure, which must not leak either; under
//! `BRAID_REQUIRE_SERVERS=1` the test also checks that the server did refuse the password.
//!
//! Each password is made of distinctive runs of letters and digits between awkward characters
//! (`#`, `?`, `/`, `@`, `:`, spaces, quotes, backslashes, `%`, `&`, non-ASCII); none of those
//! runs, nor the whole password raw, percent-encoded or JSON-escaped, may appear in stdout or
//! stderr.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, migrate_with};

/// Passwords written raw into URLs, each run of letters and digits distinctive.
const PASSWORDS: &[&str] = &[
    "Qh7Zk#Vw9Jm",
    "Qh7Zk?Vw9Jm",
    "Qh7Zk/Vw9Jm",
    "Qh7Zk@Vw9Jm",
    "Qh7Zk:Vw9Jm@Rt4Yp",
    "Qh7Zk Vw9Jm",
    "Qh7Zk%Vw9Jm%zZ",
    "Qh7Zk'Vw9Jm\"Rt4Yp",
    "Qh7Zk\\Vw9Jm",
    "Ünïcødé€Qh7Zk😀Vw9Jm",
    "12#Qh7Zk@Vw9Jm",
    "Qh7Zk&pwd=Vw9Jm",
];

/// Every byte but ASCII letters and digits percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A TOML basic string.
fn toml(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The forms of `password` that must not be in any output.
fn forbidden(password: &str) -> Vec<String> {
    let mut all: Vec<String> = password
        .split(|c: char| !c.is_alphanumeric())
        .filter(|run| run.chars().count() >= 4)
        .map(str::to_string)
        .collect();
    all.push(password.to_string());
    all.push(encode(password));
    let json = serde_json::to_string(password).unwrap();
    all.push(json[1..json.len() - 1].to_string());
    all
}

#[track_caller]
fn assert_hidden(run: &Run, password: &str, what: &str) {
    for form in forbidden(password) {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(&form),
                "{what}: {form:?} of password {password:?} is in {stream}:\n{text}"
            );
        }
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// The databases, by name, whose URLs hold `password`.
fn databases(password: &str) -> Vec<(&'static str, String)> {
    let enc = encode(password);
    vec![
        (
            "pg_raw",
            format!("postgres://braid:{password}@127.0.0.1:1/app"),
        ),
        (
            "pg_enc",
            format!("postgresql://braid:{enc}@127.0.0.1:1/app"),
        ),
        (
            "pg_query",
            format!("postgres://braid@127.0.0.1:1/app?sslmode=disable&password={enc}"),
        ),
        (
            "my_raw",
            format!("mysql://root:{password}@127.0.0.1:3306/app"),
        ),
        ("my_enc", format!("mysql://root:{enc}@127.0.0.1:3306/app")),
        (
            "maria_down",
            format!("mariadb://root:{enc}@127.0.0.1:1/app"),
        ),
    ]
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Every command that opens the databases, in both formats: each fails, naming the databases,
/// and shows no password.
fn commands_hide(password: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("[default]\nlock_timeout_secs = 5\n");
    for (name, url) in databases(password) {
        text.push_str(&format!(
            "[default.databases.{name}]\nurl = {}\n",
            toml(&url)
        ));
    }
    let config = write(tmp.path(), "braid.toml", &text);
    let m = examples();
    for command in [
        &["upgrade", "heads"][..],
        &["current", "-v"],
        &["check"],
        &["history", "-i"],
    ] {
        for format in ["human", "json"] {
            let mut args = vec!["--format", format];
            args.extend_from_slice(command);
            let run = migrate_with(&m, Some(&config), &args, &[]);
            let what = format!("{} --format {format}", command.join(" "));
            assert_hidden(&run, password, &what);
            assert_ne!(run.code, 0, "{what} cannot succeed:\n{}", run.stdout);
            if format == "json" && command[0] == "upgrade" {
                let json = run.json();
                let dbs = json["databases"].as_array().expect("databases");
                for db in dbs {
                    let name = db["name"].as_str().unwrap();
                    let error = db["error"].as_str().unwrap_or_default();
                    assert_eq!(db["status"], "error", "{what}: {db}");
                    assert!(error.contains(name), "{what}: {error}");
                    if name == "my_enc" && braid_tests::require_servers() {
                        assert!(
                            error.to_lowercase().contains("denied"),
                            "{what}: MariaDB must refuse the password: {error}"
                        );
                    }
                }
                assert_eq!(dbs.len(), databases(password).len(), "{what}: {json}");
            }
        }
    }
}

/// Config files that cannot be used, the password on the offending line.
fn config_errors_hide(password: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("postgres://braid:{password}@127.0.0.1:1/app");
    let enc = format!("mysql://root:{}@h/db", encode(password));
    let kv_value = password.replace('\\', "\\\\").replace('\'', "\\'");
    let configs = [
        // Syntax errors on the URL's line: the TOML error quotes it.
        format!("[default.databases.x]\nurl = {} oops\n", toml(&url)),
        format!(
            "[default.databases.x]\nurl = {}\n",
            toml(&url).trim_end_matches('"')
        ),
        format!("[default.databases.x]\nurl = {url}\n"),
        format!("[default.databases.x]\nurl = {} oops\n", toml(&enc)),
        // A string where a table is expected: figment quotes the value.
        format!("[default.databases]\nx = {}\n", toml(&url)),
        format!("[default.databases]\nx = {}\n", toml(&enc)),
        // Unknown schemes and connection strings: the validation error shows the URL.
        format!(
            "[default.databases.x]\nurl = {}\n",
            toml(&format!("oracle://scott:{password}@h/db"))
        ),
        format!(
            "[default.databases.x]\nurl = {}\n",
            toml(&format!("host=h user=u password='{kv_value}' dbname=d"))
        ),
        format!(
            "[default.databases.x]\nurl = {}\n",
            toml(&format!("u:{password}@h/db"))
        ),
    ];
    for (i, text) in configs.iter().enumerate() {
        let config = write(tmp.path(), &format!("braid{i}.toml"), text);
        for format in ["human", "json"] {
            let run = migrate_with(
                &examples(),
                Some(&config),
                &["--format", format, "current", "-v"],
                &[],
            );
            let what = format!("config {text:?} --format {format}");
            assert_ne!(run.code, 0, "{what} cannot succeed");
            assert!(
                !run.stderr.is_empty() || !run.stdout.is_empty(),
                "{what}: no message"
            );
            assert_hidden(&run, password, &what);
        }
    }
    // The same through the environment, which overrides the file.
    let config = write(
        tmp.path(),
        "ok.toml",
        "[default.databases.x]\nurl = \"sqlite://x.db\"\n",
    );
    for value in [
        format!("bogus://u:{password}@h/db"),
        format!("postgres://braid:{password}@127.0.0.1:1/app"),
    ] {
        let run = migrate_with(
            &examples(),
            Some(&config),
            &["--format", "json", "upgrade", "heads"],
            &[("BRAID_DATABASES__X__URL", value.as_str())],
        );
        assert_ne!(run.code, 0, "{value:?} cannot succeed");
        assert_hidden(
            &run,
            password,
            &format!("BRAID_DATABASES__X__URL={value:?}"),
        );
    }
}

#[test]
fn no_password_reaches_any_output() {
    // Built once, before the threads start.
    support::xtask_bin();
    // One thread per password: each run spawns the binary, most of the time is waiting.
    std::thread::scope(|s| {
        for &password in PASSWORDS {
            s.spawn(move || {
                commands_hide(password);
                config_errors_hide(password);
            });
        }
    });
}

/// A password with a raw `?` or `&` spills into the query, whose parameter names and values the
/// drivers' URL parsers quote in their errors (tokio-postgres: "unknown option `…`";
/// mysql_async: "Invalid value `…' for connection URL parameter", "Unknown connection URL
/// parameter `…'"). For a URL that holds a secret the drivers show advice instead
/// (`braid_driver::options::url_error_detail`).
#[test]
fn no_password_reaches_driver_url_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let password = "12?prefer_socket=Qh7Zk&Vw9Jm=1";
    let mut text = String::new();
    for (name, url) in [
        ("my", format!("mysql://root:{password}@127.0.0.1:3306/app")),
        ("pg", format!("postgres://braid:{password}@127.0.0.1:1/app")),
        (
            "pg_query",
            format!("postgres://braid@127.0.0.1:1/app?password={password}"),
        ),
    ] {
        text.push_str(&format!(
            "[default.databases.{name}]\nurl = {}\n",
            toml(&url)
        ));
    }
    let config = write(tmp.path(), "braid.toml", &text);
    for format in ["human", "json"] {
        let run = migrate_with(
            &examples(),
            Some(&config),
            &["--format", format, "upgrade", "heads"],
            &[],
        );
        assert_hidden(&run, password, &format!("upgrade --format {format}"));
    }
}

//! The checksums source tools stored, computed again. Every expected value here was computed
//! outside this crate: sqlx's with Python's `hashlib.sha384`, Flyway's with Python's
//! `zlib.crc32` over the lines joined without terminators (then read as a signed 32-bit
//! integer), refinery's by `refinery_core` 0.8.16 itself (`Migration::unapplied(..).checksum()`
//! and `load_sql_migrations` on the fixture directory).

use std::path::Path;

use braid_import::{Body, MapEntry, ReadOptions, Sql, Tool, expected_checksums};

/// The first checksum the tool may have stored (refinery: the default, `i32`-width one).
fn expected_checksum(tool: Tool, entry: &MapEntry, up_sql: &str) -> Option<String> {
    expected_checksums(tool, entry, up_sql).into_iter().next()
}

fn entry(key: &str, name: &str) -> MapEntry {
    MapEntry {
        key: key.to_string(),
        id: braid_import::braid_id(key),
        name: name.to_string(),
        ..MapEntry::default()
    }
}

/// (key, name, checksum of the up SQL) for every revision read from a fixture directory.
fn fixture_checksums(tool: Tool, fixture: &str) -> Vec<(String, String, Option<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let history = braid_import::read(tool, &dir, &ReadOptions::default()).expect("read");
    history
        .revisions
        .iter()
        // A refinery Rust migration's checksum covers the SQL its code returned: not computable.
        .filter(|r| !matches!(r.body, Body::Untranslated { .. }))
        .map(|r| {
            let Body::Sql {
                up: Sql::Every(up), ..
            } = &r.body
            else {
                panic!("not a plain SQL body: {:?}", r.body);
            };
            let checksum = expected_checksum(tool, &entry(&r.key, &r.name), up);
            (r.key.clone(), r.name.clone(), checksum)
        })
        .collect()
}

#[test]
fn sqlx_is_sha384_of_the_file_as_lowercase_hex() {
    let e = entry("1", "users");
    assert_eq!(
        expected_checksum(
            Tool::Sqlx,
            &e,
            "CREATE TABLE users (id BIGINT PRIMARY KEY);\n"
        )
        .as_deref(),
        Some(
            "90ac4c5e2fd0332e3ed0171e462b6dd32fdf15942aebad5098f2beaf53d578d9\
             0dea1859ef374c5e1f4b17279dbefad0"
        )
    );
    // No normalisation: CRLF and a BOM are hashed as they are.
    assert_eq!(
        expected_checksum(
            Tool::Sqlx,
            &e,
            "-- no-transaction\r\nCREATE INDEX CONCURRENTLY users_email ON users (email);\r\n"
        )
        .as_deref(),
        Some(
            "12af7887d3c83db7192bed7aff4672c25f16ca11821626758b99a0d002981b4f\
             1da5ca5acd0d24fb85f1c2ccc560beb4"
        )
    );
    assert_eq!(
        expected_checksum(Tool::Sqlx, &e, "\u{feff}select 1;").as_deref(),
        Some(
            "ae7887d56ceaf00c7b336f5043449409696be650a80e45ac2249435eb14b9376\
             54b2f2026e1562a27e97183f21bdd21e"
        )
    );
}

#[test]
fn sqlx_fixture_checksums() {
    let sums: Vec<String> = fixture_checksums(Tool::Sqlx, "sqlx/app")
        .into_iter()
        .filter_map(|(_, _, sum)| sum)
        .collect();
    assert_eq!(
        sums,
        [
            "18087fafe8573d6e2df1cc7718ce63e12180776b87a74696fad3012d301203a0\
             5ff67ec03c292d4371c8a5bbfec86fbd",
            "549b7fd79bf29db81d1a08ac40f0628d55b139f62044ca00864a5d058ed79720\
             6a3bcddd38f8788652de06d2c13066c7",
            "caf5c57a40b7c25f347f2a150a30f5bbcdbb7782e3bc36976f5a8cc253216423\
             6278c2715f2b6e87820f79c9a95349f2",
        ]
    );
}

#[test]
fn flyway_is_crc32_of_the_lines_as_a_signed_int() {
    let e = entry("1", "Create person table");
    let lf = "CREATE TABLE person (\n    id INT NOT NULL,\n    name VARCHAR(100) NOT NULL\n);\n";
    assert_eq!(
        expected_checksum(Tool::Flyway, &e, lf).as_deref(),
        Some("-1455529326")
    );
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        expected_checksum(Tool::Flyway, &e, &crlf).as_deref(),
        Some("-1455529326")
    );
    assert_eq!(
        expected_checksum(
            Tool::Flyway,
            &e,
            "\u{feff}INSERT INTO person (id, name) VALUES (1, 'Zoë');\n"
        )
        .as_deref(),
        Some("-606385735")
    );
    assert_eq!(
        expected_checksum(Tool::Flyway, &e, "CREATE TABLE t (x INT);").as_deref(),
        Some("1529011318")
    );
}

#[test]
fn flyway_fixture_checksums() {
    let sums: Vec<(String, Option<String>)> = fixture_checksums(Tool::Flyway, "flyway/app")
        .into_iter()
        .map(|(key, _, sum)| (key, sum))
        .collect();
    let expected = [
        ("1", "-1455529326"),
        ("1.1", "-674169728"),
        ("2", "503842109"),
        ("10", "1529011318"),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(k, s)| (k.to_string(), Some(s.to_string())))
        .collect();
    assert_eq!(sums, expected);
}

#[test]
fn refinery_is_siphash13_over_name_version_and_sql() {
    let cases = [
        (
            "3",
            "add_brand_to_cars_table",
            "ALTER TABLE cars ADD brand VARCHAR(255);\n",
            "626055753570155481",
        ),
        (
            "1",
            "initial",
            "CREATE TABLE persons (\r\n  id int,\r\n  name varchar(255)\r\n);\r\n",
            "7342155303797744287",
        ),
        (
            "20",
            "cafés_añadir",
            "-- refinery:noTransaction\nCREATE INDEX CONCURRENTLY ix ON t (c);\n",
            "8401163131545904925",
        ),
    ];
    for (key, name, sql, sum) in cases {
        assert_eq!(
            expected_checksum(Tool::Refinery, &entry(key, name), sql).as_deref(),
            Some(sum),
            "{key} {name}"
        );
    }
}

#[test]
fn refinery_fixture_checksums() {
    let sums = fixture_checksums(Tool::Refinery, "refinery/app");
    let expected = [
        ("1", "initial", "14768974339046186804"),
        ("2", "add_cars_and_motos_table", "15838360149577765315"),
        ("3", "add_brand_to_cars_table", "626055753570155481"),
        ("4", "add_year_to_motos_table", "14052569383412312546"),
        ("10", "index_cars_brand", "4172023810708666953"),
    ];
    let expected: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(k, n, s)| (k.to_string(), n.to_string(), Some(s.to_string())))
        .collect();
    assert_eq!(sums, expected);
}

#[test]
fn refinery_without_an_integer_key_has_no_checksum() {
    assert_eq!(
        expected_checksum(Tool::Refinery, &entry("v1", "x"), "select 1;"),
        None
    );
}

#[test]
fn tools_without_checksums_give_none() {
    let e = entry("1", "x");
    for tool in [Tool::Alembic, Tool::Diesel, Tool::SeaOrm] {
        assert_eq!(expected_checksum(tool, &e, "select 1;"), None, "{tool}");
    }
}

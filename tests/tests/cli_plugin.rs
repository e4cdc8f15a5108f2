//! End-to-end: a database whose driver is a plugin library, named in the config, through the
//! real binary — the example migrations up, down and up again, `drivers` listing it, and a
//! broken plugin failing only its own database.

mod support;

use std::path::{Path, PathBuf};

use support::migrate_with;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

#[test]
fn a_plugin_driver_named_in_the_config_runs_the_examples() {
    let library = braid_tests::plugin_library("braid-sqlite-plugin");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("plugged.db");
    let static_db = tmp.path().join("static.db");
    let cfg = tmp.path().join("braid.toml");
    std::fs::write(
        &cfg,
        format!(
            "[default.plugins]\nlite = {library:?}\n\n\
             [default.databases.plugged]\nurl = \"sqlite://{}\"\ndriver = \"lite\"\n\n\
             [default.databases.inline]\nurl = \"sqlite://{}\"\ndriver = {{ plugin = {library:?} }}\n\n\
             [default.databases.broken]\nurl = \"sqlite://{}\"\ndriver = {{ plugin = \"{}\" }}\n",
            db.display(),
            static_db.display(),
            tmp.path().join("never.db").display(),
            tmp.path().join("libmissing.so").display(),
        ),
    )
    .unwrap();
    let m = examples();

    let up = migrate_with(
        &m,
        Some(&cfg),
        &["--format", "json", "upgrade", "heads"],
        &[],
    )
    .fails(10);
    let json = up.json();
    let by_name = |n: &str| {
        json["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == n)
            .unwrap()
            .clone()
    };
    for name in ["plugged", "inline"] {
        assert_eq!(by_name(name)["status"], "ok", "{}", up.stderr);
        assert_eq!(by_name(name)["applied"].as_array().unwrap().len(), 11);
    }
    let broken = by_name("broken");
    assert_eq!(broken["status"], "error");
    assert!(
        broken["error"].as_str().unwrap().contains("libmissing.so"),
        "{broken}"
    );

    let ok = |args: &[&str]| {
        let mut all = vec!["--db", "plugged", "--db", "inline", "--format", "json"];
        all.extend_from_slice(args);
        migrate_with(&m, Some(&cfg), &all, &[]).ok().json()
    };
    let down = ok(&["downgrade", "base"]);
    for db in down["databases"].as_array().unwrap() {
        assert_eq!(db["current"], serde_json::json!([]));
    }
    let again = ok(&["upgrade", "heads"]);
    for db in again["databases"].as_array().unwrap() {
        assert_eq!(db["applied"].as_array().unwrap().len(), 11);
    }

    // `drivers` lists the built-ins and the plugin with its versions; the broken one is an error.
    let listed = migrate_with(&m, Some(&cfg), &["--format", "json", "drivers"], &[]).fails(1);
    let json = listed.json();
    let drivers = json["drivers"].as_array().unwrap();
    assert_eq!(
        drivers.iter().filter(|d| d["kind"] == "built-in").count(),
        3
    );
    let plugin = drivers
        .iter()
        .find(|d| d["kind"] == "plugin" && d["error"].is_null())
        .expect("the plugin is listed");
    assert_eq!(plugin["dialect"], "sqlite");
    assert_eq!(plugin["abi_version"], json["abi_version"]);
    assert!(drivers.iter().any(|d| {
        d["error"]
            .as_str()
            .is_some_and(|e| e.contains("libmissing.so"))
    }));
}

#[test]
fn a_plugin_returning_garbage_fails_only_its_own_database() {
    // The fixture in a mode whose every `query` returns a row count of 2^40: before the host
    // checked counts, reserving that many rows aborted the whole process, every database with it.
    let fixture = braid_tests::plugin_library("braid-plugin-fixture");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("braid.toml");
    std::fs::write(
        &cfg,
        format!(
            "[default.databases.garbage]\nurl = \"sqlite://{}\"\ndriver = {{ plugin = {fixture:?} }}\n\n\
             [default.databases.fine]\nurl = \"sqlite://{}\"\n",
            tmp.path().join("garbage.db").display(),
            tmp.path().join("fine.db").display(),
        ),
    )
    .unwrap();
    let up = migrate_with(
        &examples(),
        Some(&cfg),
        &["--format", "json", "upgrade", "heads"],
        &[("BRAID_FIXTURE_MODE", "rows_huge_row_count")],
    )
    .fails(15);
    let json = up.json();
    let by_name = |n: &str| {
        json["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == n)
            .unwrap_or_else(|| panic!("no {n} in {json}"))
            .clone()
    };
    let fine = by_name("fine");
    assert_eq!(fine["status"], "ok", "{fine}\n{}", up.stderr);
    assert_eq!(fine["applied"].as_array().unwrap().len(), 11, "{fine}");
    let garbage = by_name("garbage");
    assert_eq!(garbage["status"], "error", "{garbage}");
    let error = garbage["error"].to_string();
    for part in [
        "plugin braid-plugin-fixture 0.1.0",
        "braid_plugin_fixture",
        "broke the plugin ABI in the rows it returned from `query`",
        "row_count is 1099511627776, over the limit of 16777216 rows",
    ] {
        assert!(error.contains(part), "{part}: {garbage}");
    }
}

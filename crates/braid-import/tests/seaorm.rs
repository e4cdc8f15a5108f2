//! Reading a sea-orm-migration crate: the fixture is one as `sea-orm-cli migrate init` lays it
//! out, with three migrations; `fixtures/sea-orm/imported/` holds what each becomes (compiled
//! and run once against Braid, so a change to the rewrite shows up here as a diff to check).

use std::path::{Path, PathBuf};

use braid_import::{Body, History, ImportError, Imported, ReadOptions, Tool};

const KEYS: [&str; 3] = [
    "m20220101_000001_create_table",
    "m20240315_101500_create_post",
    "m20240402_083000_add_post_published",
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sea-orm")
}

fn read(dir: &Path) -> Result<History, ImportError> {
    braid_import::read(Tool::SeaOrm, dir, &ReadOptions::default())
}

fn source(rev: &Imported) -> &str {
    match &rev.body {
        Body::Rust { source } => source,
        other => panic!("{}: not a Rust body: {other:?}", rev.key),
    }
}

/// The rewritten text below the header comment.
fn below_header(source: &str) -> &str {
    source.split_once("\n\n").map_or("", |(_, rest)| rest)
}

/// A migration crate in a temporary directory: `files` under `src/`.
fn crate_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join("src").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A `lib.rs` declaring `mods` and listing `vec`, as sea-orm-cli writes one.
fn lib_rs(mods: &str, vec: &str) -> String {
    format!(
        "pub use sea_orm_migration::prelude::*;\n\n{mods}\n\npub struct Migrator;\n\n\
         #[async_trait::async_trait]\nimpl MigratorTrait for Migrator {{\n    \
         fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        {vec}\n    }}\n}}\n"
    )
}

/// A migration module naming itself with `naming` (a derive or an impl).
fn module(naming: &str) -> String {
    format!(
        "use sea_orm_migration::prelude::*;\n\n{naming}\n\n#[async_trait::async_trait]\n\
         impl MigrationTrait for Migration {{\n    \
         async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {{\n        \
         Ok(())\n    }}\n\n    \
         async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {{\n        \
         Ok(())\n    }}\n}}\n"
    )
}

const DERIVED: &str = "#[derive(DeriveMigrationName)]\npub struct Migration;";

#[test]
fn reads_the_fixture_in_the_migrators_order() {
    let dir = fixture().join("migration");
    let history = read(&dir).unwrap();
    assert_eq!(history.tool, Tool::SeaOrm);
    assert_eq!(history.source, dir);
    assert_eq!(history.skipped, vec![]);
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, KEYS);
    let mut parent: Option<String> = None;
    for rev in &history.revisions {
        assert_eq!(rev.id, rev.key);
        assert_eq!(rev.name, rev.key);
        assert_eq!(rev.parents, parent.iter().cloned().collect::<Vec<_>>());
        assert!(rev.depends_on.is_empty() && rev.branch_labels.is_empty());
        assert!(rev.transactional);
        assert_eq!(rev.origin, dir.join("src").join(format!("{}.rs", rev.key)));
        parent = Some(rev.id.clone());
    }
    let messages: Vec<&str> = history
        .revisions
        .iter()
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["create table", "create post", "add post published"]
    );
    let created: Vec<String> = history
        .revisions
        .iter()
        .map(|r| r.created.unwrap().to_string())
        .collect();
    assert_eq!(
        created,
        [
            "2022-01-01T00:00:01Z",
            "2024-03-15T10:15:00Z",
            "2024-04-02T08:30:00Z"
        ]
    );
}

#[test]
fn the_crate_its_src_and_the_directory_above_read_alike() {
    let keys = |dir: PathBuf| -> Vec<String> {
        read(&dir)
            .unwrap()
            .revisions
            .into_iter()
            .map(|r| r.key)
            .collect()
    };
    let expected: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(fixture()), expected);
    assert_eq!(keys(fixture().join("migration/src")), expected);
}

#[test]
fn an_application_directory_finds_its_migration_crate() {
    let dir = crate_with(&[("lib.rs", "pub fn app() {}\n")]);
    let crate_dir = fixture().join("migration");
    for name in ["lib.rs", &format!("{}.rs", KEYS[0])] {
        let to = dir.path().join("migration/src").join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let lib = std::fs::read_to_string(crate_dir.join("src").join(name)).unwrap();
        // Only the first migration: the others are left out of the list.
        let lib = lib.replace(
            "            Box::new(m2024",
            "            // Box::new(m2024",
        );
        std::fs::write(to, lib).unwrap();
    }
    let history = read(dir.path()).unwrap();
    assert_eq!(history.revisions.len(), 1);
    assert_eq!(history.revisions[0].key, KEYS[0]);
}

#[test]
fn rewritten_sources_are_the_checked_files() {
    let history = read(&fixture()).unwrap();
    for rev in &history.revisions {
        let path = fixture().join("imported").join(format!("{}.rs", rev.key));
        if std::env::var_os("BRAID_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, source(rev)).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            source(rev),
            expected,
            "{}: the rewrite changed; rerun with BRAID_BLESS=1 and check the diff (and that it \
             still compiles against `braid::prelude`)",
            path.display()
        );
    }
}

#[test]
fn the_rewrite_changes_the_imports_and_the_name_and_nothing_else() {
    let history = read(&fixture()).unwrap();
    let rev = &history.revisions[0];
    let original = std::fs::read_to_string(&rev.origin).unwrap();
    let expected = original
        .replace(
            "use sea_orm_migration::{prelude::*, schema::*};",
            "use braid::{prelude::*, prelude::schema::*};",
        )
        .replace("#[derive(DeriveMigrationName)]\n", "")
        .replace(
            "pub struct Migration;\n",
            "pub struct Migration;\n\nimpl braid::prelude::MigrationName for Migration {\n    \
             fn name(&self) -> &str {\n        \"m20220101_000001_create_table\"\n    }\n}\n",
        );
    assert_eq!(below_header(source(rev)), expected);
    let header = source(rev).split_once("\n\n").unwrap().0;
    assert!(
        header
            .lines()
            .all(|l| l.starts_with("// ") && !l.contains("Note:")),
        "{header}"
    );
    assert!(
        header.contains("src/m20220101_000001_create_table.rs"),
        "{header}"
    );
}

#[test]
fn no_sea_orm_migration_path_or_derive_is_left() {
    let history = read(&fixture()).unwrap();
    for rev in &history.revisions {
        let code = below_header(source(rev));
        assert!(!code.contains("sea_orm_migration"), "{}:\n{code}", rev.key);
        assert!(
            !code.contains("DeriveMigrationName"),
            "{}:\n{code}",
            rev.key
        );
        let name_impl = format!(
            "impl braid::prelude::MigrationName for Migration {{\n    \
             fn name(&self) -> &str {{\n        \"{}\"\n",
            rev.key
        );
        assert!(code.contains(&name_impl), "{}:\n{code}", rev.key);
    }
    let third = source(&history.revisions[2]);
    assert!(third.contains(
        "use braid::prelude::*;\nuse braid::prelude::sea_orm::{ConnectionTrait, Statement};\n"
    ));
}

#[test]
fn a_missing_down_is_noted_at_the_top() {
    let history = read(&fixture()).unwrap();
    let notes: Vec<bool> = history
        .revisions
        .iter()
        .map(|r| {
            let header = source(r).split_once("\n\n").unwrap().0;
            header.contains("there is no `down`")
        })
        .collect();
    assert_eq!(notes, [false, false, true]);
}

#[test]
fn formatting_and_declaration_variants() {
    let lib = "pub use sea_orm_migration::prelude::*;\n\
        pub mod m20230101_000001_first;\n\
        pub(crate) mod  m20230102_000001_second ;\n\
        mod helpers;\n\
        mod m20230103_000001_forgotten;\n\n\
        pub struct Migrator;\n\n\
        #[async_trait::async_trait]\n\
        impl MigratorTrait for Migrator {\n\
            // fn migrations() in a comment does not count\n\
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n\
                vec![\n\
                    // the first one\n\
                    Box::new(\n\
                        m20230101_000001_first::Migration\n\
                    ),\n\
                    /* Box::new(m20230103_000001_forgotten::Migration), */\n\
                    Box :: new(crate::m20230102_000001_second::Migration) ,\n\
                ]\n\
            }\n\
        }\n";
    let first = module("#[derive(Debug, DeriveMigrationName)]\npub struct Migration;");
    let dir = crate_with(&[
        ("lib.rs", lib),
        ("main.rs", "fn main() {}\n"),
        ("m20230101_000001_first.rs", &first),
        ("m20230102_000001_second/mod.rs", &module(DERIVED)),
        ("m20230103_000001_forgotten.rs", &module(DERIVED)),
        ("helpers.rs", "pub const X: u8 = 1;\n"),
        ("notes.txt", "not a module\n"),
    ]);
    let history = read(dir.path()).unwrap();

    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    // `DeriveMigrationName` names a migration after its file: `mod` for `…/mod.rs`.
    assert_eq!(keys, ["m20230101_000001_first", "mod"]);
    let second = &history.revisions[1];
    assert_eq!(second.id, "m20230102_000001_second");
    assert_eq!(second.message, "second");
    assert_eq!(second.created.unwrap().to_string(), "2023-01-02T00:00:01Z");
    assert_eq!(second.parents, ["m20230101_000001_first"]);
    assert!(source(second).contains("fn name(&self) -> &str {\n        \"mod\"\n"));

    let first_source = source(&history.revisions[0]);
    assert!(
        first_source.contains(
            "#[derive(Debug)]\npub struct Migration;\n\nimpl braid::prelude::MigrationName"
        )
    );

    let skipped: Vec<(PathBuf, bool)> = history
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason.contains("never ran")))
        .collect();
    let src = dir.path().join("src");
    assert_eq!(
        skipped,
        [
            (src.join("helpers.rs"), false),
            (src.join("m20230103_000001_forgotten.rs"), true),
        ]
    );
    assert!(history.skipped[0].reason.contains("helper module"));
    assert!(
        history.skipped[1]
            .reason
            .contains("src/lib.rs does not list it")
    );
}

#[test]
fn a_derive_listed_last_or_by_path_is_removed_cleanly() {
    for (derive, left) in [
        (
            "#[derive(Clone, DeriveMigrationName)]",
            "#[derive(Clone)]\n",
        ),
        (
            "#[derive(Clone, DeriveMigrationName,)]",
            "#[derive(Clone,)]\n",
        ),
        (
            "#[derive(sea_orm_migration::prelude::DeriveMigrationName)]",
            "",
        ),
        ("    #[derive(DeriveMigrationName)]", "    "),
    ] {
        let naming = format!("{derive}\npub struct Migration;");
        let dir = crate_with(&[
            (
                "lib.rs",
                &lib_rs("mod m1;", "vec![Box::new(m1::Migration)]"),
            ),
            ("m1.rs", &module(&naming)),
        ]);
        let history = read(dir.path()).unwrap();
        let code = below_header(source(&history.revisions[0]));
        let expected =
            format!("use braid::prelude::*;\n\n{left}pub struct Migration;\n\nimpl braid");
        assert!(code.starts_with(&expected), "{derive}:\n{code}");
    }
}

#[test]
fn a_hand_written_name_is_the_key_and_is_kept() {
    let naming = "pub struct Migration;\n\nimpl MigrationName for Migration {\n    \
                  fn name(&self) -> &str {\n        \"create_users\"\n    }\n}";
    let text = module(naming);
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs(
                "mod m20240101_000000_users;",
                "vec![Box::new(m20240101_000000_users::Migration)]",
            ),
        ),
        ("m20240101_000000_users.rs", &text),
    ]);
    let history = read(dir.path()).unwrap();
    let rev = &history.revisions[0];
    assert_eq!(
        (rev.key.as_str(), rev.id.as_str()),
        ("create_users", "create_users")
    );
    assert_eq!(rev.message, "create users");
    assert_eq!(rev.created, None);
    let expected = text.replace(
        "use sea_orm_migration::prelude::*;",
        "use braid::prelude::*;",
    );
    assert_eq!(below_header(source(rev)), expected);
}

#[test]
fn paths_are_rerooted_outside_comments_and_strings() {
    let text = "use sea_orm_migration::{self, prelude::*, sea_orm::Statement, MigrationTrait};\n\
        use ::sea_orm::DbBackend;\n\n\
        #[derive(DeriveMigrationName)]\npub struct Migration;\n\n\
        // sea_orm_migration::prelude in a comment\n\
        #[async_trait::async_trait]\n\
        impl MigrationTrait for Migration {\n\
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {\n\
                let _ = (sea_query::Alias::new(\"sea_orm_migration::x\"), DbBackend::Sqlite);\n\
                let _ = sea_orm_migration::sea_orm::DbBackend::Postgres;\n\
                Ok(())\n\
            }\n\
            fn use_transaction(&self) -> Option<bool> { Some(false) }\n\
        }\n";
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs("mod m1;", "vec![Box::new(m1::Migration)]"),
        ),
        ("m1.rs", text),
    ]);
    let history = read(dir.path()).unwrap();
    let rev = &history.revisions[0];
    let code = source(rev);
    assert!(code.contains(
        "use braid::{seaorm::sea_orm_migration, prelude::*, prelude::sea_orm::Statement, \
         seaorm::sea_orm_migration::MigrationTrait};\nuse braid::prelude::sea_orm::DbBackend;\n"
    ));
    assert!(code.contains("// sea_orm_migration::prelude in a comment\n"));
    assert!(code.contains("(braid::prelude::sea_query::Alias::new(\"sea_orm_migration::x\")"));
    assert!(code.contains("let _ = braid::prelude::sea_orm::DbBackend::Postgres;"));
    assert!(code.contains("there is no `down`"));
    assert!(!rev.transactional, "use_transaction() -> Some(false)");
}

#[test]
fn uses_of_other_modules_are_noted() {
    let text = module(DERIVED).replace(
        "use sea_orm_migration::prelude::*;\n",
        "use sea_orm_migration::prelude::*;\nuse super::m0::User;\n",
    );
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs("mod m1;", "vec![Box::new(m1::Migration)]"),
        ),
        ("m1.rs", &text),
    ]);
    let history = read(dir.path()).unwrap();
    let header = source(&history.revisions[0]).split_once("\n\n").unwrap().0;
    assert!(header.contains("it uses `super::m0`"), "{header}");
}

#[test]
fn another_struct_name_is_loaded_as_migration() {
    let text = module("#[derive(DeriveMigrationName)]\npub struct CreateUsers;")
        .replace("for Migration", "for CreateUsers");
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs("mod m1;", "vec![Box::new(m1::CreateUsers)]"),
        ),
        ("m1.rs", &text),
    ]);
    let code = source(&read(dir.path()).unwrap().revisions[0]).to_string();
    assert!(code.contains("impl braid::prelude::MigrationName for CreateUsers {"));
    assert!(code.ends_with("\npub(super) use self::CreateUsers as Migration;\n"));
}

// Errors

#[test]
fn an_empty_directory_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::Empty {
                tool: Tool::SeaOrm,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("sea-orm-cli migrate init"),
        "{err}"
    );
}

#[test]
fn an_empty_list_is_empty() {
    let dir = crate_with(&[("lib.rs", &lib_rs("", "vec![]"))]);
    let err = read(dir.path()).unwrap_err();
    assert!(matches!(err, ImportError::Empty { .. }), "{err}");
}

#[test]
fn a_listed_module_without_a_file_is_an_error() {
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs(
                "mod m1;\nmod m2;",
                "vec![Box::new(m1::Migration), Box::new(m2::Migration)]",
            ),
        ),
        ("m1.rs", &module(DERIVED)),
    ]);
    let err = read(dir.path()).unwrap_err();
    let ImportError::Layout {
        path,
        problem,
        hint,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(path, &dir.path().join("src/m2.rs"));
    assert!(
        problem.contains("lists `m2`") && problem.contains("m2/mod.rs"),
        "{problem}"
    );
    assert!(hint.contains("restore the file"), "{hint}");
}

#[test]
fn unreadable_migrators_are_parse_errors_with_lines() {
    let signature = "fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n";
    let cases = [
        (
            "pub struct Migrator;\n".to_string(),
            None,
            "no `fn migrations()`",
        ),
        (
            format!("{signature}    let v = Vec::new();\n    v\n}}\n"),
            Some(1),
            "does not return a `vec![…]`",
        ),
        (
            format!("{signature}    vec![\n        m1::Migration.boxed(),\n    ]\n}}\n"),
            Some(3),
            "cannot read `m1::Migration.boxed()`",
        ),
        (
            format!(
                "{signature}    vec![Box::new(m1::Migration),\n    Box::new(m1::Migration)]\n}}\n"
            ),
            Some(3),
            "`m1` is listed twice",
        ),
        (
            "const X: &str = \"open;\n".to_string(),
            Some(1),
            "never closed",
        ),
    ];
    for (lib, line, problem) in cases {
        let dir = crate_with(&[("lib.rs", &lib), ("m1.rs", &module(DERIVED))]);
        let err = read(dir.path()).unwrap_err();
        let ImportError::Parse {
            path,
            line: at,
            problem: said,
        } = &err
        else {
            panic!("{lib}: {err}");
        };
        assert_eq!(path, &dir.path().join("src/lib.rs"));
        assert_eq!(*at, line, "{lib}: {err}");
        assert!(said.contains(problem), "{lib}: {err}");
    }
}

#[test]
fn a_name_that_is_not_a_literal_is_an_error() {
    let naming = "pub struct Migration;\nimpl MigrationName for Migration {\n    \
                  fn name(&self) -> &str {\n        NAME\n    }\n}";
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs("mod m1;", "vec![Box::new(m1::Migration)]"),
        ),
        ("m1.rs", &module(naming)),
    ]);
    let err = read(dir.path()).unwrap_err();
    let ImportError::Parse { line, problem, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*line, Some(5));
    assert!(problem.contains("string literal"), "{err}");
}

#[test]
fn a_module_without_a_name_is_an_error() {
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs("mod m1;", "vec![Box::new(m1::Migration)]"),
        ),
        ("m1.rs", &module("pub struct Migration;")),
    ]);
    let err = read(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("neither `#[derive(DeriveMigrationName)]"),
        "{err}"
    );
}

#[test]
fn two_modules_with_one_name_are_a_duplicate() {
    let naming = "pub struct Migration;\nimpl MigrationName for Migration {\n    \
                  fn name(&self) -> &str { \"same\" }\n}";
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs(
                "mod a;\nmod b;",
                "vec![Box::new(a::Migration), Box::new(b::Migration)]",
            ),
        ),
        ("a.rs", &module(naming)),
        ("b.rs", &module(naming)),
    ]);
    let err = read(dir.path()).unwrap_err();
    let ImportError::Duplicate {
        key, first, second, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(key, "same");
    assert_eq!(first, &dir.path().join("src/a.rs"));
    assert_eq!(second, &dir.path().join("src/b.rs"));
}

#[test]
fn an_inline_module_is_an_error() {
    let dir = crate_with(&[(
        "lib.rs",
        &lib_rs(
            "mod m1 { pub struct Migration; }",
            "vec![Box::new(m1::Migration)]",
        ),
    )]);
    let err = read(dir.path()).unwrap_err();
    assert!(
        matches!(&err, ImportError::Layout { hint, .. } if hint.contains("move it to `m1.rs`")),
        "{err}"
    );
}

#[test]
fn a_path_attribute_is_followed() {
    let dir = crate_with(&[
        (
            "lib.rs",
            &lib_rs(
                "#[path = \"m/first.rs\"]\nmod m1;",
                "vec![Box::new(m1::Migration)]",
            ),
        ),
        ("m/first.rs", &module(DERIVED)),
    ]);
    let history = read(dir.path()).unwrap();
    assert_eq!(history.revisions[0].key, "first");
    assert_eq!(
        history.revisions[0].origin,
        dir.path().join("src/m/first.rs")
    );
}

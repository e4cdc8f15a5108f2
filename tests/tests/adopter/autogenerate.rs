//! `generate --autogenerate` and `check --models` in the adopter workspace, as its developers
//! use them: entities edited in `app/src/entities`, `cargo xtask migrate …` rebuilt by cargo
//! with them, on SQLite, Postgres and MariaDB at once (one configured database of each, so every
//! comparison and every `verify` covers the three backends).

use std::path::Path;

use braid_tests::{MysqlTarget, PostgresTarget};
use serde_json::Value;

use super::support::{Run, with_db};
use super::{adopter_copy, cargo, serial};

/// `cargo xtask migrate <args>` in the workspace at `root`, with its own config.
fn migrate(root: &Path, args: &[&str]) -> Run {
    cargo(
        root,
        &[&["--locked", "xtask", "migrate"], args].concat(),
        &[],
    )
}

/// The adopter workspace with no migrations yet and three databases: SQLite, and the two
/// servers' fresh databases.
fn empty_workspace(root: &Path, pg: &str, my: &str) {
    let migrations = root.join("migrations");
    std::fs::remove_dir_all(&migrations).unwrap();
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        root.join("config/braid.toml"),
        format!(
            "[default]\nmigrations = \"migrations\"\n\n\
             [default.databases.lite]\nurl = \"sqlite://.braid/lite.db\"\n\n\
             [default.databases.pg]\nurl = \"{pg}\"\n\n\
             [default.databases.my]\nurl = \"{my}\"\n"
        ),
    )
    .unwrap();
}

/// Edits an entity file of the workspace: `from` must be in it.
fn edit(root: &Path, entity: &str, from: &str, to: &str) {
    let path = root.join("app/src/entities").join(format!("{entity}.rs"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{entity}.rs has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// `generate --autogenerate` in JSON.
fn autogenerate(root: &Path, message: &str, more: &[&str]) -> Value {
    let args = [
        &[
            "--format",
            "json",
            "generate",
            "--autogenerate",
            "-m",
            message,
        ],
        more,
    ]
    .concat();
    migrate(root, &args).ok().json()
}

/// Each change written, as its summary line (`+ table users`), sorted.
fn written(done: &Value) -> Vec<String> {
    let mut lines: Vec<String> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut line = s["change"].as_str().unwrap().to_string();
            // A rename's names; an altered column's types are the backend's spelling.
            let names: &[&str] = if line.starts_with("rename") {
                &["table", "column", "from", "to"]
            } else {
                &["table", "column"]
            };
            for key in names {
                if let Some(v) = s[*key].as_str() {
                    line.push_str(&format!(" {v}"));
                }
            }
            if let Some(columns) = s["columns"].as_array() {
                let c: Vec<&str> = columns.iter().map(|c| c.as_str().unwrap()).collect();
                line.push_str(&format!(" ({})", c.join(", ")));
            }
            line
        })
        .collect();
    lines.sort();
    lines
}

/// `migration.rs` of the revision `done` wrote.
fn migration_rs(root: &Path, done: &Value) -> String {
    let file = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .find(|f| f.ends_with("migration.rs"))
        .expect("a migration.rs was written");
    std::fs::read_to_string(root.join(file)).unwrap()
}

/// verify (up, down, up on every backend), upgrade every database, then `check --models`.
fn proven(root: &Path) {
    migrate(root, &["verify"]).ok();
    migrate(root, &["upgrade"]).ok();
    let check = migrate(root, &["check", "--models"]).ok();
    assert!(check.stdout.starts_with("ok:"), "{}", check.stdout);
}

#[test]
fn autogenerate_writes_what_the_entities_changed_and_check_models_agrees() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let root = adopter_copy(&tmp.path().join("shop"));
    with_db::<PostgresTarget>(|pg| {
        with_db::<MysqlTarget>(|my| {
            empty_workspace(&root, &pg.url, &my.url);
            whole_loop(&root);
        })
    });
}

fn whole_loop(root: &Path) {
    // An empty history: every entity is a new table, in an order the backends accept.
    let first = autogenerate(root, "create the shop", &[]);
    assert_eq!(
        written(&first),
        [
            "add_index user_preferences (user_id)",
            "create_table accounts",
            "create_table orders",
            "create_table user_preferences",
            "create_table users",
        ]
    );
    let source = migration_rs(root, &first);
    let users = source.find("table(\"users\")").unwrap();
    let preferences = source.find("table(\"user_preferences\")").unwrap();
    assert!(users < preferences, "{source}");
    proven(root);
    let again = autogenerate(root, "nothing", &[]);
    assert!(again["revision"].is_null(), "{again}");
    assert!(again["steps"].as_array().unwrap().is_empty(), "{again}");

    // A nullable column, an index, a table with a foreign key, a wider column: only those.
    edit(
        root,
        "user",
        "    pub display_name: String,\n",
        "    pub display_name: String,\n    \
         #[sea_orm(unique, column_type = \"String(StringLen::N(40))\")]\n    \
         pub referral: Option<String>,\n    pub nickname: Option<String>,\n",
    );
    edit(
        root,
        "order",
        "    #[sea_orm(default_value = 0)]",
        "    #[sea_orm(default_value = 0, indexed)]",
    );
    edit(
        root,
        "user_preference",
        "String(StringLen::N(100))",
        "String(StringLen::N(200))",
    );
    add_tags_entity(root);
    let differ = migrate(root, &["check", "--models"]).fails(16);
    assert!(
        differ
            .stdout
            .contains("models: + table tags (lite, my, pg)\n"),
        "{}",
        differ.stdout
    );
    let second = autogenerate(root, "tags and nicknames", &[]);
    assert_eq!(
        written(&second),
        [
            "add_column users nickname",
            "add_column users referral",
            "add_index orders (total_cents)",
            "add_index users (referral)",
            "alter_column user_preferences name",
            "create_table items",
            "create_table tags",
        ]
    );
    // SQLite stores `varchar(100)` and `varchar(200)` alike: the wider column is for the
    // servers only.
    let alter = second["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["change"] == "alter_column")
        .unwrap();
    // `--db NAME` reads that database, which must be at the heads first.
    let behind = migrate(
        root,
        &["--db", "pg", "generate", "--autogenerate", "-m", "live"],
    )
    .fails(1);
    assert!(
        behind.stderr.contains("not at the heads"),
        "{}",
        behind.stderr
    );
    let mut on: Vec<&str> = alter["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    on.sort();
    assert_eq!(on, ["mysql", "postgres"]);
    assert!(
        migration_rs(root, &second)
            .contains("if matches!(backend, DbBackend::MySql | DbBackend::Postgres)"),
        "the wider column is guarded"
    );
    proven(root);
    let live = migrate(
        root,
        &[
            "--db",
            "pg",
            "--format",
            "json",
            "generate",
            "--autogenerate",
            "-m",
            "live",
        ],
    )
    .ok()
    .json();
    assert_eq!(live["comparison"]["backends"][0]["against"], "live");
    assert!(live["revision"].is_null(), "{live}");

    // A field removed: nothing destructive is written, and the output says why.
    edit(root, "user", "    pub nickname: Option<String>,\n", "");
    let removed = autogenerate(root, "drop nickname", &[]);
    assert!(removed["revision"].is_null(), "{removed}");
    assert!(removed["steps"].as_array().unwrap().is_empty(), "{removed}");
    let withheld = &removed["withheld"][0];
    assert_eq!(withheld["change"], "drop_column");
    assert_eq!(withheld["column"], "nickname");
    assert!(
        withheld["reason"]
            .as_str()
            .unwrap()
            .contains("--allow-drop"),
        "{withheld}"
    );

    // The same field under another name, with the hint: a rename, not a drop and an add.
    edit(
        root,
        "user",
        "    pub referral: Option<String>,\n",
        "    pub referral: Option<String>,\n    pub handle: Option<String>,\n",
    );
    // A mistyped hint is refused: the drop it was meant to stop would go through.
    let typo = migrate(
        root,
        &[
            "generate",
            "--autogenerate",
            "-m",
            "rename nickname",
            "--rename",
            "users.nicknme=handle",
        ],
    )
    .fails(1);
    assert!(typo.stderr.contains("matched nothing"), "{}", typo.stderr);
    let renamed = autogenerate(
        root,
        "rename nickname",
        &["--rename", "users.nickname=handle"],
    );
    assert_eq!(written(&renamed), ["rename_column users nickname handle"]);
    assert!(
        renamed["withheld"].as_array().unwrap().is_empty(),
        "{renamed}"
    );
    proven(root);

    // Drops, allowed: `down` recreates what they dropped, as the migrations had made it.
    edit(root, "user", "    pub handle: Option<String>,\n", "");
    for gone in ["tag", "item"] {
        edit(root, "mod", &format!("pub mod {gone};\n"), "");
        edit(
            root,
            "mod",
            &format!("        .entity({gone}::Entity)\n"),
            "",
        );
    }
    let dropped = autogenerate(root, "drop handle, tags and items", &["--allow-drop"]);
    assert_eq!(
        written(&dropped),
        [
            "drop_column users handle",
            "drop_table items",
            "drop_table tags"
        ]
    );
    proven(root);
}

/// `items`: a column of each common type, so that writing it (and, when it is dropped,
/// writing it back from each backend's own schema) is proven on every backend.
const ITEM: &str = r#"use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub tiny: i8,
    pub small: i16,
    pub big: i64,
    pub unsigned: u32,
    pub ratio: f32,
    pub weight: f64,
    #[sea_orm(default_value = true)]
    pub active: bool,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Char(Some(3))")]
    pub currency: String,
    #[sea_orm(column_type = "String(StringLen::N(50))", default_value = "new")]
    pub status: String,
    pub data: Vec<u8>,
    pub note: Option<String>,
    #[sea_orm(default_value = 7)]
    pub stock: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
"#;

/// Two new entities: `tags`, with a foreign key to `users`, and `items` ([`ITEM`]).
fn add_tags_entity(root: &Path) {
    let dir = root.join("app/src/entities");
    std::fs::write(
        dir.join("tag.rs"),
        r#"use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub label: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
"#,
    )
    .unwrap();
    std::fs::write(dir.join("item.rs"), ITEM).unwrap();
    let module = dir.join("mod.rs");
    let text = std::fs::read_to_string(&module).unwrap();
    let text = text
        .replace("pub mod order;\n", "pub mod item;\npub mod order;\npub mod tag;\n")
        .replace(
            "        .entity(order::Entity)\n",
            "        .entity(order::Entity)\n        .entity(tag::Entity)\n        .entity(item::Entity)\n",
        );
    std::fs::write(module, text).unwrap();
}

//! sea-orm-migration: a migration crate, as `sea-orm-cli migrate init` lays it out, read as Braid
//! Rust revisions.
//!
//! # Where
//!
//! The directory is the migration crate (holding `src/lib.rs`), its `src`, a module directory
//! holding `mod.rs` (sea-orm-cli's layout for migrations kept inside an application), or a
//! directory holding `migration/` (sea-orm-cli's default `--migration-dir`). The file defining
//! `Migrator` is found as sea-orm-cli finds it: under `src/` when there is one, `lib.rs`, else
//! `mod.rs`.
//!
//! # Order
//!
//! Sea-orm runs what `Migrator::migrations()` lists, in that order, so Braid reads its
//! `vec![Box::new(<module>::Migration), …]` (hand-parsed: comments, line breaks and trailing
//! commas are fine). A listed module without a file is an error: sea-orm could not have built
//! it. A module file the list leaves out is skipped, with why, since sea-orm never ran it.
//!
//! # Keys
//!
//! `seaql_migrations.version` holds `MigrationName::name()`. `#[derive(DeriveMigrationName)]`
//! returns the stem of the file holding the derive (`file!()`, sea-orm-macros'
//! `derives/migration.rs`): the module's name for `m…_x.rs`, but `mod` for `m…_x/mod.rs`, in
//! which case the module's name gives the Braid id, message and date. A hand-written
//! `impl MigrationName` returns its string literal.
//!
//! # The rewrite
//!
//! Braid compiles each Rust revision as a module of the crate that runs it, which depends on
//! `braid` and not on sea-orm-migration. So every path rooted at `sea_orm_migration`,
//! `sea_orm` or `sea_query` is rooted at `braid::prelude` (which re-exports sea-orm-migration's
//! prelude, `schema`, `sea_orm`, `sea_query` and `async_trait`; anything else goes through
//! `braid::seaorm::sea_orm_migration`). `#[derive(DeriveMigrationName)]` expands to a path
//! through `sea_orm_migration` and would name the migration after Braid's file, so it is
//! replaced by an explicit `impl MigrationName` returning the key. `#[async_trait::async_trait]`
//! stays: `async_trait` comes with the prelude's glob import. Everything else is kept byte for
//! byte, under a comment saying what changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{
    Body, History, ImportError, Imported, Skipped, Tool, braid_id, chain, message_from_name,
};

/// What the hints name as the expected layout.
const EXPECTED: &str = "expected a sea-orm-migration crate (`src/lib.rs` with `impl \
                        MigratorTrait for Migrator`, as `sea-orm-cli migrate init` writes it), \
                        its `src`, or a module directory with `mod.rs`";

/// Reads the migration crate at `dir` (see the module docs for what it accepts and keeps).
pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let layout = Layout::find(dir)?;
    let migrator = Parsed::read(&layout.migrator)?;
    let listed = listed_migrations(&migrator)?;
    if listed.is_empty() {
        return Err(ImportError::Empty {
            tool: Tool::SeaOrm,
            dir: dir.to_path_buf(),
            hint: format!(
                "`Migrator::migrations()` in {} lists none",
                layout.migrator.display()
            ),
        });
    }
    let declared = module_declarations(&migrator);
    let mut revisions = Vec::with_capacity(listed.len());
    for entry in &listed {
        let path = module_file(&layout, entry, declared.get(&entry.module))?;
        revisions.push(import_module(&layout, entry, &path)?);
    }
    check_unique(&revisions)?;
    chain(&mut revisions);
    let skipped = unlisted_modules(&layout, &revisions)?;
    Ok(History {
        tool: Tool::SeaOrm,
        source: dir.to_path_buf(),
        revisions,
        skipped,
    })
}

// ---------------------------------------------------------------------------------------------
// Layout

/// Where the migrator file and its modules are.
struct Layout {
    /// The directory the modules' files are in (the migrator file's directory).
    base: PathBuf,
    /// `lib.rs` or `mod.rs`: defines `Migrator` and declares the modules.
    migrator: PathBuf,
}

impl Layout {
    /// sea-orm-cli's own lookup (`get_migrator_filepath` in its `commands/migrate.rs`) in `dir`
    /// and in the `migration/` it defaults to, so that an application's directory works too:
    /// the first whose file defines `fn migrations` (else the first found, to say what is wrong
    /// with it).
    fn find(dir: &Path) -> Result<Layout, ImportError> {
        std::fs::metadata(dir).map_err(|e| ImportError::io(dir, e))?;
        let mut found: Vec<Layout> = [dir.to_path_buf(), dir.join("migration")]
            .iter()
            .filter_map(|d| Layout::at(d))
            .collect();
        let defines_migrator = |l: &Layout| {
            std::fs::read_to_string(&l.migrator).is_ok_and(|text| text.contains("fn migrations"))
        };
        let pick = found.iter().position(defines_migrator).unwrap_or(0);
        if pick < found.len() {
            return Ok(found.swap_remove(pick));
        }
        Err(ImportError::Empty {
            tool: Tool::SeaOrm,
            dir: dir.to_path_buf(),
            hint: format!("{EXPECTED}; pass the directory that holds it"),
        })
    }

    fn at(dir: &Path) -> Option<Layout> {
        let src = dir.join("src");
        let base = if src.is_dir() { src } else { dir.to_path_buf() };
        ["lib.rs", "mod.rs"]
            .into_iter()
            .map(|name| base.join(name))
            .find(|file| file.is_file())
            .map(|migrator| Layout { base, migrator })
    }

    /// `path` as the header comment and messages show it: relative to the crate when it can be.
    fn shown(&self, path: &Path) -> String {
        let root = if self.base.ends_with("src") {
            self.base.parent().unwrap_or(&self.base)
        } else {
            &self.base
        };
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// The migrator: which modules, in which order

/// One entry of `Migrator::migrations()`: `Box::new(<module>::<strukt>)`.
struct Listed {
    module: String,
    strukt: String,
    line: usize,
}

/// The entries of `Migrator::migrations()`'s `vec![…]`, in order.
fn listed_migrations(src: &Parsed) -> Result<Vec<Listed>, ImportError> {
    let (fn_at, body_close) = migrations_fn(src)?;
    let (open, close) = vec_literal(src, fn_at, body_close)?;
    let mut listed: Vec<Listed> = Vec::new();
    for (from, to) in src.items(open + 1, close) {
        let entry = listed_entry(src, from, to)?;
        if let Some(first) = listed.iter().find(|l| l.module == entry.module) {
            return Err(src.error_at(
                from,
                format!(
                    "`{}` is listed twice in `Migrator::migrations()` (lines {} and {}); \
                     remove one, then import again",
                    entry.module, first.line, entry.line
                ),
            ));
        }
        listed.push(entry);
    }
    Ok(listed)
}

/// The `fn migrations` token and the closing brace of its body.
fn migrations_fn(src: &Parsed) -> Result<(usize, usize), ImportError> {
    let missing = || ImportError::Parse {
        path: src.path.clone(),
        line: None,
        problem: format!(
            "no `fn migrations()` with a body: this is not the file defining sea-orm-migration's \
             `Migrator`; {EXPECTED}"
        ),
    };
    let fn_at = (0..src.tokens.len())
        .find(|&i| src.is_ident(i, "fn") && src.is_ident(i + 1, "migrations"))
        .ok_or_else(missing)?;
    let open = (fn_at + 2..src.tokens.len())
        .take_while(|&i| !src.is_punct(i, ';'))
        .find(|&i| src.is_punct(i, '{'))
        .ok_or_else(missing)?;
    let close = src
        .matching(open)
        .ok_or_else(|| src.error_at(open, "this brace is never closed".to_string()))?;
    Ok((fn_at, close))
}

/// The delimiters of the `vec![…]` in `fn migrations`.
fn vec_literal(
    src: &Parsed,
    fn_at: usize,
    body_close: usize,
) -> Result<(usize, usize), ImportError> {
    (fn_at..body_close)
        .find(|&i| {
            src.is_ident(i, "vec")
                && src.is_punct(i + 1, '!')
                && ['[', '(', '{'].iter().any(|&c| src.is_punct(i + 2, c))
        })
        .and_then(|i| Some((i + 2, src.matching(i + 2)?)))
        .ok_or_else(|| {
            src.error_at(
                fn_at,
                "`Migrator::migrations()` does not return a `vec![…]`; Braid takes the order from \
                 that list: write it as `vec![Box::new(<module>::Migration), …]`, then import \
                 again"
                    .to_string(),
            )
        })
}

/// `Box::new(<module>::<Struct>)` (also `crate::<module>`, `self::<module>`,
/// `std::boxed::Box::new`).
fn listed_entry(src: &Parsed, from: usize, to: usize) -> Result<Listed, ImportError> {
    let unreadable = |problem: &str| {
        src.error_at(
            from,
            format!(
                "cannot read `{}` in `Migrator::migrations()`: {problem}",
                src.snippet(from, to)
            ),
        )
    };
    let (inner_from, inner_to) = unbox(src, from, to)
        .ok_or_else(|| unreadable("expected `Box::new(<module>::Migration)`"))?;
    let (segments, end) = src.path(inner_from);
    if end != inner_to {
        return Err(unreadable("expected `Box::new(<module>::Migration)`"));
    }
    let start = segments
        .iter()
        .take_while(|s| *s == "crate" || *s == "self")
        .count();
    match &segments[start..] {
        [module, strukt] => Ok(Listed {
            module: module.clone(),
            strukt: strukt.clone(),
            line: src.line(from),
        }),
        _ => Err(unreadable(
            "Braid reads the modules this file declares, named as `<module>::Migration`",
        )),
    }
}

/// The argument of `Box::new(…)` when the tokens `from..to` are exactly that call.
fn unbox(src: &Parsed, from: usize, to: usize) -> Option<(usize, usize)> {
    let (segments, open) = src.path(from);
    let boxed = segments.len() >= 2 && segments[segments.len() - 2..] == ["Box", "new"];
    (boxed && src.is_punct(open, '(') && src.matching(open) == Some(to - 1))
        .then_some((open + 1, to - 1))
}

/// How the migrator declares a module.
struct ModDecl {
    /// `#[path = "…"]`, relative to the migrator's directory.
    path: Option<String>,
    /// `mod x { … }`: no file of its own.
    inline: bool,
}

/// Every `mod x;` / `pub mod x;` / `mod x { … }` of the migrator, by name, with its `#[path]`.
fn module_declarations(src: &Parsed) -> HashMap<String, ModDecl> {
    let mut declared = HashMap::new();
    let mut path_attr: Option<String> = None;
    let mut i = 0;
    while i < src.tokens.len() {
        if src.is_punct(i, '#') && src.is_punct(i + 1, '[') {
            let close = src.matching(i + 1).unwrap_or(src.tokens.len());
            path_attr = path_attr.or_else(|| path_attribute(src, i + 1));
            i = close + 1;
            continue;
        }
        if src.is_ident(i, "pub") {
            i += 1;
            if src.is_punct(i, '(') {
                i = src.matching(i).map_or(src.tokens.len(), |c| c + 1);
            }
            continue;
        }
        if src.is_ident(i, "mod") && src.kind(i + 1) == Some(Kind::Ident) {
            let inline = src.is_punct(i + 2, '{');
            let decl = ModDecl {
                path: path_attr.take(),
                inline,
            };
            declared.insert(src.text_of(i + 1).to_string(), decl);
            i += 2;
            continue;
        }
        path_attr = None;
        i += 1;
    }
    declared
}

/// `path = "…"` inside the attribute opening at `open`.
fn path_attribute(src: &Parsed, open: usize) -> Option<String> {
    let literal = open + 3;
    (src.is_ident(open + 1, "path")
        && src.is_punct(open + 2, '=')
        && src.kind(literal) == Some(Kind::Str))
    .then(|| string_value(src.text_of(literal)))
    .flatten()
}

/// The file of a listed module: its `#[path]`, `<module>.rs`, or `<module>/mod.rs`.
fn module_file(
    layout: &Layout,
    entry: &Listed,
    decl: Option<&ModDecl>,
) -> Result<PathBuf, ImportError> {
    let listed_at = || format!("`Migrator::migrations()` lists `{}`", entry.module);
    if let Some(decl) = decl {
        if decl.inline {
            return Err(ImportError::Layout {
                path: layout.migrator.clone(),
                problem: format!(
                    "{}, written inline (`mod {} {{ … }}`)",
                    listed_at(),
                    entry.module
                ),
                hint: format!(
                    "Braid imports each migration from a file of its own: move it to `{}.rs`, \
                     then import again",
                    entry.module
                ),
            });
        }
        if let Some(path) = &decl.path {
            let file = layout.base.join(path);
            return if file.is_file() {
                Ok(file)
            } else {
                Err(ImportError::Layout {
                    path: file,
                    problem: format!("{}, whose `#[path]` names no file", listed_at()),
                    hint: "restore the file, or remove it from the list if it never ran"
                        .to_string(),
                })
            };
        }
    }
    let flat = layout.base.join(format!("{}.rs", entry.module));
    let nested = layout.base.join(&entry.module).join("mod.rs");
    match (flat.is_file(), nested.is_file()) {
        (true, false) => Ok(flat),
        (false, true) => Ok(nested),
        (true, true) => Err(ImportError::Layout {
            path: flat,
            problem: format!(
                "{}, which is both this file and {}",
                listed_at(),
                nested.display()
            ),
            hint: "Rust refuses that too: delete the one that is not used, then import again"
                .to_string(),
        }),
        (false, false) => Err(ImportError::Layout {
            path: flat,
            problem: format!(
                "{}, but neither this file nor {} exists",
                listed_at(),
                nested.display()
            ),
            hint: "restore the file, or remove it from the list if it never ran, then import again"
                .to_string(),
        }),
    }
}

/// The `.rs` files and module directories beside the migrator that no listed entry imported.
fn unlisted_modules(layout: &Layout, imported: &[Imported]) -> Result<Vec<Skipped>, ImportError> {
    let entries = std::fs::read_dir(&layout.base).map_err(|e| ImportError::io(&layout.base, e))?;
    let mut skipped = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ImportError::io(&layout.base, e))?;
        let path = entry.path();
        let Some((module, file)) = module_of(&path) else {
            continue;
        };
        if file == layout.migrator || imported.iter().any(|rev| rev.origin == file) {
            continue;
        }
        skipped.push(Skipped {
            reason: unlisted_reason(&module, layout),
            path,
        });
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(skipped)
}

/// The module a directory entry would be (`x.rs` or `x/mod.rs`), and its file; `None` for what
/// is not a module (`main.rs`, `lib.rs`, other files).
fn module_of(path: &Path) -> Option<(String, PathBuf)> {
    let name = path.file_name()?.to_str()?;
    if path.is_dir() {
        let file = path.join("mod.rs");
        return file.is_file().then(|| (name.to_string(), file));
    }
    let module = name.strip_suffix(".rs")?;
    let crate_root = ["lib", "main", "mod"].contains(&module);
    (!crate_root && path.is_file()).then(|| (module.to_string(), path.to_path_buf()))
}

/// Why an unlisted module is not imported: a migration sea-orm never ran, or a helper.
fn unlisted_reason(module: &str, layout: &Layout) -> String {
    let list = format!(
        "`Migrator::migrations()` in {}",
        layout.shown(&layout.migrator)
    );
    if dated(module).is_some() {
        format!(
            "{list} does not list it, so sea-orm never ran it; list it there and import again \
             if it should run"
        )
    } else {
        format!(
            "{list} does not list it, and its name is not a migration's (a helper module?); \
             Braid compiles each migration on its own, so a migration that uses it needs what \
             it uses copied into its file"
        )
    }
}

// ---------------------------------------------------------------------------------------------
// One migration module

/// The revision for one listed module, read from `path`.
fn import_module(layout: &Layout, entry: &Listed, path: &Path) -> Result<Imported, ImportError> {
    let src = Parsed::read(path)?;
    let naming = migration_name(&src, &entry.strukt)?;
    let stem = file_stem(path);
    let key = match &naming {
        Naming::Written(name) => name.clone(),
        Naming::Derived(_) => stem.clone(),
    };
    // A derived name of `mod` (the file of `m…_x/mod.rs`) says nothing: the module's name does.
    let label = match &naming {
        Naming::Derived(_) if stem == "mod" => entry.module.as_str(),
        _ => key.as_str(),
    };
    let source = rewrite(&src, &naming, &key, &entry.strukt, &layout.shown(path));
    Ok(Imported {
        id: braid_id(label),
        name: key.clone(),
        parents: Vec::new(),
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        message: message_of(label),
        created: dated(label),
        transactional: !opts_out_of_transaction(&src),
        body: Body::Rust { source },
        origin: path.to_path_buf(),
        key,
    })
}

/// How a module names its migration.
enum Naming {
    /// `#[derive(DeriveMigrationName)]`: the file's stem.
    Derived(Derive),
    /// `impl MigrationName` returning this literal.
    Written(String),
}

/// Where `#[derive(…, DeriveMigrationName, …)]` sits (token indices).
struct Derive {
    /// The `#` and the closing `]`.
    attr: (usize, usize),
    /// The derive list's entries, and which one is `DeriveMigrationName`.
    list: Vec<(usize, usize)>,
    which: usize,
    /// The last token of the struct it applies to.
    item_end: usize,
}

/// How the module names `strukt`'s migration: one derive or one impl, as sea-orm needs.
fn migration_name(src: &Parsed, strukt: &str) -> Result<Naming, ImportError> {
    let written = written_name(src, strukt)?;
    let derived = find_derive(src, strukt);
    match (written, derived) {
        (Some(name), None) => Ok(Naming::Written(name)),
        (None, Some(derive)) => Ok(Naming::Derived(derive)),
        (Some(_), Some(derive)) => Err(src.error_at(
            derive.attr.0,
            format!(
                "`{strukt}` both derives `DeriveMigrationName` and implements `MigrationName`; \
                 keep one, then import again"
            ),
        )),
        (None, None) => Err(ImportError::Parse {
            path: src.path.clone(),
            line: None,
            problem: format!(
                "neither `#[derive(DeriveMigrationName)] struct {strukt}` nor `impl MigrationName \
                 for {strukt}`, so Braid cannot tell the name seaql_migrations records for it; \
                 add one, then import again"
            ),
        }),
    }
}

/// The literal that `impl MigrationName for <strukt>` returns, if there is such an impl.
fn written_name(src: &Parsed, strukt: &str) -> Result<Option<String>, ImportError> {
    let Some(open) = (0..src.tokens.len()).find_map(|i| name_impl_body(src, i, strukt)) else {
        return Ok(None);
    };
    let close = src.matching(open).unwrap_or(src.tokens.len());
    let not_literal = |at: usize| {
        src.error_at(
            at,
            "`MigrationName::name` does not return a string literal, so Braid cannot tell the \
             name seaql_migrations records; make it return that name as a literal, then import \
             again"
                .to_string(),
        )
    };
    let fn_at = (open..close)
        .find(|&i| src.is_ident(i, "fn") && src.is_ident(i + 1, "name"))
        .ok_or_else(|| not_literal(open))?;
    let body = (fn_at..close)
        .find(|&i| src.is_punct(i, '{'))
        .ok_or_else(|| not_literal(fn_at))?;
    let literal = body + 1;
    if src.kind(literal) != Some(Kind::Str) || !src.is_punct(literal + 1, '}') {
        return Err(not_literal(fn_at));
    }
    string_value(src.text_of(literal))
        .map(Some)
        .ok_or_else(|| not_literal(literal))
}

/// The opening brace of `impl [path::]MigrationName for <strukt> {` when it starts at `i`.
fn name_impl_body(src: &Parsed, i: usize, strukt: &str) -> Option<usize> {
    if !src.is_ident(i, "impl") {
        return None;
    }
    let (trait_path, after) = src.path(i + 1);
    if trait_path.last().map(String::as_str) != Some("MigrationName") || !src.is_ident(after, "for")
    {
        return None;
    }
    let (type_path, open) = src.path(after + 1);
    (type_path.last().map(String::as_str) == Some(strukt) && src.is_punct(open, '{'))
        .then_some(open)
}

/// `#[derive(…DeriveMigrationName…)]` on `struct <strukt>`.
fn find_derive(src: &Parsed, strukt: &str) -> Option<Derive> {
    (0..src.tokens.len()).find_map(|i| derive_at(src, i, strukt))
}

fn derive_at(src: &Parsed, i: usize, strukt: &str) -> Option<Derive> {
    let is_derive = src.is_punct(i, '#')
        && src.is_punct(i + 1, '[')
        && src.is_ident(i + 2, "derive")
        && src.is_punct(i + 3, '(');
    if !is_derive {
        return None;
    }
    let paren = src.matching(i + 3)?;
    let bracket = paren + 1;
    if src.matching(i + 1) != Some(bracket) {
        return None;
    }
    let list = src.items(i + 4, paren);
    let which = list.iter().position(|&(from, to)| {
        let (path, end) = src.path(from);
        end == to && path.last().map(String::as_str) == Some("DeriveMigrationName")
    })?;
    let item_end = struct_end(src, bracket + 1, strukt)?;
    Some(Derive {
        attr: (i, bracket),
        list,
        which,
        item_end,
    })
}

/// The last token of `[#[…]]* [pub[(…)]] struct <strukt> …` starting at `i`.
fn struct_end(src: &Parsed, mut i: usize, strukt: &str) -> Option<usize> {
    while src.is_punct(i, '#') && src.is_punct(i + 1, '[') {
        i = src.matching(i + 1)? + 1;
    }
    if src.is_ident(i, "pub") {
        i += 1;
        if src.is_punct(i, '(') {
            i = src.matching(i)? + 1;
        }
    }
    if !(src.is_ident(i, "struct") && src.is_ident(i + 1, strukt)) {
        return None;
    }
    let after = i + 2;
    if src.is_punct(after, ';') {
        Some(after)
    } else if src.is_punct(after, '{') {
        src.matching(after)
    } else if src.is_punct(after, '(') {
        let close = src.matching(after)?;
        src.is_punct(close + 1, ';').then_some(close + 1)
    } else {
        None
    }
}

/// `fn use_transaction(&self) -> Option<bool> { Some(false) }`: sea-orm-migration 2's opt-out,
/// which Braid takes as `transaction = false`.
fn opts_out_of_transaction(src: &Parsed) -> bool {
    (0..src.tokens.len())
        .filter(|&i| src.is_ident(i, "fn") && src.is_ident(i + 1, "use_transaction"))
        .filter_map(|i| (i..src.tokens.len()).find(|&j| src.is_punct(j, '{')))
        .any(|open| {
            src.is_ident(open + 1, "Some")
                && src.is_punct(open + 2, '(')
                && src.is_ident(open + 3, "false")
                && src.is_punct(open + 4, ')')
                && src.is_punct(open + 5, '}')
        })
}

/// Whether the module defines `fn down`; without it sea-orm-migration's default refuses.
fn has_down(src: &Parsed) -> bool {
    (0..src.tokens.len()).any(|i| src.is_ident(i, "fn") && src.is_ident(i + 1, "down"))
}

/// The `super::x` / `crate::x` paths the module uses: other modules of the sea-orm crate, which
/// a Braid revision cannot reach.
fn sibling_references(src: &Parsed) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for i in 0..src.tokens.len() {
        let root = src.is_ident(i, "super") || src.is_ident(i, "crate");
        if root && src.is_path_sep(i + 1) && src.kind(i + 3) == Some(Kind::Ident) {
            let path = format!("{}::{}", src.text_of(i), src.text_of(i + 3));
            if !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Names: `mYYYYMMDD_HHMMSS_description`

/// The date sea-orm-cli put in a name (`migrate generate` writes UTC unless `--local-time`):
/// `mYYYYMMDD_HHMMSS` read as the 14 digits `YYYYMMDDHHMMSS`.
fn dated(name: &str) -> Option<jiff::Timestamp> {
    let (date, time) = name.strip_prefix('m')?.get(..15)?.split_once('_')?;
    if date.len() != 8 {
        return None;
    }
    crate::files::timestamp_from_digits(&format!("{date}{time}"))
}

/// The description part of a name (`m20220101_000001_create_table` → "create table"); the
/// whole name when it is not dated.
fn message_of(name: &str) -> String {
    let description = name
        .get(17..)
        .filter(|_| dated(name).is_some() && name.as_bytes().get(16) == Some(&b'_'))
        .filter(|d| !d.is_empty());
    message_from_name(description.unwrap_or(name))
}

// ---------------------------------------------------------------------------------------------
// The rewrite

/// The module's text made a Braid Rust revision (see the module docs).
fn rewrite(src: &Parsed, naming: &Naming, key: &str, strukt: &str, shown: &str) -> String {
    let mut edits = Edits::default();
    let mut changes = Vec::new();
    if let Naming::Derived(derive) = naming {
        derive_edits(src, derive, key, strukt, &mut edits);
        changes.push(
            "`#[derive(DeriveMigrationName)]` became the `impl MigrationName` after the struct,\n\
             // returning the name seaql_migrations recorded (the derive names a migration after\n\
             // its file, and Braid's file is `migration.rs`)",
        );
    }
    if path_edits(src, &mut edits) {
        changes.push(
            "`sea_orm_migration`, `sea_orm` and `sea_query` paths go through `braid::prelude`\n\
             // (the crate running Braid depends on `braid`, not on sea-orm)",
        );
    }
    if strukt != "Migration" {
        let end = src.text.len();
        edits.add(
            end,
            end,
            format!("\npub(super) use self::{strukt} as Migration;\n"),
        );
        changes.push("`pub(super) use … as Migration;` at the end: Braid loads `Migration`");
    }
    let header = header(src, shown, &changes);
    let at = if src.text.starts_with('\u{feff}') {
        3
    } else {
        0
    };
    edits.add(at, at, header);
    edits.apply(&src.text)
}

/// The comment put at the top: where the file came from, what changed, what to look at.
fn header(src: &Parsed, shown: &str, changes: &[&str]) -> String {
    let mut out = format!(
        "// Imported by `braid import` from sea-orm-migration's `{}`.\n",
        shown.escape_debug()
    );
    for change in changes {
        out.push_str(&format!("// Changed: {change}.\n"));
    }
    out.push_str("// Nothing else was changed.\n");
    if !has_down(src) {
        out.push_str(
            "// Note: there is no `down`; sea-orm-migration's default refuses (\"We Don't Do That\n\
             // Here\"). Write one to make this revision reversible.\n",
        );
    }
    let siblings = sibling_references(src);
    if !siblings.is_empty() {
        let list: Vec<String> = siblings.iter().map(|s| format!("`{s}`")).collect();
        out.push_str(&format!(
            "// Note: it uses {}, from the sea-orm crate: Braid compiles each revision\n\
             // as a module of its own, so copy what it needs into this file.\n",
            list.join(", ")
        ));
    }
    out.push('\n');
    out
}

/// Drops `DeriveMigrationName` from its derive (the whole attribute when it is alone) and puts
/// an `impl MigrationName` returning `key` after the struct.
fn derive_edits(src: &Parsed, derive: &Derive, key: &str, strukt: &str, edits: &mut Edits) {
    let tok = |i: usize| src.tokens.get(i).copied().unwrap_or_default();
    let (hash, bracket) = derive.attr;
    let (from, to) = derive.list.get(derive.which).copied().unwrap_or_default();
    if derive.list.len() == 1 {
        let end = after_line_break(&src.text, tok(bracket).end);
        edits.add(tok(hash).start, end, String::new());
    } else if let Some(&(next, _)) = derive.list.get(derive.which + 1) {
        edits.add(tok(from).start, tok(next).start, String::new());
    } else if let Some(&(_, comma)) = derive.which.checked_sub(1).and_then(|w| derive.list.get(w)) {
        edits.add(
            tok(comma).start,
            tok(to.saturating_sub(1)).end,
            String::new(),
        );
    }
    let end = tok(derive.item_end).end;
    edits.add(
        end,
        end,
        format!(
            "\n\nimpl braid::prelude::MigrationName for {strukt} {{\n    \
             fn name(&self) -> &str {{\n        {key:?}\n    }}\n}}"
        ),
    );
}

/// `at`, moved past spaces and one line break and the next line's indentation, so that
/// removing an attribute alone on its line removes the line.
fn after_line_break(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or_default();
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let Some(next_line) = trimmed
        .strip_prefix("\r\n")
        .or_else(|| trimmed.strip_prefix('\n'))
    else {
        return text.len() - trimmed.len();
    };
    text.len() - next_line.trim_start_matches([' ', '\t']).len()
}

/// Roots every `sea_orm_migration::…`, `sea_orm::…` and `sea_query::…` path at `braid`; true
/// when there was one.
fn path_edits(src: &Parsed, edits: &mut Edits) -> bool {
    let groups = use_groups(src);
    let mut changed = false;
    for i in 0..src.tokens.len() {
        if groups.iter().any(|&(open, close)| open < i && i < close) {
            continue;
        }
        let Some(start) = path_root(src, i) else {
            continue;
        };
        let end = src.tokens[i].end;
        let done = match src.text_of(i) {
            "sea_orm_migration" => migration_path_edits(src, i, start, edits),
            "sea_orm" | "sea_query" if src.is_path_sep(i + 1) => {
                edits.add(start, end, format!("braid::prelude::{}", src.text_of(i)))
            }
            _ => false,
        };
        changed |= done;
    }
    changed
}

/// The braces of every `use …::{…}` group: a path inside is relative to the one before the
/// group, not a root.
fn use_groups(src: &Parsed) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    for i in (0..src.tokens.len()).filter(|&i| src.is_ident(i, "use")) {
        let end = (i..src.tokens.len())
            .find(|&j| src.is_punct(j, ';'))
            .unwrap_or(src.tokens.len());
        for open in (i..end).filter(|&j| src.is_punct(j, '{')) {
            groups.extend(src.matching(open).map(|close| (open, close)));
        }
    }
    groups
}

/// The byte where the path rooted at token `i` starts (a leading `::` included), when `i` is a
/// path's first segment and not in `extern crate`, a field or a longer path.
fn path_root(src: &Parsed, i: usize) -> Option<usize> {
    if src.kind(i) != Some(Kind::Ident) {
        return None;
    }
    let start = src.tokens[i].start;
    let Some(before) = i.checked_sub(1) else {
        return Some(start);
    };
    if src.is_punct(before, '.') || src.is_ident(before, "crate") {
        return None;
    }
    if before >= 1 && src.is_path_sep(before - 1) {
        let longer = before.checked_sub(2).is_some_and(|b| {
            let segment = src.kind(b) == Some(Kind::Ident) && !KEYWORDS.contains(&src.text_of(b));
            segment || src.is_punct(b, '>')
        });
        return (!longer).then(|| src.tokens[before - 1].start);
    }
    Some(start)
}

/// Keywords that can stand before a path's leading `::` (`use ::x`), so that it is not taken
/// for a segment of a longer path (`crate`, `self`, `super` and `Self` are segments).
const KEYWORDS: [&str; 24] = [
    "as", "async", "break", "const", "dyn", "else", "for", "if", "impl", "in", "let", "loop",
    "match", "move", "mut", "pub", "ref", "return", "static", "type", "unsafe", "use", "where",
    "while",
];

/// `sea_orm_migration::x…` → `braid::<where x is>…`; `sea_orm_migration::{a, b}` → each entry
/// re-rooted under `braid`; anything else through `braid::seaorm::sea_orm_migration`.
fn migration_path_edits(src: &Parsed, i: usize, start: usize, edits: &mut Edits) -> bool {
    let end = src.tokens[i].end;
    let next = i + 3;
    if src.is_path_sep(i + 1) && src.kind(next) == Some(Kind::Ident) && !src.is_ident(next, "self")
    {
        let under = under_braid(src.text_of(next));
        return edits.add(start, src.tokens[next].end, format!("braid::{under}"));
    }
    if src.is_path_sep(i + 1) && src.is_punct(next, '{') {
        let Some(close) = src.matching(next) else {
            return false;
        };
        if !edits.add(start, end, "braid".to_string()) {
            return false;
        }
        for (from, _) in src.items(next + 1, close) {
            group_entry_edit(src, from, edits);
        }
        return true;
    }
    edits.add(start, end, "braid::seaorm::sea_orm_migration".to_string())
}

/// One entry of `sea_orm_migration::{…}`, re-rooted under `braid`.
fn group_entry_edit(src: &Parsed, from: usize, edits: &mut Edits) {
    let tok = src.tokens[from];
    if src.is_ident(from, "self") {
        edits.add(tok.start, tok.end, "seaorm::sea_orm_migration".to_string());
    } else if src.kind(from) == Some(Kind::Ident) {
        edits.add(tok.start, tok.end, under_braid(src.text_of(from)));
    } else {
        edits.add(
            tok.start,
            tok.start,
            "seaorm::sea_orm_migration::".to_string(),
        );
    }
}

/// Where sea-orm-migration's top-level item `name` is, under `braid`.
fn under_braid(name: &str) -> String {
    match name {
        "prelude" => "prelude".to_string(),
        "schema" | "sea_orm" | "sea_query" | "async_trait" => format!("prelude::{name}"),
        _ => format!("seaorm::sea_orm_migration::{name}"),
    }
}

/// Text replacements, applied together; one overlapping an earlier one is dropped.
#[derive(Default)]
struct Edits(Vec<(usize, usize, String)>);

impl Edits {
    /// Records replacing `start..end` with `text`; false (and nothing recorded) when it overlaps
    /// one already recorded.
    fn add(&mut self, start: usize, end: usize, text: String) -> bool {
        let overlaps = self.0.iter().any(|&(s, e, _)| start < e && s < end);
        if !overlaps {
            self.0.push((start, end, text));
        }
        !overlaps
    }

    fn apply(mut self, text: &str) -> String {
        self.0.sort_by_key(|&(start, end, _)| (start, end));
        let mut out = String::with_capacity(text.len() + 512);
        let mut last = 0;
        for (start, end, replacement) in self.0 {
            out.push_str(text.get(last..start).unwrap_or_default());
            out.push_str(&replacement);
            last = end;
        }
        out.push_str(text.get(last..).unwrap_or_default());
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Two modules naming the same migration would be one row in seaql_migrations: refuse, as
/// Braid would then not know which ran. Two keys mapping to one Braid id are refused too.
fn check_unique(revisions: &[Imported]) -> Result<(), ImportError> {
    for (n, rev) in revisions.iter().enumerate() {
        let Some(first) = revisions[..n]
            .iter()
            .find(|r| r.key == rev.key || r.id == rev.id)
        else {
            continue;
        };
        if first.key == rev.key {
            return Err(ImportError::Duplicate {
                tool: Tool::SeaOrm,
                key: rev.key.clone(),
                first: first.origin.clone(),
                second: rev.origin.clone(),
            });
        }
        return Err(ImportError::Layout {
            path: rev.origin.clone(),
            problem: format!(
                "migrations '{}' and '{}' ({}) both become Braid revision '{}'",
                first.key,
                rev.key,
                first.origin.display(),
                rev.id
            ),
            hint: format!(
                "Braid ids are at most {} ASCII letters, digits and `_`; shorten one name (and its \
                 row in seaql_migrations), then import again",
                braid_graph::MAX_ID_LEN
            ),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A small Rust lexer: enough to find items and paths outside comments and string literals

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    Ident,
    Punct,
    /// A string literal (raw, byte and C strings included).
    Str,
    /// A number, a character or a lifetime.
    Other,
}

/// A token's kind and bytes (`start..end` of the text), and the line it starts on.
#[derive(Debug, Clone, Copy, Default)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: usize,
}

/// A Rust file and its tokens.
struct Parsed {
    path: PathBuf,
    text: String,
    tokens: Vec<Token>,
}

impl Parsed {
    fn read(path: &Path) -> Result<Parsed, ImportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
        Parsed::new(path, text)
    }

    fn new(path: &Path, text: String) -> Result<Parsed, ImportError> {
        let tokens = Lexer::new(&text)
            .run()
            .map_err(|(line, problem)| ImportError::Parse {
                path: path.to_path_buf(),
                line: Some(line),
                problem,
            })?;
        Ok(Parsed {
            path: path.to_path_buf(),
            text,
            tokens,
        })
    }

    fn kind(&self, i: usize) -> Option<Kind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    /// The token's text; empty past the end.
    fn text_of(&self, i: usize) -> &str {
        self.tokens
            .get(i)
            .and_then(|t| self.text.get(t.start..t.end))
            .unwrap_or_default()
    }

    fn is_ident(&self, i: usize, name: &str) -> bool {
        self.kind(i) == Some(Kind::Ident) && self.text_of(i) == name
    }

    fn is_punct(&self, i: usize, c: char) -> bool {
        self.kind(i) == Some(Kind::Punct) && self.text_of(i).starts_with(c)
    }

    /// `::` at `i`.
    fn is_path_sep(&self, i: usize) -> bool {
        self.is_punct(i, ':') && self.is_punct(i + 1, ':')
    }

    fn line(&self, i: usize) -> usize {
        self.tokens.get(i).map_or(0, |t| t.line)
    }

    /// The closing bracket for the one at `open`.
    fn matching(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in open..self.tokens.len() {
            if ['(', '[', '{'].iter().any(|&c| self.is_punct(i, c)) {
                depth += 1;
            } else if [')', ']', '}'].iter().any(|&c| self.is_punct(i, c)) {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The comma-separated items of `from..to` (brackets nested), empty ones left out.
    fn items(&self, from: usize, to: usize) -> Vec<(usize, usize)> {
        let mut items = Vec::new();
        let mut start = from;
        let mut i = from;
        while i < to {
            if ['(', '[', '{'].iter().any(|&c| self.is_punct(i, c)) {
                i = self.matching(i).map_or(to, |c| c + 1);
                continue;
            }
            if self.is_punct(i, ',') {
                if i > start {
                    items.push((start, i));
                }
                start = i + 1;
            }
            i += 1;
        }
        if to > start {
            items.push((start, to));
        }
        items
    }

    /// The path (`a::b::c`, a leading `::` allowed) starting at `i`: its segments, and the
    /// token after it.
    fn path(&self, mut i: usize) -> (Vec<String>, usize) {
        if self.is_path_sep(i) {
            i += 2;
        }
        let mut segments = Vec::new();
        while self.kind(i) == Some(Kind::Ident) {
            segments.push(self.text_of(i).to_string());
            if self.is_path_sep(i + 1) && self.kind(i + 3) == Some(Kind::Ident) {
                i += 3;
            } else {
                i += 1;
                break;
            }
        }
        (segments, i)
    }

    /// Tokens `from..to` as written, on one line and cut short.
    fn snippet(&self, from: usize, to: usize) -> String {
        let start = self.tokens.get(from).map_or(0, |t| t.start);
        let end = to
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(start, |t| t.end);
        let text = self.text.get(start..end).unwrap_or_default();
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match one_line.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &one_line[..cut]),
            None => one_line,
        }
    }

    fn error_at(&self, i: usize, problem: String) -> ImportError {
        ImportError::Parse {
            path: self.path.clone(),
            line: Some(self.line(i)),
            problem,
        }
    }
}

/// The value of a string literal token (plain or raw); `None` for escapes it does not know.
fn string_value(literal: &str) -> Option<String> {
    if let Some(raw) = literal.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw.get(hashes..raw.len().checked_sub(hashes)?)?;
        return Some(inner.strip_prefix('"')?.strip_suffix('"')?.to_string());
    }
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            c @ ('\\' | '"' | '\'') => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// An unterminated literal or comment: the line it starts on, and what.
type LexError = (usize, String);

/// Splits Rust source into [`Token`]s, skipping whitespace and comments. Works on bytes: every
/// delimiter is ASCII and every byte of a non-ASCII character is ≥ 0x80 (read as part of an
/// identifier), so token bounds always fall on character boundaries.
struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    tokens: Vec<Token>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            tokens: Vec::new(),
        }
    }

    fn run(mut self) -> Result<Vec<Token>, LexError> {
        while let Some(b) = self.peek(0) {
            let (start, line) = (self.pos, self.line);
            let kind = match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                    continue;
                }
                _ if b.is_ascii_whitespace() => {
                    self.pos += 1;
                    continue;
                }
                b'/' if self.peek(1) == Some(b'/') => {
                    self.line_comment();
                    continue;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.block_comment()?;
                    continue;
                }
                b'"' => {
                    self.pos += 1;
                    self.quoted(line)?;
                    Kind::Str
                }
                b'\'' => self.char_or_lifetime(line)?,
                _ if is_ident_byte(b) && !b.is_ascii_digit() => self.word(line)?,
                _ if b.is_ascii_digit() => {
                    self.number();
                    Kind::Other
                }
                _ => {
                    self.pos += 1;
                    Kind::Punct
                }
            };
            self.tokens.push(Token {
                kind,
                start,
                end: self.pos,
                line,
            });
        }
        Ok(self.tokens)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn line_comment(&mut self) {
        while self.peek(0).is_some_and(|b| b != b'\n') {
            self.pos += 1;
        }
    }

    /// `/* … */`, nested ones included.
    fn block_comment(&mut self) -> Result<(), LexError> {
        let line = self.line;
        let mut depth = 0usize;
        loop {
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err((line, "this block comment is never closed".to_string())),
                (Some(b'/'), Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (Some(b), _) => {
                    self.line += usize::from(b == b'\n');
                    self.pos += 1;
                }
            }
        }
    }

    /// The rest of a `"…"` literal, after its opening quote.
    fn quoted(&mut self, line: usize) -> Result<(), LexError> {
        loop {
            match self.peek(0) {
                None => return Err((line, "this string literal is never closed".to_string())),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.line += usize::from(self.peek(1) == Some(b'\n'));
                    self.pos += 2;
                }
                Some(b) => {
                    self.line += usize::from(b == b'\n');
                    self.pos += 1;
                }
            }
        }
    }

    /// The rest of `r#"…"#` after its opening quote, with `hashes` `#`.
    fn raw_quoted(&mut self, hashes: usize, line: usize) -> Result<(), LexError> {
        loop {
            match self.peek(0) {
                None => return Err((line, "this raw string literal is never closed".to_string())),
                Some(b'"') if (1..=hashes).all(|k| self.peek(k) == Some(b'#')) => {
                    self.pos += 1 + hashes;
                    return Ok(());
                }
                Some(b) => {
                    self.line += usize::from(b == b'\n');
                    self.pos += 1;
                }
            }
        }
    }

    /// `'x'`, `'\n'` (characters) or `'a` (a lifetime); a lone `'` is punctuation.
    fn char_or_lifetime(&mut self, line: usize) -> Result<Kind, LexError> {
        if self.peek(1) == Some(b'\\') {
            self.pos += 3;
            while self.peek(0).is_some_and(|b| b != b'\'' && b != b'\n') {
                self.pos += 1;
            }
            if self.peek(0) != Some(b'\'') {
                return Err((line, "this character literal is never closed".to_string()));
            }
            self.pos += 1;
            return Ok(Kind::Other);
        }
        let Some(c) = self
            .text
            .get(self.pos + 1..)
            .and_then(|rest| rest.chars().next())
        else {
            self.pos += 1;
            return Ok(Kind::Punct);
        };
        let after = self.pos + 1 + c.len_utf8();
        if self.bytes.get(after) == Some(&b'\'') {
            self.pos = after + 1;
            return Ok(Kind::Other);
        }
        self.pos += 1;
        while self.peek(0).is_some_and(is_ident_byte) {
            self.pos += 1;
        }
        Ok(Kind::Other)
    }

    /// An identifier, a raw identifier (`r#type`), or a prefixed literal (`b"…"`, `r#"…"#`,
    /// `br"…"`, `c"…"`, `b'x'`).
    fn word(&mut self, line: usize) -> Result<Kind, LexError> {
        let mut k = 0;
        if matches!(self.peek(0), Some(b'b' | b'c')) {
            k = 1;
        }
        if self.peek(k) == Some(b'r') {
            let hashes = (k + 1..)
                .take_while(|&j| self.peek(j) == Some(b'#'))
                .count();
            if self.peek(k + 1 + hashes) == Some(b'"') {
                self.pos += k + 2 + hashes;
                self.raw_quoted(hashes, line)?;
                return Ok(Kind::Str);
            }
            if k == 0 && hashes == 1 && self.peek(2).is_some_and(is_ident_byte) {
                self.pos += 2;
            }
        } else if k == 1 && self.peek(1) == Some(b'"') {
            self.pos += 2;
            self.quoted(line)?;
            return Ok(Kind::Str);
        } else if self.peek(0) == Some(b'b') && self.peek(1) == Some(b'\'') {
            self.pos += 1;
            return self.char_or_lifetime(line);
        }
        while self.peek(0).is_some_and(is_ident_byte) {
            self.pos += 1;
        }
        Ok(Kind::Ident)
    }

    /// Digits, letters (suffixes, hex), `_`, and a `.` followed by a digit.
    fn number(&mut self) {
        loop {
            match self.peek(0) {
                Some(b) if b.is_ascii_alphanumeric() || b == b'_' => self.pos += 1,
                Some(b'.') if self.peek(1).is_some_and(|b| b.is_ascii_digit()) => self.pos += 1,
                _ => return,
            }
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        let parsed = Parsed::new(Path::new("t.rs"), source.to_string()).unwrap();
        (0..parsed.tokens.len())
            .map(|i| parsed.text_of(i).to_string())
            .collect()
    }

    #[test]
    fn comments_and_literals_hide_what_they_contain() {
        let tokens = texts(
            "/* a /* nested */ fn migrations */ x // fn migrations\n\
             r#\"sea_orm_migration::\"# 'a' '\\'' 'b b\"\\\"\" r#type é",
        );
        assert_eq!(
            tokens,
            [
                "x",
                "r#\"sea_orm_migration::\"#",
                "'a'",
                "'\\''",
                "'b",
                "b\"\\\"\"",
                "r#type",
                "é"
            ]
        );
    }

    #[test]
    fn unterminated_literals_are_errors_with_their_line() {
        for text in ["\n\"open", "\n/* open", "\nr#\"open\"", "\n'\\n"] {
            let err = Parsed::new(Path::new("t.rs"), text.to_string())
                .err()
                .unwrap();
            assert!(
                matches!(err, ImportError::Parse { line: Some(2), .. }),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn names_give_dates_and_messages() {
        let t = dated("m20240315_101500_create_post").unwrap();
        assert_eq!(t.to_string(), "2024-03-15T10:15:00Z");
        assert_eq!(dated("m20241315_101500_x"), None);
        assert_eq!(dated("m2024"), None);
        assert_eq!(dated("m20240315-101500_x"), None);
        assert_eq!(dated("m2024031_5101500_x"), None);
        assert_eq!(dated("m20240315_10150x_x"), None);
        // One reading of a timestamp version for every tool.
        assert_eq!(
            dated("m20240315_101500_create_post"),
            crate::files::timestamp_from_digits("20240315101500")
        );
        assert_eq!(message_of("m20240315_101500_create_post"), "create post");
        assert_eq!(message_of("m20240315_101500"), "m20240315 101500");
        assert_eq!(message_of("create_users"), "create users");
    }

    #[test]
    fn string_values() {
        assert_eq!(string_value("\"a\\\"b\"").as_deref(), Some("a\"b"));
        assert_eq!(string_value("r#\"a\"b\"#").as_deref(), Some("a\"b"));
        assert_eq!(string_value("\"\\u{41}\""), None);
        assert_eq!(string_value("r#"), None);
    }
}

//! Flyway: SQL scripts named `V<VERSION>__<DESCRIPTION>.sql`, anywhere under the directory.
//!
//! The rules follow Flyway's `ResourceNameParser`, `MigrationVersion` and the schema history
//! table's writer, with Flyway's default naming settings (`sqlMigrationPrefix` `V`,
//! `undoSqlMigrationPrefix` `U`, `repeatableSqlMigrationPrefix` `R`, `sqlMigrationSeparator`
//! `__`, `sqlMigrationSuffixes` `.sql`):
//!
//! * Locations are scanned recursively; the file name alone is parsed. The suffix is stripped,
//!   the prefix recognised, and the rest split at the first `__` into version and description.
//! * The version's `_` are read as `.` (`MigrationVersion`: `version.replace('_', '.')`), and
//!   that text is what `flyway_schema_history.version` holds: `V1_1__x.sql` is stored as `1.1`,
//!   `V001__x.sql` as `001`. Versions compare as lists of integers with trailing zeros ignored,
//!   so `1`, `1.0` and `001` are the same version (Flyway refuses two migrations with one).
//! * The description is the rest with `_` read as a space; the table keeps at most 200
//!   characters of it (longer ones are cut to 197 and `...` added, as Flyway's
//!   `abbreviateDescription` does).
//! * `U<VERSION>__<DESCRIPTION>.sql` (undo, a Flyway Teams feature) undoes the versioned
//!   migration of the same version and becomes its down migration.
//! * `R__<DESCRIPTION>.sql` (repeatable), `B<VERSION>__…` (baseline) and SQL callbacks
//!   (`beforeMigrate.sql`, …) are not versioned migrations and are left out, listed in
//!   [`History::skipped`](crate::History::skipped).
//! * A script config file beside a script, `<script>.sql.conf`, may say
//!   `executeInTransaction=false` (documented by Flyway since 6.1: "Script Configuration
//!   File"); that makes the revision non-transactional. Flyway's project-wide
//!   `executeInTransaction` and its detection of statements that cannot run in a transaction
//!   live outside the migrations directory and are not seen here.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::files::{read_text, walk};
use crate::{Body, History, ImportError, Imported, Skipped, Sql, Tool, braid_id, chain};

const VERSIONED: char = 'V';
const UNDO: char = 'U';
const REPEATABLE: char = 'R';
const BASELINE: char = 'B';
const SEPARATOR: &str = "__";
const SUFFIX: &str = ".sql";
/// Appended to a script's name to name its script config file.
const CONFIG_SUFFIX: &str = ".conf";
/// The longest description `flyway_schema_history.description` keeps, in UTF-16 units.
const DESCRIPTION_MAX: usize = 200;

/// How the names of Flyway's callback events begin (`beforeMigrate`, `afterEachMigrate`,
/// `createSchema`, … in `api/callback/Event.java`): a script named after an event, optionally
/// followed by `__<description>`, is a callback, not a migration.
const CALLBACK_PREFIXES: [&str; 3] = ["before", "after", "createSchema"];

pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let mut versioned = Vec::new();
    let mut undo = Vec::new();
    let mut skipped = Vec::new();
    for path in walk(dir, |name| name.ends_with(SUFFIX))? {
        match classify(&path)? {
            Classified::Versioned(script) => versioned.push(script),
            Classified::Undo(script) => undo.push(script),
            Classified::Skipped(reason) => skipped.push(Skipped { path, reason }),
        }
    }
    versioned.sort_by(Script::order);
    reject_duplicates(&versioned)?;
    undo.sort_by(Script::order);
    reject_duplicates(&undo)?;
    let pairs = pair_undo(versioned, undo)?;
    let mut revisions = pairs
        .into_iter()
        .map(|(script, undo)| imported(script, undo))
        .collect::<Result<Vec<_>, _>>()?;
    if revisions.is_empty() {
        return Err(empty(dir, &skipped));
    }
    chain(&mut revisions);
    Ok(History {
        tool: Tool::Flyway,
        source: dir.to_path_buf(),
        revisions,
        skipped,
    })
}

/// What a `.sql` file under a Flyway location is.
enum Classified {
    Versioned(Script),
    Undo(Script),
    Skipped(String),
}

/// A versioned or undo script, its name parsed.
struct Script {
    /// As Flyway stores it: `_` read as `.`, nothing else changed.
    version: String,
    /// For comparing: the version's integers, without leading zeros, trailing zero parts
    /// dropped.
    parts: Vec<String>,
    description: String,
    path: PathBuf,
}

impl Script {
    /// Flyway's version order, then the path so that equal versions sort predictably.
    fn order(a: &Script, b: &Script) -> Ordering {
        compare_parts(&a.parts, &b.parts).then_with(|| a.path.cmp(&b.path))
    }
}

/// Sorts one file name the way Flyway's `ResourceNameParser` does.
fn classify(path: &Path) -> Result<Classified, ImportError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file_name.strip_suffix(SUFFIX).unwrap_or(&file_name);
    if let Some(callback) = callback(stem) {
        return Ok(Classified::Skipped(format!(
            "a Flyway '{callback}' callback, not a migration"
        )));
    }
    let mut chars = stem.chars();
    let prefix = chars.next();
    let starts_with_digit = chars.next().is_some_and(|c| c.is_ascii_digit());
    match prefix {
        Some(VERSIONED) if starts_with_digit => versioned(stem, path).map(Classified::Versioned),
        Some(UNDO) if starts_with_digit => versioned(stem, path).map(Classified::Undo),
        Some(REPEATABLE) if stem.starts_with("R__") => Ok(Classified::Skipped(
            "a repeatable migration: it has no version to import as a revision; apply its SQL \
             in a new revision if it is still needed"
                .to_string(),
        )),
        Some(REPEATABLE) if starts_with_digit => Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: "a repeatable migration ('R') cannot have a version".to_string(),
            hint: format!(
                "rename it 'V{}{SUFFIX}' for a versioned migration",
                stem.strip_prefix(REPEATABLE).unwrap_or(stem)
            ),
        }),
        Some(lower @ ('v' | 'u')) if starts_with_digit => Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: "named like a Flyway migration, but Flyway's prefixes are upper-case, so \
                      it never ran this one"
                .to_string(),
            hint: format!(
                "rename it '{}{}{SUFFIX}' if it is a migration, or move it out of the directory",
                lower.to_ascii_uppercase(),
                stem.get(1..).unwrap_or_default()
            ),
        }),
        Some(BASELINE) if starts_with_digit => Ok(Classified::Skipped(
            "a Flyway baseline migration: it stands for the versioned migrations up to its \
             version, which are imported instead"
                .to_string(),
        )),
        _ => Ok(Classified::Skipped(
            "not named 'V<VERSION>__<DESCRIPTION>.sql'; Flyway does not run it as a migration"
                .to_string(),
        )),
    }
}

/// The callback event a script is named after, if it is named after one.
fn callback(stem: &str) -> Option<&str> {
    let event = stem.split_once(SEPARATOR).map_or(stem, |(event, _)| event);
    CALLBACK_PREFIXES
        .iter()
        .any(|p| event.starts_with(p))
        .then_some(event)
}

/// Parses `V<VERSION>__<DESCRIPTION>` (or `U…`), or says why Flyway would not.
fn versioned(stem: &str, path: &Path) -> Result<Script, ImportError> {
    let mut chars = stem.chars();
    let prefix = chars.next().unwrap_or(VERSIONED);
    let rest = chars.as_str();
    let Some((raw, description)) = rest.split_once(SEPARATOR) else {
        return Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: format!(
                "named like a Flyway migration but without '{SEPARATOR}' between version and \
                 description, so Flyway does not run it"
            ),
            hint: format!(
                "rename it '{prefix}<VERSION>{SEPARATOR}<description>{SUFFIX}' (two \
                 underscores) if it is a migration, or move it out of the directory"
            ),
        });
    };
    let version = raw.replace('_', ".");
    let Some(parts) = version_parts(&version) else {
        return Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: format!("'{raw}' is not a Flyway version (integers separated by '.' or '_')"),
            hint: format!(
                "rename it '{prefix}<VERSION>{SEPARATOR}{description}{SUFFIX}' with a version \
                 such as 1, 1.2 or 2024_01_31"
            ),
        });
    };
    Ok(Script {
        version,
        parts,
        description: description.replace('_', " "),
        path: path.to_path_buf(),
    })
}

/// Flyway's version order, the one reading sorts scripts by and adoption compares a
/// baseline's version with: `a` and `b` as `flyway_schema_history.version` holds them (`.`
/// between the parts; a file name's `_` already read as `.`), compared as lists of integers of
/// any size, leading zeros and trailing zero parts ignored (`1` = `1.0` = `001` < `1.1` <
/// `1.10` < `2`). `None` when either is not a version.
pub(crate) fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    Some(compare_parts(&version_parts(a)?, &version_parts(b)?))
}

/// The integers of a dotted version, for comparing: leading zeros dropped (as Java's
/// `BigInteger` reads them), then trailing zero parts after the first dropped (as
/// `MigrationVersion.tokenize` does). `None` when a part is empty or not all ASCII digits.
fn version_parts(version: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    for part in version.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number = part.trim_start_matches('0');
        parts.push(if number.is_empty() { "0" } else { number }.to_string());
    }
    while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
        parts.pop();
    }
    Some(parts)
}

/// Compares two versions' integers, a missing part counting as zero; the integers may be
/// longer than any machine integer, so they compare by length, then digit by digit.
fn compare_parts(a: &[String], b: &[String]) -> Ordering {
    let zero = "0".to_string();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        let ordering = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Two scripts of one version (`V1__a.sql` and `V1.0__b.sql`, say): Flyway refuses both.
fn reject_duplicates(sorted: &[Script]) -> Result<(), ImportError> {
    for pair in sorted.windows(2) {
        if compare_parts(&pair[0].parts, &pair[1].parts) == Ordering::Equal {
            return Err(ImportError::Duplicate {
                tool: Tool::Flyway,
                key: pair[1].version.clone(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    Ok(())
}

/// Each versioned script with the undo script of its version, if any. An undo script without
/// a versioned one has nothing to undo.
fn pair_undo(
    versioned: Vec<Script>,
    undo: Vec<Script>,
) -> Result<Vec<(Script, Option<Script>)>, ImportError> {
    let mut undo = undo.into_iter().peekable();
    let mut pairs = Vec::with_capacity(versioned.len());
    for script in versioned {
        if let Some(orphan) = undo.next_if(|u| compare_parts(&u.parts, &script.parts).is_lt()) {
            return Err(orphan_undo(orphan));
        }
        let matching = undo.next_if(|u| compare_parts(&u.parts, &script.parts).is_eq());
        pairs.push((script, matching));
    }
    match undo.next() {
        Some(orphan) => Err(orphan_undo(orphan)),
        None => Ok(pairs),
    }
}

fn orphan_undo(script: Script) -> ImportError {
    ImportError::Layout {
        problem: format!(
            "an undo migration for version {}, but no versioned migration has that version",
            script.version
        ),
        hint: format!(
            "add the 'V{}{SEPARATOR}<description>{SUFFIX}' it undoes, or delete it",
            script.version
        ),
        path: script.path,
    }
}

fn imported(script: Script, undo: Option<Script>) -> Result<Imported, ImportError> {
    let up = read_text(&script.path)?;
    let down = undo.map(|u| read_text(&u.path)).transpose()?;
    let transactional = execute_in_transaction(&script.path)?;
    let message = if script.description.trim().is_empty() {
        format!("flyway migration {}", script.version)
    } else {
        script.description.trim().to_string()
    };
    Ok(Imported {
        id: braid_id(&script.version),
        name: abbreviate(&script.description),
        parents: Vec::new(),
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        message,
        created: None,
        transactional,
        body: Body::Sql {
            up: Sql::Every(up),
            down: down.map(Sql::Every),
        },
        origin: script.path,
        key: script.version,
    })
}

/// The description as `flyway_schema_history` keeps it: at most 200 UTF-16 units, a longer
/// one cut to 197 and `...` added. (Java may cut between the halves of a surrogate pair; a
/// Rust string cannot hold half a pair, so the cut falls before the whole character there.)
fn abbreviate(description: &str) -> String {
    if description.encode_utf16().count() <= DESCRIPTION_MAX {
        return description.to_string();
    }
    let mut kept = String::new();
    let mut units = 0;
    for c in description.chars() {
        units += c.len_utf16();
        if units > DESCRIPTION_MAX - 3 {
            break;
        }
        kept.push(c);
    }
    kept.push_str("...");
    kept
}

/// The script config file's `executeInTransaction`, `true` without one.
fn execute_in_transaction(script: &Path) -> Result<bool, ImportError> {
    let mut config = script.as_os_str().to_owned();
    config.push(CONFIG_SUFFIX);
    let config = PathBuf::from(config);
    let text = match std::fs::read_to_string(&config) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(ImportError::io(&config, e)),
    };
    match property(&text, "executeInTransaction") {
        None => Ok(true),
        Some((_, value)) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some((_, value)) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some((line, value)) => Err(ImportError::Parse {
            path: config,
            line: Some(line),
            problem: format!("executeInTransaction must be true or false, not '{value}'"),
        }),
    }
}

/// The value of `key` in a Java properties text (`key=value`, `key: value` or `key value`;
/// `#` and `!` start comments), with its 1-based line; the last one wins, as in
/// `java.util.Properties`.
fn property<'t>(text: &'t str, key: &str) -> Option<(usize, &'t str)> {
    let mut found = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(rest) = line.strip_prefix(key) else {
            continue;
        };
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some('=' | ':') => rest[1..].trim(),
            Some(_) if rest.len() < line.len() - key.len() => rest.trim(),
            _ => continue,
        };
        found = Some((index + 1, value));
    }
    found
}

/// The error for a directory without any versioned Flyway migration.
fn empty(dir: &Path, skipped: &[Skipped]) -> ImportError {
    let mut hint = "Flyway versioned migrations are files named 'V<VERSION>__<DESCRIPTION>.sql': \
                    pass a directory Flyway reads, often 'src/main/resources/db/migration'"
        .to_string();
    if let Some(first) = skipped.first() {
        hint.push_str(&format!(
            " ({} '.sql' file(s) left out, e.g. {}: {})",
            skipped.len(),
            first.path.display(),
            first.reason
        ));
    }
    ImportError::Empty {
        tool: Tool::Flyway,
        dir: dir.to_path_buf(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(v: &str) -> Vec<String> {
        version_parts(v).expect("a version")
    }

    #[test]
    fn versions_compare_as_integers_with_trailing_zeros_ignored() {
        assert_eq!(compare_parts(&parts("1.0"), &parts("1")), Ordering::Equal);
        assert_eq!(compare_parts(&parts("001"), &parts("1")), Ordering::Equal);
        assert_eq!(
            compare_parts(&parts("1.10"), &parts("1.9")),
            Ordering::Greater
        );
        assert_eq!(
            compare_parts(&parts("2"), &parts("1.99")),
            Ordering::Greater
        );
        assert_eq!(
            compare_parts(
                &parts("100000000000000000000000"),
                &parts("99999999999999999999999")
            ),
            Ordering::Greater
        );
        assert_eq!(compare_versions("1.0", "001"), Some(Ordering::Equal));
        assert_eq!(compare_versions("1.10", "1.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("1.1", "2"), Some(Ordering::Less));
        assert_eq!(compare_versions("1_1", "1"), None);
        assert_eq!(compare_versions("1", "x"), None);
        assert_eq!(version_parts("1..2"), None);
        assert_eq!(version_parts("1."), None);
        assert_eq!(version_parts("1a"), None);
    }

    #[test]
    fn long_descriptions_are_cut_as_flyway_cuts_them() {
        let long = "x".repeat(250);
        let cut = abbreviate(&long);
        assert_eq!(cut.len(), 200);
        assert!(cut.ends_with("..."));
        assert_eq!(abbreviate(&"y".repeat(200)), "y".repeat(200));
    }

    #[test]
    fn properties_are_read_like_java_properties() {
        assert_eq!(
            property("executeInTransaction=false", "executeInTransaction"),
            Some((1, "false"))
        );
        assert_eq!(
            property(
                "# c\nexecuteInTransaction : false \n",
                "executeInTransaction"
            ),
            Some((2, "false"))
        );
        assert_eq!(
            property("executeInTransaction false", "executeInTransaction"),
            Some((1, "false"))
        );
        assert_eq!(
            property("executeInTransactionX=false", "executeInTransaction"),
            None
        );
        assert_eq!(
            property("#executeInTransaction=false", "executeInTransaction"),
            None
        );
    }

    #[test]
    fn callbacks_are_recognised_by_their_event_name() {
        assert_eq!(callback("beforeMigrate"), Some("beforeMigrate"));
        assert_eq!(callback("afterMigrate__vacuum"), Some("afterMigrate"));
        assert_eq!(callback("V1__before"), None);
    }
}

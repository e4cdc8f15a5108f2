//! Adoption: a source tool's version table, mapped to imported revisions.
//!
//! The facade reads the table with [`version_query`] and [`SourceRow::decode`], asks [`adopt`]
//! what Braid should record, and records it with the runner's `stamp`. The source table is only
//! read.

use braid_driver::{Dialect, Value};
use braid_graph::Graph;

use crate::{ImportMap, MapEntry, Tool, expected_checksums};

/// One row of a source tool's version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// The version (sqlx, diesel, Flyway, refinery), migration name (sea-orm-migration) or
    /// revision id (Alembic), as text.
    pub key: String,
    /// The checksum the tool stored, as text: lowercase hex of sqlx's bytes, Flyway's signed
    /// integer and refinery's unsigned one in decimal.
    pub checksum: Option<String>,
    /// `false` for a migration the tool recorded as failed (sqlx's `success`, Flyway's).
    pub success: bool,
    /// Flyway's `type` (`SQL`, `BASELINE`, `UNDO_SQL`, …); `None` for the other tools.
    pub kind: Option<String>,
}

/// The query that reads `tool`'s version table, in the order the tool applied the rows. Its
/// columns are what [`SourceRow::decode`] reads. `table` is the table's name, `schema.name`
/// for one in another schema; each part is quoted.
pub fn version_query(tool: Tool, dialect: Dialect, table: &str) -> String {
    let table: Vec<String> = table
        .split('.')
        .map(|part| braid_runner::dialect::quote_ident(dialect, part))
        .collect();
    let table = table.join(".");
    match tool {
        Tool::Alembic => format!("SELECT version_num FROM {table}"),
        Tool::Diesel | Tool::SeaOrm => format!("SELECT version FROM {table} ORDER BY version"),
        Tool::Sqlx => format!(
            "SELECT version, checksum, CASE WHEN success THEN 1 ELSE 0 END FROM {table} \
             ORDER BY version"
        ),
        Tool::Refinery => format!("SELECT version, checksum FROM {table} ORDER BY version"),
        // Repeatable migrations have no version; they are not imported.
        Tool::Flyway => format!(
            "SELECT version, checksum, CASE WHEN success THEN 1 ELSE 0 END, type FROM {table} \
             WHERE version IS NOT NULL ORDER BY installed_rank"
        ),
    }
}

impl SourceRow {
    /// A row of [`version_query`]'s result.
    pub fn decode(tool: Tool, row: &[Value]) -> Option<SourceRow> {
        let key = text(row.first()?)?;
        let checksum = match tool {
            Tool::Sqlx | Tool::Refinery | Tool::Flyway => row.get(1).and_then(checksum),
            _ => None,
        };
        let success = match tool {
            Tool::Sqlx | Tool::Flyway => row.get(2).is_none_or(truthy),
            _ => true,
        };
        let kind = match tool {
            Tool::Flyway => row.get(3).and_then(text),
            _ => None,
        };
        Some(SourceRow {
            key,
            checksum,
            success,
            kind,
        })
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bytes(b) => String::from_utf8(b.clone()).ok(),
        Value::Float(_) | Value::Null => None,
    }
}

/// Bytes (sqlx's digest) as hex; numbers and text as written.
fn checksum(value: &Value) -> Option<String> {
    match value {
        Value::Bytes(bytes) => Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        Value::Null => None,
        other => text(other),
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Int(i) => *i != 0,
        Value::Text(s) => matches!(s.as_str(), "1" | "t" | "true"),
        _ => false,
    }
}

/// What Braid records for one database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdoptPlan {
    pub tool: Tool,
    /// Every imported revision the source applied, in graph order (Braid ids).
    pub applied: Vec<String>,
    /// What `stamp` records: the heads of `applied`. Empty when the source applied nothing.
    pub stamp: Vec<String>,
    /// Imported revisions the source did not apply: Braid's next upgrade runs them.
    pub pending: Vec<String>,
}

/// Why a database cannot be adopted as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptError {
    #[error(
        "{tool} recorded migration '{key}' as failed; finish or undo it with {tool} (or by \
         hand), correct its row in {table}, then adopt again",
        table = tool.version_table()
    )]
    Failed { tool: Tool, key: String },
    #[error(
        "{tool} ran migration '{key}', which the import does not have; import again from the \
         directory this database was migrated from"
    )]
    Unknown { tool: Tool, key: String },
    #[error(
        "revision {id} ({tool} '{key}') no longer matches what ran: {tool} recorded checksum \
         {stored}, the file now gives {now}; restore the file as it ran (an intended change \
         belongs in a new revision)"
    )]
    Checksum {
        tool: Tool,
        key: String,
        id: String,
        stored: String,
        now: String,
    },
    #[error(
        "{tool} applied '{later}' but not '{missing}', which comes before it; Braid records a \
         history in order: apply '{missing}' with {tool} (or remove it from the import), then \
         adopt again"
    )]
    OutOfOrder {
        tool: Tool,
        missing: String,
        later: String,
    },
    #[error("{problem}")]
    Body { id: String, problem: String },
}

/// Maps `rows` (in [`version_query`]'s order) to the imported revisions of `map` in `graph`.
/// `up_sql(id)` reads the SQL a revision runs, for the tools that kept checksums.
pub fn adopt(
    map: &ImportMap,
    graph: &Graph,
    rows: &[SourceRow],
    up_sql: &dyn Fn(&str) -> Result<String, String>,
) -> Result<AdoptPlan, AdoptError> {
    let tool = map.tool;
    let repaired = repaired_away(tool, rows);
    let mut applied_keys: Vec<&str> = Vec::new();
    for (rank, row) in rows.iter().enumerate() {
        if repaired(rank, row) {
            continue;
        }
        if !row.success {
            return Err(AdoptError::Failed {
                tool,
                key: row.key.clone(),
            });
        }
        match flyway_kind(tool, row) {
            FlywayRow::Undo => {
                applied_keys.retain(|k| *k != row.key);
                continue;
            }
            FlywayRow::Baseline => {
                for entry in &map.revisions {
                    let covered = crate::flyway::compare_versions(&entry.key, &row.key)
                        .is_some_and(|o| o.is_le());
                    if covered && !applied_keys.contains(&&*entry.key) {
                        applied_keys.push(&entry.key);
                    }
                }
                continue;
            }
            FlywayRow::Marker => continue,
            FlywayRow::Migration => {}
        }
        let entry = map.by_key(&row.key).ok_or_else(|| AdoptError::Unknown {
            tool,
            key: row.key.clone(),
        })?;
        check_checksum(tool, entry, row, up_sql)?;
        if !applied_keys.contains(&&*entry.key) {
            applied_keys.push(&entry.key);
        }
    }
    let ids: Vec<&str> = applied_keys
        .iter()
        .filter_map(|k| map.by_key(k))
        .map(|e| e.id.as_str())
        .collect();
    plan(tool, map, graph, &ids)
}

/// What a row of Flyway's table records; every other tool's rows are migrations.
enum FlywayRow {
    Migration,
    /// An undo removes what it undid.
    Undo,
    /// A baseline (`BASELINE` from `flyway baseline`, `SQL_BASELINE`/`JDBC_BASELINE` from a
    /// `B…` script) stands for every version up to its own.
    Baseline,
    /// `SCHEMA` (the schemas Flyway created) and `DELETE` (see [`repaired_away`]) record no
    /// migration.
    Marker,
}

fn flyway_kind(tool: Tool, row: &SourceRow) -> FlywayRow {
    match (tool, row.kind.as_deref()) {
        (Tool::Flyway, Some(kind)) if kind.starts_with("UNDO_") => FlywayRow::Undo,
        (Tool::Flyway, Some(kind)) if kind.ends_with("BASELINE") => FlywayRow::Baseline,
        (Tool::Flyway, Some("SCHEMA" | "DELETE")) => FlywayRow::Marker,
        _ => FlywayRow::Migration,
    }
}

/// Whether the row at `rank` was marked deleted later: `flyway repair` keeps the row of a
/// migration whose file is gone and appends a `DELETE` row for its version. A migration run
/// again after that is a later row, and counts.
fn repaired_away(tool: Tool, rows: &[SourceRow]) -> impl Fn(usize, &SourceRow) -> bool {
    let deletes: Vec<(usize, String)> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| tool == Tool::Flyway && row.kind.as_deref() == Some("DELETE"))
        .map(|(rank, row)| (rank, row.key.clone()))
        .collect();
    move |rank, row| {
        deletes
            .iter()
            .any(|(deleted, key)| *deleted > rank && *key == row.key)
    }
}

fn check_checksum(
    tool: Tool,
    entry: &MapEntry,
    row: &SourceRow,
    up_sql: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), AdoptError> {
    let Some(stored) = &row.checksum else {
        return Ok(());
    };
    if entry.untranslated {
        return Ok(());
    }
    let sql = up_sql(&entry.id).map_err(|problem| AdoptError::Body {
        id: entry.id.clone(),
        problem,
    })?;
    let accepted = expected_checksums(tool, entry, &sql);
    match accepted.first() {
        Some(now) if !accepted.iter().any(|a| a.eq_ignore_ascii_case(stored)) => {
            Err(AdoptError::Checksum {
                tool,
                key: entry.key.clone(),
                id: entry.id.clone(),
                stored: stored.clone(),
                now: now.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// The plan for the applied revisions `ids`: Alembic's rows are heads, so their ancestors are
/// applied too; every other tool's rows list each migration, and (their histories being chains)
/// must be a prefix of the chain.
fn plan(tool: Tool, map: &ImportMap, graph: &Graph, ids: &[&str]) -> Result<AdoptPlan, AdoptError> {
    let order: Vec<&str> = map.revisions.iter().map(|e| e.id.as_str()).collect();
    let applied: Vec<String> = if tool == Tool::Alembic {
        let mut set = std::collections::BTreeSet::new();
        for id in ids {
            set.insert(id.to_string());
            for ancestor in graph.ancestors(id) {
                set.insert(ancestor.id.clone());
            }
        }
        order
            .iter()
            .filter(|id| set.contains(**id))
            .map(|id| id.to_string())
            .collect()
    } else {
        let prefix = order.iter().take_while(|id| ids.contains(id)).count();
        if let Some(later) = ids.iter().find(|id| !order[..prefix].contains(id)) {
            let missing = order[prefix];
            let key_of = |id: &str| {
                map.revisions
                    .iter()
                    .find(|e| e.id == id)
                    .map_or(id.to_string(), |e| e.key.clone())
            };
            return Err(AdoptError::OutOfOrder {
                tool,
                missing: key_of(missing),
                later: key_of(later),
            });
        }
        order[..prefix].iter().map(|id| id.to_string()).collect()
    };
    let stamp = if tool == Tool::Alembic {
        ids.iter().map(|id| id.to_string()).collect()
    } else {
        applied.last().cloned().into_iter().collect()
    };
    let pending = order
        .iter()
        .filter(|id| !applied.iter().any(|a| a == *id))
        .map(|id| id.to_string())
        .collect();
    Ok(AdoptPlan {
        tool,
        applied,
        stamp,
        pending,
    })
}

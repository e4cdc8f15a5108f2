//! Offline SQL (`upgrade FROM:TO --sql`, `downgrade FROM:TO --sql`, `stamp --sql`): the script a
//! DBA can review and apply by hand. Nothing connects; the starting point is the range's `FROM`
//! (the revisions it names plus their ancestors), base when absent.
//!
//! Shape (as Alembic's): the store DDL when starting from base, then per migration
//! `BEGIN;` (transactional-DDL dialects, transactional revisions only), a
//! `-- Running upgrade <parents> -> <rev>` comment, the body, the version-row DML with literal
//! values, `COMMIT;`. The recorded time is the server's clock when the script runs.
//!
//! A Rust migration's body is the statements it would execute on the target dialect, recorded
//! without a database (see [`crate::bodies::CodeBody::render`]); one that asks the database a
//! question (`has_table`, a query) is an error saying it needs a live database.
//!
//! A batched backfill ([`crate::backfill`]) is shown as its one `UPDATE`, after a comment saying
//! that an online run batches it: a script applied by hand runs it as one statement.

use braid_driver::Dialect;
use braid_graph::{Applied, Direction, Graph, Plan};

use crate::RunError;
use crate::bodies::Bodies;
use crate::dialect::{StoreNames, StoreSql};
use crate::store::applied_by;

/// What to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineOp<'a> {
    /// `upgrade [FROM:]TO --sql`; `from` defaults to base.
    Upgrade { from: Option<&'a str>, to: &'a str },
    /// `downgrade FROM:TO --sql`: the range is required.
    Downgrade { from: Option<&'a str>, to: &'a str },
    /// `stamp [FROM:]TO… --sql` (no `--purge`: there is no table content to purge offline).
    Stamp {
        from: Option<&'a str>,
        to: &'a [&'a str],
    },
}

/// Splits `FROM:TO` into `(Some(FROM), TO)`; a bare target gives `(None, TARGET)`. An empty
/// `FROM` (`:TO`) means base.
pub fn parse_range(range: &str) -> (Option<&str>, &str) {
    match range.split_once(':') {
        Some((from, to)) => ((!from.is_empty()).then_some(from), to),
        None => (None, range),
    }
}

/// The applied set implied by `FROM`: each revision it names (comma-separated) plus its
/// ancestors; `base` or nothing is the empty set, `heads` is everything.
pub fn applied_from(graph: &Graph, from: Option<&str>) -> Result<Applied, RunError> {
    let mut applied = Applied::new();
    let Some(from) = from else {
        return Ok(applied);
    };
    for part in from.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "base" => {}
            "heads" | "head" => applied.extend(graph.in_order().map(|r| r.id.clone())),
            reference => {
                let rev = graph.lookup(reference).map_err(plan_err)?;
                applied.insert(rev.id.clone());
                applied.extend(graph.ancestors(&rev.id).into_iter().map(|a| a.id.clone()));
            }
        }
    }
    Ok(applied)
}

fn plan_err(source: braid_graph::PlanError) -> RunError {
    RunError::Plan {
        database: "(offline)".to_string(),
        source,
    }
}

fn body_err(rev: &str, e: crate::bodies::BodyError) -> RunError {
    RunError::Body {
        database: "(offline)".to_string(),
        revision: rev.to_string(),
        message: e.message,
    }
}

/// Renders the offline script for `op` on `dialect`.
pub fn render_offline(
    graph: &Graph,
    dialect: Dialect,
    op: &OfflineOp<'_>,
    names: &StoreNames,
    bodies: &dyn Bodies,
) -> Result<String, RunError> {
    let sql = StoreSql::new(dialect, names.clone());
    let by = format!("{} (offline)", applied_by());
    let mut out = String::new();
    let (label, from) = match op {
        OfflineOp::Upgrade { from, .. } => ("upgrade", *from),
        OfflineOp::Downgrade { from, .. } => ("downgrade", *from),
        OfflineOp::Stamp { from, .. } => ("stamp", *from),
    };
    if matches!(op, OfflineOp::Downgrade { from: None, .. }) {
        return Err(RunError::Config(
            "downgrade --sql needs a range FROM:TO (there is no database to read the starting point from)"
                .to_string(),
        ));
    }
    let applied = applied_from(graph, from)?;
    out.push_str(&format!(
        "-- Braid offline {label} for {dialect}; version table {}\n\n",
        names.table()
    ));
    if applied.is_empty() && !matches!(op, OfflineOp::Downgrade { .. }) {
        out.push_str(&sql.create_script());
        out.push('\n');
    }
    match op {
        OfflineOp::Upgrade { to, .. } => {
            let plan = graph.plan_upgrade(&applied, to).map_err(plan_err)?;
            render_plan(&mut out, &plan, dialect, &sql, bodies, &by)?;
        }
        OfflineOp::Downgrade { to, .. } => {
            let plan = graph.plan_downgrade(&applied, to).map_err(plan_err)?;
            render_plan(&mut out, &plan, dialect, &sql, bodies, &by)?;
        }
        OfflineOp::Stamp { to, .. } => {
            let new = graph.stamp(&applied, to, false).map_err(plan_err)?;
            let tx = dialect.transactional_ddl();
            if tx {
                out.push_str("BEGIN;\n");
            }
            out.push_str(&format!(
                "-- Stamping {} -> {}\n",
                heads(graph, &applied),
                heads(graph, &new)
            ));
            for rev in graph.in_order().rev() {
                if applied.contains(&rev.id) && !new.contains(&rev.id) {
                    out.push_str(&sql.delete_row_literal(&rev.id));
                    out.push('\n');
                }
            }
            for rev in graph.in_order() {
                if new.contains(&rev.id) && !applied.contains(&rev.id) {
                    let (sum, _) = bodies
                        .current_checksum(rev, dialect)
                        .map_err(|e| body_err(&rev.id, e))?;
                    out.push_str(&sql.insert_row_literal(&rev.id, &sum, &by));
                    out.push('\n');
                }
            }
            if tx {
                out.push_str("COMMIT;\n");
            }
        }
    }
    Ok(out)
}

fn heads(graph: &Graph, applied: &Applied) -> String {
    let h: Vec<&str> = graph
        .applied_heads(applied)
        .into_iter()
        .map(|r| r.id.as_str())
        .collect();
    if h.is_empty() {
        "base".to_string()
    } else {
        h.join(", ")
    }
}

fn render_plan(
    out: &mut String,
    plan: &Plan<'_>,
    dialect: Dialect,
    sql: &StoreSql,
    bodies: &dyn Bodies,
    by: &str,
) -> Result<(), RunError> {
    for step in &plan.steps {
        let rev = step.revision;
        let script = bodies
            .script(rev, step.direction, dialect)
            .map_err(|e| body_err(&rev.id, e))?;
        crate::bodies::refuse_unwritten(&script, step.direction)
            .map_err(|e| body_err(&rev.id, e))?;
        let tx = dialect.transactional_ddl() && rev.transactional;
        if tx {
            out.push_str("BEGIN;\n");
        }
        let parents = rev.parents.join(", ");
        match step.direction {
            Direction::Up => out.push_str(&format!("-- Running upgrade {parents} -> {}\n", rev.id)),
            Direction::Down => {
                out.push_str(&format!("-- Running downgrade {} -> {parents}\n", rev.id))
            }
        }
        if !rev.transactional {
            out.push_str("-- (runs without a transaction)\n");
        }
        // A batched backfill is shown as its one UPDATE, saying that an online run batches it.
        let backfill = crate::backfill::from_script(&script, rev.transactional, dialect)
            .map_err(|e| body_err(&rev.id, e))?;
        if let Some(spec) = &backfill {
            out.push_str(&crate::backfill::offline_note(spec));
            out.push('\n');
        }
        // A code body (a Rust migration) is rendered for the dialect by recording what it
        // would execute; its checksum is still that of its source (`script.text`).
        let rendered = script
            .offline_sql(dialect, step.direction)
            .map_err(|e| body_err(&rev.id, e))?;
        let body = rendered.trim_end();
        if !body.is_empty() {
            out.push_str(body);
            out.push_str(terminator(body));
            out.push('\n');
        }
        match step.direction {
            Direction::Up => {
                let sum = bodies.checksum(rev, &script);
                out.push_str(&sql.insert_row_literal(&rev.id, &sum, by));
            }
            Direction::Down => out.push_str(&sql.delete_row_literal(&rev.id)),
        }
        out.push('\n');
        if tx {
            out.push_str("COMMIT;\n");
        }
        out.push('\n');
    }
    Ok(())
}

/// What to append so the body's last statement is terminated before the next one starts: a
/// body may end without `;`, or with a `--` comment after (or instead of) the last `;`.
fn terminator(body: &str) -> &'static str {
    let last_code = body
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("--"));
    let ends_in_comment = body
        .lines()
        .last()
        .is_some_and(|l| l.trim_start().starts_with("--"));
    match last_code {
        None => "",
        Some(l) if l.ends_with(';') => "",
        // `SELECT 1 -- note`: a `;` appended on that line would be part of the comment.
        Some(l) if ends_in_comment || l.contains("--") => "\n;",
        Some(_) => ";",
    }
}

#[cfg(test)]
mod tests {
    use super::terminator;

    #[test]
    fn trailing_comment_on_the_last_code_line() {
        assert_eq!(terminator("SELECT 1 -- note"), "\n;");
    }

    #[test]
    fn bodies_are_terminated_once() {
        assert_eq!(terminator("SELECT 1;"), "");
        assert_eq!(terminator("SELECT 1"), ";");
        assert_eq!(terminator("SELECT 1;\n-- done"), "");
        assert_eq!(terminator("SELECT 1\n-- done"), "\n;");
        assert_eq!(terminator("-- nothing to do"), "");
    }
}

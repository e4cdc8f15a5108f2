//! What rules ask about column definitions, constraints and expressions.

use sqlparser::ast::{
    ColumnDef, ColumnOption, ColumnOptionDef, DataType, Expr, GeneratedExpressionMode,
    TableConstraint,
};
use sqlparser::tokenizer::Token;

/// The options of a column definition, without their names.
pub(super) fn options(options: &[ColumnOptionDef]) -> impl Iterator<Item = &ColumnOption> {
    options.iter().map(|o| &o.option)
}

/// Whether the definition says NOT NULL (a primary key column is NOT NULL too).
pub(super) fn not_null(defs: &[ColumnOptionDef]) -> bool {
    options(defs).any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)))
}

/// The column's DEFAULT.
pub(super) fn default(defs: &[ColumnOptionDef]) -> Option<&Expr> {
    options(defs).find_map(|o| match o {
        ColumnOption::Default(e) => Some(e),
        _ => None,
    })
}

/// Whether the server fills the column for each row itself: an identity, a generated column,
/// `AUTO_INCREMENT`, a `serial` type.
pub(super) fn server_filled(column: &ColumnDef) -> bool {
    serial(&column.data_type)
        || options(&column.options).any(|o| match o {
            ColumnOption::Generated { .. } | ColumnOption::Identity(_) => true,
            ColumnOption::DialectSpecific(tokens) => tokens.iter().any(|t| {
                matches!(t, Token::Word(w)
                    if w.value.eq_ignore_ascii_case("auto_increment")
                        || w.value.eq_ignore_ascii_case("autoincrement"))
            }),
            _ => false,
        })
}

/// Postgres' `serial` pseudo-types: a sequence and a `nextval` default.
pub(super) fn serial(data_type: &DataType) -> bool {
    match data_type {
        DataType::Custom(name, _) => {
            let name = crate::names::key(name);
            [
                "serial",
                "bigserial",
                "smallserial",
                "serial2",
                "serial4",
                "serial8",
            ]
            .contains(&name.as_str())
        }
        _ => false,
    }
}

/// Whether the column is a generated column whose values are stored (computed for every row
/// when it is added). A generated column without `STORED`/`VIRTUAL` is stored on Postgres
/// before 18 and on SQLite's ADD COLUMN virtual: callers say which they mean.
pub(super) fn generated(column: &ColumnDef) -> Option<Option<GeneratedExpressionMode>> {
    options(&column.options).find_map(|o| match o {
        ColumnOption::Generated {
            generation_expr: Some(_),
            generation_expr_mode,
            ..
        } => Some(*generation_expr_mode),
        _ => None,
    })
}

/// Whether the column is an identity column (`GENERATED … AS IDENTITY`).
pub(super) fn identity(column: &ColumnDef) -> bool {
    options(&column.options).any(|o| {
        matches!(
            o,
            ColumnOption::Generated {
                generation_expr: None,
                ..
            } | ColumnOption::Identity(_)
        )
    })
}

/// The functions an expression calls, lowercased (`now`, `pg_catalog.random` as `random`).
/// Read from the expression's text: a rule asks "does it call one of these", and the text
/// answers without walking every kind of expression.
pub(super) fn calls(expr: &Expr) -> Vec<String> {
    let text = expr.to_string().to_lowercase();
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'\'' | b'"') {
            // A string or quoted name: its text calls nothing.
            let quote = bytes[i];
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                i += 1;
            }
            i += 1;
            continue;
        }
        if !ident(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        let mut next = i;
        while next < bytes.len() && bytes[next] == b' ' {
            next += 1;
        }
        if bytes.get(next) == Some(&b'(') {
            out.push(text[start..i].to_string());
        }
    }
    out
}

/// A constraint as a message names it: `UNIQUE uq_email`, `FOREIGN KEY (a)`.
pub(super) fn describe(constraint: &TableConstraint) -> String {
    let (kind, name) = match constraint {
        TableConstraint::Unique(c) => ("UNIQUE", c.name.as_ref()),
        TableConstraint::PrimaryKey(c) => ("PRIMARY KEY", c.name.as_ref()),
        TableConstraint::ForeignKey(c) => ("FOREIGN KEY", c.name.as_ref()),
        TableConstraint::Check(c) => ("CHECK", c.name.as_ref()),
        TableConstraint::Index(c) => ("INDEX", c.name.as_ref()),
        TableConstraint::FulltextOrSpatial(c) => {
            ("FULLTEXT/SPATIAL index", c.opt_index_name.as_ref())
        }
        TableConstraint::PrimaryKeyUsingIndex(c) => ("PRIMARY KEY", c.name.as_ref()),
        TableConstraint::UniqueUsingIndex(c) => ("UNIQUE", c.name.as_ref()),
        TableConstraint::Exclude(c) => ("EXCLUDE", c.name.as_ref()),
    };
    match name {
        Some(name) => format!("{kind} `{}`", name.value),
        None => kind.to_string(),
    }
}

/// The columns a table constraint covers, as keys.
pub(super) fn constraint_columns(constraint: &TableConstraint) -> Vec<String> {
    let index_columns = |cols: &[sqlparser::ast::IndexColumn]| -> Vec<String> {
        cols.iter()
            .map(|c| c.column.expr.to_string().to_lowercase())
            .collect()
    };
    match constraint {
        TableConstraint::Unique(c) => index_columns(&c.columns),
        TableConstraint::PrimaryKey(c) => index_columns(&c.columns),
        TableConstraint::Index(c) => index_columns(&c.columns),
        TableConstraint::ForeignKey(c) => c.columns.iter().map(crate::names::ident_key).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn expr(text: &str) -> Expr {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .expect("an expression")
    }

    #[test]
    fn calls_are_read_from_the_expression() {
        assert_eq!(calls(&expr("now()")), ["now"]);
        assert_eq!(
            calls(&expr("(random() * 10)::int + length(x)")),
            ["random", "length"]
        );
        assert!(calls(&expr("'random()'")).is_empty());
        assert!(calls(&expr("CURRENT_TIMESTAMP")).is_empty());
    }
}

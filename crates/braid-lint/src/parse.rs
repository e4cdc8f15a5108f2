//! A script as the rules see it: statements split the way the runner splits them, each
//! tokenised once and parsed with the dialect's sqlparser grammar.
//!
//! The tokens are kept next to the tree: a few rules are lexical (`CONCURRENTLY` anywhere, a
//! `SET lock_timeout`, MySQL's `CONVERT TO CHARACTER SET`, which sqlparser does not parse), and
//! a downgrade is searched for the names an upgrade created.

use braid_driver::Dialect;
use sqlparser::ast::{AlterTable, AlterTableOperation, ObjectName, Statement};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// One statement of a script.
#[derive(Debug)]
pub(crate) struct Stmt {
    /// Its position in the script, from 0.
    pub index: usize,
    /// 1-based lines of the script where it starts and ends.
    pub line: usize,
    pub end_line: usize,
    pub text: String,
    /// Its tokens without whitespace and comments.
    pub tokens: Vec<Token>,
    /// What sqlparser read: usually one statement, empty when it could not read it.
    pub trees: Vec<Statement>,
    /// Why sqlparser could not read it.
    pub error: Option<String>,
    /// For each operation of an `ALTER TABLE`, whether MariaDB's `IF [NOT] EXISTS` guarded it
    /// (sqlparser's MySQL grammar does not take them: they are read apart, see [`strip_guards`]).
    guarded: Vec<bool>,
}

/// One operation of an `ALTER TABLE`, with the table it applies to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlterOp<'a> {
    pub alter: &'a AlterTable,
    pub op: &'a AlterTableOperation,
    /// Guarded by a MariaDB `IF [NOT] EXISTS` sqlparser did not record in the tree.
    pub guarded: bool,
}

impl AlterOp<'_> {
    pub fn table(&self) -> &ObjectName {
        &self.alter.name
    }
}

impl Stmt {
    /// The `ALTER TABLE` operations of this statement, in order.
    pub fn alter_ops(&self) -> impl Iterator<Item = AlterOp<'_>> + '_ {
        self.trees
            .iter()
            .filter_map(|tree| match tree {
                Statement::AlterTable(alter) => Some(alter),
                _ => None,
            })
            .flat_map(move |alter| {
                alter
                    .operations
                    .iter()
                    .enumerate()
                    .map(move |(i, op)| AlterOp {
                        alter,
                        op,
                        guarded: self.guarded.get(i).copied().unwrap_or(false),
                    })
            })
    }

    /// Whether `word` (any case, unquoted) is one of the statement's words.
    pub fn has_word(&self, word: &str) -> bool {
        self.words().any(|w| w.eq_ignore_ascii_case(word))
    }

    /// Whether the statement starts with `words` (any case, unquoted).
    pub fn starts_with(&self, words: &[&str]) -> bool {
        let mut mine = self.tokens.iter();
        words.iter().all(|expected| {
            matches!(mine.next(), Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(expected))
        })
    }

    /// The unquoted words of the statement, as written.
    pub fn words(&self) -> impl Iterator<Item = &str> + '_ {
        self.tokens.iter().filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.as_str()),
            _ => None,
        })
    }

    /// Every identifier-like word, quoted or not, lowercased: what "the script mentions `x`"
    /// compares against.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.tokens.iter().filter_map(|t| match t {
            Token::Word(w) => Some(w.value.to_lowercase()),
            _ => None,
        })
    }
}

/// Splits `text` like the runner does and reads each statement.
pub(crate) fn read(text: &str, dialect: Dialect) -> Vec<Stmt> {
    braid_driver::split_statements(text, dialect)
        .into_iter()
        .enumerate()
        .map(|(index, s)| statement(index, s.line, s.text, dialect))
        .collect()
}

fn statement(index: usize, line: usize, text: String, dialect: Dialect) -> Stmt {
    let end_line = line + text.matches('\n').count();
    let mut stmt = Stmt {
        index,
        line,
        end_line,
        text,
        tokens: Vec::new(),
        trees: Vec::new(),
        error: None,
        guarded: Vec::new(),
    };
    let spanned = match Tokenizer::new(grammar(dialect), &stmt.text).tokenize_with_location() {
        Ok(tokens) => tokens,
        Err(e) => {
            stmt.error = Some(e.to_string());
            return stmt;
        }
    };
    stmt.tokens = significant(&spanned);
    match parse(dialect, spanned.clone()) {
        Ok(trees) => stmt.trees = trees,
        Err(first) => match reparse_without_guards(dialect, &spanned) {
            Some((trees, guarded)) => {
                stmt.trees = trees;
                stmt.guarded = guarded;
            }
            None => match reparse_trigger_body(dialect, &stmt, &spanned) {
                Some(trees) => stmt.trees = trees,
                None => stmt.error = Some(first),
            },
        },
    }
    stmt
}

/// A MySQL trigger whose body is one statement (`FOR EACH ROW SET NEW.a = NEW.b`) ends with
/// that statement, and the runner's split takes the `;` that ends both. sqlparser reads such a
/// body only up to a `;`: reads the trigger again with one put back.
fn reparse_trigger_body(
    dialect: Dialect,
    stmt: &Stmt,
    tokens: &[TokenWithSpan],
) -> Option<Vec<Statement>> {
    let trigger = stmt.starts_with(&["create", "trigger"])
        || stmt.starts_with(&["create", "or", "replace", "trigger"]);
    if dialect != Dialect::Mysql || !trigger {
        return None;
    }
    let mut ended: Vec<TokenWithSpan> = tokens
        .iter()
        .filter(|t| t.token != Token::EOF)
        .cloned()
        .collect();
    ended.push(TokenWithSpan::wrap(Token::SemiColon));
    parse(dialect, ended).ok()
}

/// The sqlparser grammar of a dialect.
fn grammar(dialect: Dialect) -> &'static dyn sqlparser::dialect::Dialect {
    match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Mysql => &MySqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    }
}

fn parse(dialect: Dialect, tokens: Vec<TokenWithSpan>) -> Result<Vec<Statement>, String> {
    Parser::new(grammar(dialect))
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| e.to_string())
}

fn significant(tokens: &[TokenWithSpan]) -> Vec<Token> {
    tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| t.token.clone())
        .collect()
}

/// MariaDB takes `IF [NOT] EXISTS` after `ADD`/`DROP`/`MODIFY`/`CHANGE` in an `ALTER TABLE`;
/// sqlparser's MySQL grammar does not. Reads the statement again without them, and says which
/// operations had one — when the operations line up with the comma-separated clauses.
fn reparse_without_guards(
    dialect: Dialect,
    tokens: &[TokenWithSpan],
) -> Option<(Vec<Statement>, Vec<bool>)> {
    if dialect != Dialect::Mysql {
        return None;
    }
    let (stripped, clauses) = strip_guards(tokens)?;
    let trees = parse(dialect, stripped).ok()?;
    let guarded = match trees.as_slice() {
        [Statement::AlterTable(alter)] if alter.operations.len() == clauses.len() => clauses,
        _ => Vec::new(),
    };
    Some((trees, guarded))
}

/// The tokens of an `ALTER TABLE` without MariaDB's operation guards, and for each clause
/// whether it had one; `None` when there is nothing to strip.
fn strip_guards(tokens: &[TokenWithSpan]) -> Option<(Vec<TokenWithSpan>, Vec<bool>)> {
    let positions: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let word = |p: usize| -> Option<Keyword> {
        match positions.get(p).map(|&i| &tokens[i].token) {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        }
    };
    if word(0) != Some(Keyword::ALTER) || word(1) != Some(Keyword::TABLE) {
        return None;
    }
    let mut clauses = vec![false];
    let mut drop = Vec::new();
    let mut depth = 0usize;
    // Where the current clause's operation keyword is, once seen.
    let mut operation: Option<usize> = None;
    for p in 2..positions.len() {
        match &tokens[positions[p]].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                clauses.push(false);
                operation = None;
            }
            _ => {}
        }
        let keyword = word(p);
        if operation.is_none()
            && depth == 0
            && matches!(
                keyword,
                Some(Keyword::ADD | Keyword::DROP | Keyword::MODIFY | Keyword::CHANGE)
            )
        {
            operation = Some(p);
        }
        let Some(op) = operation else { continue };
        if keyword != Some(Keyword::IF) || p > op + 3 {
            continue;
        }
        let guard = match (word(p + 1), word(p + 2)) {
            (Some(Keyword::EXISTS), _) => vec![p, p + 1],
            (Some(Keyword::NOT), Some(Keyword::EXISTS)) => vec![p, p + 1, p + 2],
            _ => continue,
        };
        drop.extend(guard.iter().map(|&g| positions[g]));
        if let Some(last) = clauses.last_mut() {
            *last = true;
        }
    }
    if drop.is_empty() {
        return None;
    }
    let kept = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, t)| t.clone())
        .collect();
    Some((kept, clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_their_lines() {
        let script = "-- first\nCREATE TABLE a (\n  id INT\n);\n\nDROP TABLE b;";
        let got = read(script, Dialect::Postgres);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].line, got[0].end_line), (2, 4));
        assert_eq!((got[1].line, got[1].end_line), (6, 6));
        assert!(got.iter().all(|s| s.error.is_none() && s.trees.len() == 1));
    }

    #[test]
    fn an_unreadable_statement_keeps_its_tokens_and_the_reason() {
        let got = read("REINDEX INDEX CONCURRENTLY i", Dialect::Postgres);
        assert!(got[0].trees.is_empty());
        assert!(got[0].error.is_some());
        assert!(got[0].has_word("concurrently"));
        assert!(got[0].starts_with(&["reindex", "INDEX"]));
    }

    #[test]
    fn mariadb_guards_are_read_per_operation() {
        let got = read(
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS a INT, DROP INDEX IF EXISTS i, ADD b INT",
            Dialect::Mysql,
        );
        assert!(got[0].error.is_none(), "{:?}", got[0].error);
        let guarded: Vec<bool> = got[0].alter_ops().map(|op| op.guarded).collect();
        assert_eq!(guarded, [true, true, false]);
    }

    #[test]
    fn a_mysql_trigger_with_a_one_statement_body_is_read() {
        let got = read(
            "CREATE TRIGGER tg BEFORE INSERT ON plans FOR EACH ROW SET NEW.a = NEW.b;\nSELECT 1;",
            Dialect::Mysql,
        );
        assert!(got[0].error.is_none(), "{:?}", got[0].error);
        assert!(matches!(
            got[0].trees.as_slice(),
            [Statement::CreateTrigger(_)]
        ));
        // Other dialects, and other statements, are not retried.
        let other = read(
            "CREATE TRIGGER tg BEFORE INSERT ON t SET x = 1",
            Dialect::Postgres,
        );
        assert!(other[0].error.is_some());
    }

    #[test]
    fn a_guard_inside_a_definition_is_left_alone() {
        // Not a guard: `IF` inside parentheses, far from the operation keyword.
        let got = read("ALTER TABLE t ADD CHECK (IF(a, 1, 0) = 1)", Dialect::Mysql);
        assert!(got[0].alter_ops().all(|op| !op.guarded));
    }
}

//! What SQLite keeps only in the text of its `CREATE` statements: `CHECK` constraints,
//! generated columns' expressions, `AUTOINCREMENT`, declared collations, index expressions and
//! predicates, and a trigger's timing and event.
//!
//! `sqlite_schema.sql` holds each statement as it was written (SQLite parsed it once, so it is
//! valid), and SQLite has no catalogue for these. A small tokenizer is enough to find them: the
//! parts wanted sit at fixed places (a column definition's clauses, an index's key list), and
//! text is copied verbatim from the statement, so nothing is reformatted.

/// What a token is, as far as finding clauses needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A bare word: keyword, identifier or number.
    Word,
    /// A quoted identifier: `"x"`, `` `x` ``, `[x]`.
    Quoted,
    /// A string literal.
    Str,
    Open,
    Close,
    Comma,
    /// Any other character (operators, `.`, `;`).
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The tokens of `sql`, comments and whitespace dropped. An unterminated quote or comment runs
/// to the end of the text.
fn tokens(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let (kind, end) = match bytes[i] {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                continue;
            }
            b'\'' => (Kind::Str, quoted_end(bytes, i, b'\'')),
            b'"' => (Kind::Quoted, quoted_end(bytes, i, b'"')),
            b'`' => (Kind::Quoted, quoted_end(bytes, i, b'`')),
            b'[' => (
                Kind::Quoted,
                find(bytes, i, b"]").map_or(bytes.len(), |e| e + 1),
            ),
            b'(' => (Kind::Open, i + 1),
            b')' => (Kind::Close, i + 1),
            b',' => (Kind::Comma, i + 1),
            b if is_word_byte(b) => {
                let len = bytes[i..].iter().take_while(|b| is_word_byte(**b)).count();
                (Kind::Word, i + len)
            }
            _ => (Kind::Other, next_char(sql, i)),
        };
        out.push(Token { kind, start, end });
        i = end;
    }
    out
}

/// Identifier characters; every byte of a non-ASCII character counts, as in SQLite.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn next_char(sql: &str, i: usize) -> usize {
    sql[i..]
        .chars()
        .next()
        .map_or(sql.len(), |c| i + c.len_utf8())
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The end of a literal opened by `quote` at `start`, a doubled quote standing for itself.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Reads tokens of one statement.
struct Text<'a> {
    sql: &'a str,
    tokens: Vec<Token>,
}

impl<'a> Text<'a> {
    fn new(sql: &'a str) -> Self {
        Text {
            sql,
            tokens: tokens(sql),
        }
    }

    fn text(&self, t: Token) -> &'a str {
        &self.sql[t.start..t.end]
    }

    /// Whether token `i` is the keyword `word`.
    fn is(&self, i: usize, word: &str) -> bool {
        self.tokens
            .get(i)
            .is_some_and(|t| t.kind == Kind::Word && self.text(*t).eq_ignore_ascii_case(word))
    }

    fn kind(&self, i: usize) -> Option<Kind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    /// The name token `i` stands for, unquoted.
    fn name(&self, i: usize) -> Option<String> {
        let t = *self.tokens.get(i)?;
        let text = self.text(t);
        Some(match t.kind {
            Kind::Quoted if text.starts_with('[') => text[1..text.len().saturating_sub(1)].into(),
            Kind::Quoted | Kind::Str => {
                let q = &text[..1];
                text[1..text.len().saturating_sub(1)].replace(&format!("{q}{q}"), q)
            }
            _ => text.to_string(),
        })
    }

    /// The index of the `)` closing the `(` at `open` (the last token if unbalanced).
    fn close(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for (i, t) in self.tokens.iter().enumerate().skip(open) {
            match t.kind {
                Kind::Open => depth += 1,
                Kind::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        self.tokens.len().saturating_sub(1)
    }

    /// The text strictly between tokens `open` and `close`, trimmed.
    fn between(&self, open: usize, close: usize) -> String {
        match (self.tokens.get(open), self.tokens.get(close)) {
            (Some(o), Some(c)) if o.end <= c.start => self.sql[o.end..c.start].trim().to_string(),
            _ => String::new(),
        }
    }

    /// The text of tokens `from..=to`.
    fn span(&self, from: usize, to: usize) -> String {
        match (self.tokens.get(from), self.tokens.get(to)) {
            (Some(f), Some(t)) if f.start <= t.end => self.sql[f.start..t.end].to_string(),
            _ => String::new(),
        }
    }

    /// The first token from `from` that is not inside parentheses opened after `from` and
    /// satisfies `want`.
    fn find_top(&self, from: usize, want: impl Fn(usize) -> bool) -> Option<usize> {
        let mut i = from;
        while i < self.tokens.len() {
            if want(i) {
                return Some(i);
            }
            i = match self.kind(i) {
                Some(Kind::Open) => self.close(i) + 1,
                _ => i + 1,
            };
        }
        None
    }

    /// The items of the parenthesised list opened at `open`, as token ranges (inclusive),
    /// split at its own commas.
    fn items(&self, open: usize) -> Vec<(usize, usize)> {
        let close = self.close(open);
        let mut out = Vec::new();
        let mut start = open + 1;
        let mut i = start;
        while i < close {
            match self.kind(i) {
                Some(Kind::Open) => i = self.close(i) + 1,
                Some(Kind::Comma) => {
                    if i > start {
                        out.push((start, i - 1));
                    }
                    start = i + 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if close > start {
            out.push((start, close - 1));
        }
        out
    }
}

/// A column definition's clauses that the pragmas do not report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ColumnDdl {
    pub name: String,
    /// The expression of `GENERATED ALWAYS AS (…)` / `AS (…)`.
    pub generated: Option<String>,
    pub autoincrement: bool,
    pub collation: Option<String>,
}

/// A `CHECK` constraint, named by a `CONSTRAINT name` before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct CheckDdl {
    pub name: Option<String>,
    pub expression: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TableDdl {
    pub columns: Vec<ColumnDdl>,
    /// Column and table checks, in the order written.
    pub checks: Vec<CheckDdl>,
}

/// Keywords that open a table constraint rather than a column definition.
const TABLE_CONSTRAINTS: [&str; 5] = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

/// Reads a `CREATE TABLE` statement. A virtual table (`CREATE VIRTUAL TABLE … USING m(args)`)
/// has no column definitions to read.
pub(super) fn table(sql: &str) -> TableDdl {
    let text = Text::new(sql);
    let mut out = TableDdl::default();
    if text.is(1, "VIRTUAL") {
        return out;
    }
    let Some(open) = text.find_top(0, |i| text.kind(i) == Some(Kind::Open)) else {
        return out;
    };
    for (from, to) in text.items(open) {
        out.checks.extend(checks(&text, from, to));
        let is_constraint = TABLE_CONSTRAINTS.iter().any(|k| text.is(from, k));
        if !is_constraint && let Some(name) = text.name(from) {
            out.columns.push(column(&text, name, from + 1, to));
        }
    }
    out
}

/// The clauses of the column definition `name` in tokens `from..=to`.
fn column(text: &Text<'_>, name: String, from: usize, to: usize) -> ColumnDdl {
    let mut out = ColumnDdl {
        name,
        ..ColumnDdl::default()
    };
    let mut i = from;
    while i <= to {
        if text.is(i, "AUTOINCREMENT") {
            out.autoincrement = true;
        } else if text.is(i, "COLLATE") && i < to {
            out.collation = text.name(i + 1);
        } else if text.is(i, "AS") && text.kind(i + 1) == Some(Kind::Open) {
            let close = text.close(i + 1);
            out.generated = Some(text.between(i + 1, close));
            i = close;
        }
        i = match text.kind(i) {
            Some(Kind::Open) => text.close(i) + 1,
            _ => i + 1,
        };
    }
    out
}

/// The `CHECK (…)` clauses in tokens `from..=to`, outside nested parentheses.
fn checks(text: &Text<'_>, from: usize, to: usize) -> Vec<CheckDdl> {
    let mut out = Vec::new();
    let mut i = from;
    while i <= to {
        if text.is(i, "CHECK") && text.kind(i + 1) == Some(Kind::Open) {
            let close = text.close(i + 1);
            let named = i >= from + 2 && text.is(i - 2, "CONSTRAINT");
            out.push(CheckDdl {
                name: if named { text.name(i - 1) } else { None },
                expression: text.between(i + 1, close),
            });
            i = close + 1;
            continue;
        }
        i = match text.kind(i) {
            Some(Kind::Open) => text.close(i) + 1,
            _ => i + 1,
        };
    }
    out
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct IndexDdl {
    /// Each key part as written, without its `COLLATE` and `ASC`/`DESC` (the pragmas report
    /// those).
    pub parts: Vec<String>,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

/// Reads a `CREATE INDEX` statement.
pub(super) fn index(sql: &str) -> IndexDdl {
    let text = Text::new(sql);
    let mut out = IndexDdl::default();
    let Some(on) = text.find_top(0, |i| text.is(i, "ON")) else {
        return out;
    };
    let Some(open) = text.find_top(on, |i| text.kind(i) == Some(Kind::Open)) else {
        return out;
    };
    out.parts = text
        .items(open)
        .into_iter()
        .map(|(from, to)| key_part(&text, from, to))
        .collect();
    let close = text.close(open);
    if let Some(w) = text.find_top(close + 1, |i| text.is(i, "WHERE")) {
        let rest = text.span(w + 1, text.tokens.len().saturating_sub(1));
        out.predicate = Some(rest.trim().trim_end_matches(';').trim_end().to_string());
    }
    out
}

/// A key part's text without a trailing `ASC`/`DESC` and `COLLATE name`.
fn key_part(text: &Text<'_>, from: usize, mut to: usize) -> String {
    if to > from && (text.is(to, "ASC") || text.is(to, "DESC")) {
        to -= 1;
    }
    if to > from + 1 && text.is(to - 1, "COLLATE") {
        to -= 2;
    }
    text.span(from, to)
}

/// A trigger's timing (`BEFORE`, `AFTER`, `INSTEAD OF`; SQLite's default is `BEFORE`) and
/// event (`INSERT`, `DELETE`, `UPDATE`, `UPDATE OF a, b`).
pub(super) fn trigger(sql: &str) -> (String, String) {
    let text = Text::new(sql);
    let Some(mut i) = text.find_top(0, |i| text.is(i, "TRIGGER")) else {
        return (String::new(), String::new());
    };
    i += 1;
    if text.is(i, "IF") {
        i += 3; // IF NOT EXISTS
    }
    i += 1; // the name
    if text.kind(i) == Some(Kind::Other) && text.tokens.get(i).is_some_and(|t| text.text(*t) == ".")
    {
        i += 2; // schema.name
    }
    let timing = if text.is(i, "INSTEAD") {
        i += 2;
        "INSTEAD OF"
    } else if text.is(i, "AFTER") || text.is(i, "BEFORE") {
        i += 1;
        if text.is(i - 1, "AFTER") {
            "AFTER"
        } else {
            "BEFORE"
        }
    } else {
        "BEFORE"
    };
    let mut event = text
        .tokens
        .get(i)
        .map(|t| text.text(*t).to_ascii_uppercase())
        .unwrap_or_default();
    if text.is(i + 1, "OF") {
        let end = text.find_top(i + 2, |j| text.is(j, "ON")).unwrap_or(i + 2);
        let columns: Vec<String> = (i + 2..end)
            .filter(|j| text.kind(*j) != Some(Kind::Comma))
            .filter_map(|j| text.name(j))
            .collect();
        event = format!("{event} OF {}", columns.join(", "));
    }
    (timing.to_string(), event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_clauses() {
        let t = table(
            "CREATE TABLE \"t\" (\n  id integer PRIMARY KEY AUTOINCREMENT, -- the key\n\
             a TEXT COLLATE \"NoCase\" DEFAULT ('x(' || 'y') CHECK (a <> ''),\n\
             g INT GENERATED ALWAYS AS (length(a) * 2) STORED,\n\
             v AS ( a || 'v' ) , [b c] INT CONSTRAINT pos CHECK(\"b c\" > 0),\n\
             CONSTRAINT ck CHECK (id > 0 AND (a IS NOT NULL)), UNIQUE (a), CHECK (1)\n)",
        );
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "a", "g", "v", "b c"]);
        assert!(t.columns[0].autoincrement && !t.columns[1].autoincrement);
        assert_eq!(t.columns[1].collation.as_deref(), Some("NoCase"));
        assert_eq!(t.columns[1].generated, None);
        assert_eq!(t.columns[2].generated.as_deref(), Some("length(a) * 2"));
        assert_eq!(t.columns[3].generated.as_deref(), Some("a || 'v'"));
        let checks: Vec<(Option<&str>, &str)> = t
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.expression.as_str()))
            .collect();
        assert_eq!(
            checks,
            [
                (None, "a <> ''"),
                (Some("pos"), "\"b c\" > 0"),
                (Some("ck"), "id > 0 AND (a IS NOT NULL)"),
                (None, "1"),
            ]
        );
    }

    #[test]
    fn virtual_tables_have_no_definitions() {
        assert_eq!(
            table("CREATE VIRTUAL TABLE f USING fts5(a, b)"),
            TableDdl::default()
        );
    }

    #[test]
    fn index_parts_and_predicate() {
        let i = index(
            "CREATE UNIQUE INDEX ix ON t (lower(a) COLLATE nocase DESC, b, \"c\" ASC, a || ',' ) \
             WHERE b > 1 AND a IS NOT NULL",
        );
        assert_eq!(i.parts, ["lower(a)", "b", "\"c\"", "a || ','"]);
        assert_eq!(i.predicate.as_deref(), Some("b > 1 AND a IS NOT NULL"));
        assert_eq!(index("CREATE INDEX ix ON t(a)").predicate, None);
    }

    #[test]
    fn trigger_timing_and_event() {
        let t = |sql| trigger(sql);
        assert_eq!(
            t("CREATE TRIGGER tr after update of a, \"b\" on t begin select 1; end"),
            ("AFTER".into(), "UPDATE OF a, b".into())
        );
        assert_eq!(
            t("CREATE TRIGGER IF NOT EXISTS main.tr INSTEAD OF DELETE ON v BEGIN SELECT 1; END"),
            ("INSTEAD OF".into(), "DELETE".into())
        );
        assert_eq!(
            t("CREATE TEMP TRIGGER tr INSERT ON t BEGIN SELECT 1; END"),
            ("BEFORE".into(), "INSERT".into())
        );
    }
}

//! Splitting a script into statements, so each runs (and fails) on its own.
//!
//! A multi-statement simple query would run the whole script as one implicit transaction and
//! not say which statement failed; it also refuses `CREATE INDEX CONCURRENTLY`. Running the
//! statements one at a time gives the same semantics as the other drivers (statements before
//! the failing one stay applied unless the caller opened a transaction) and an exact
//! [`ScriptPosition`](crate::ScriptPosition).
//!
//! The splitter is a lexer for exactly what can hide a `;` in Postgres SQL: `'…'` strings (with
//! `''`), `E'…'` strings (with backslash escapes), `"…"` identifiers, `$tag$…$tag$` dollar quotes,
//! `--` comments, nested `/* */` comments, parentheses, and the unquoted `BEGIN ATOMIC … END`
//! bodies of SQL-standard functions, recognised with psql's own heuristic (only inside
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, outside parentheses; `BEGIN` and, once inside,
//! `CASE` open a block, `END` closes one). It assumes `standard_conforming_strings = on`, the
//! default since Postgres 9.1.

/// One statement of a script: its text (trimmed, leading comments dropped, without the `;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
}

/// Splits `sql` into its non-empty statements, in order. Never fails: an unterminated string or
/// comment runs to the end of the script, where the server will report it.
pub fn split_statements(sql: &str) -> Vec<Piece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut state = Words::default();
    let mut parens = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident_byte(bytes[i - 2]));
                i = skip_string(bytes, i, escapes);
            }
            b'"' => i = skip_quoted(bytes, i, b'"'),
            b'$' if i == 0 || !is_ident_byte(bytes[i - 1]) => {
                i = match dollar_tag(bytes, i) {
                    Some(tag_end) => {
                        let tag = &sql[i..tag_end];
                        sql[tag_end..]
                            .find(tag)
                            .map_or(bytes.len(), |n| tag_end + n + tag.len())
                    }
                    None => i + 1,
                };
            }
            b'(' => {
                parens += 1;
                i += 1;
            }
            b')' => {
                parens = parens.saturating_sub(1);
                i += 1;
            }
            // Like psql: a `;` inside parentheses does not end the statement (a multi-action
            // rule: `DO ALSO (INSERT …; INSERT …)`).
            b';' if state.depth == 0 && parens == 0 => {
                push(&mut out, &sql[start..i]);
                i += 1;
                start = i;
                state = Words::default();
                parens = 0;
            }
            _ if is_ident_start(b) => {
                let end = (i..bytes.len())
                    .find(|&j| !is_ident_byte(bytes[j]))
                    .unwrap_or(bytes.len());
                state.word(&sql[i..end], parens);
                i = end;
            }
            b'0'..=b'9' => {
                // A number (or the tail of one), never a word: `1e5` is not the word `e5`.
                i = (i..bytes.len())
                    .find(|&j| !is_ident_byte(bytes[j]) && bytes[j] != b'.')
                    .unwrap_or(bytes.len());
            }
            _ => i += 1,
        }
    }
    push(&mut out, &sql[start..]);
    out
}

fn push<'a>(out: &mut Vec<Piece<'a>>, chunk: &'a str) {
    let text = strip_leading_comments(chunk).trim_end();
    if !text.is_empty() {
        out.push(Piece { text });
    }
}

/// Drops whitespace and comments before the statement's first token.
pub fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |n| &rest[n + 1..]);
        } else if s.starts_with("/*") {
            s = &s[skip_block_comment(s.as_bytes(), 0)..];
        } else {
            return s;
        }
    }
}

/// Tracks the words of a statement for the `BEGIN ATOMIC … END` heuristic (see module docs).
#[derive(Debug, Default)]
struct Words {
    /// The first letters of the first four words, when they are `create`, `or`, `replace`,
    /// `function` or `procedure` (psql's trick).
    first: [u8; 4],
    count: usize,
    depth: usize,
}

impl Words {
    fn word(&mut self, word: &str, parens: usize) {
        let lower = word.to_ascii_lowercase();
        if self.count < self.first.len()
            && matches!(
                lower.as_str(),
                "create" | "or" | "replace" | "function" | "procedure"
            )
        {
            self.first[self.count] = lower.as_bytes()[0];
        }
        self.count += 1;
        let f = self.first;
        let routine = f[0] == b'c'
            && (matches!(f[1], b'f' | b'p')
                || (f[1] == b'o' && f[2] == b'r' && matches!(f[3], b'f' | b'p')));
        if !routine || parens > 0 {
            return;
        }
        match lower.as_str() {
            "begin" => self.depth += 1,
            "case" if self.depth > 0 => self.depth += 1,
            "end" => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// `/* … */`, nested as Postgres nests them. Returns the index just past the comment.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// A `'…'` string starting at `i`; `''` is a quote, and with `escapes` (an `E'…'` string) so is
/// `\'`.
fn skip_string(bytes: &[u8], mut i: usize, escapes: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A `"…"` identifier; `""` is a quote.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// If a dollar-quote tag (`$$` or `$name$`) starts at `i`, the index just past it. `$1` (a
/// parameter) is not a tag: a tag cannot start with a digit.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < bytes.len() && is_ident_start(bytes[j]) {
        j += 1;
        while j < bytes.len() && (is_ident_byte(bytes[j]) && bytes[j] != b'$') {
            j += 1;
        }
    }
    (bytes.get(j) == Some(&b'$')).then_some(j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn semicolons_inside_parentheses_stay() {
        let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;";
        let got: Vec<&str> = split_statements(sql).into_iter().map(|p| p.text).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("VALUES (2))"), "{got:?}");
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(
            texts("SELECT 1; SELECT 2;;\n SELECT 3"),
            ["SELECT 1", "SELECT 2", "SELECT 3"]
        );
        assert!(texts("  -- nothing\n /* at all; */ ;").is_empty());
        assert!(texts("").is_empty());
    }

    #[test]
    fn respects_quotes_and_comments() {
        let sql = "CREATE TABLE t(x TEXT); -- a comment; with a semicolon\n\
                   INSERT INTO t VALUES ('a;b', 'it''s;', E'\\';x', \"we;ird\"\"\");\n\
                   /* block /* nested; */ still; */ SELECT 1 /* ; */;\n\
                   SELECT U&'d;' , 1e5;";
        assert_eq!(
            texts(sql),
            [
                "CREATE TABLE t(x TEXT)",
                "INSERT INTO t VALUES ('a;b', 'it''s;', E'\\';x', \"we;ird\"\"\")",
                "SELECT 1 /* ; */",
                "SELECT U&'d;' , 1e5",
            ]
        );
        // Without the E prefix a backslash is an ordinary character.
        assert_eq!(
            texts("SELECT 'a\\'; SELECT 2"),
            ["SELECT 'a\\'", "SELECT 2"]
        );
    }

    #[test]
    fn respects_dollar_quotes() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n\
                   DO $body$ BEGIN PERFORM '$$;'; END $body$;\n\
                   SELECT $1::int, a$b FROM t;";
        let parts = texts(sql);
        assert_eq!(parts.len(), 3, "{parts:#?}");
        assert!(parts[0].ends_with("END; $$"));
        assert!(parts[1].ends_with("END $body$"));
        assert_eq!(parts[2], "SELECT $1::int, a$b FROM t");
    }

    #[test]
    fn keeps_begin_atomic_bodies_whole() {
        let sql = "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
                   BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\n\
                   BEGIN; SELECT 1; END;\n\
                   CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END;";
        let parts = texts(sql);
        assert_eq!(parts.len(), 5, "{parts:#?}");
        assert!(parts[0].ends_with("SELECT 2;\nEND"), "{}", parts[0]);
        assert_eq!(&parts[1..4], ["BEGIN", "SELECT 1", "END"]);
        assert!(parts[4].starts_with("CREATE PROCEDURE"), "{}", parts[4]);
        assert!(parts[4].ends_with("END"));
        // A function whose body is a string is not a block.
        assert_eq!(
            texts("CREATE FUNCTION g() RETURNS int AS 'select 1' LANGUAGE sql; SELECT 1").len(),
            2
        );
    }

    #[test]
    fn unterminated_runs_to_the_end() {
        assert_eq!(texts("SELECT 'abc; SELECT 2"), ["SELECT 'abc; SELECT 2"]);
        assert_eq!(texts("SELECT $x$ abc; "), ["SELECT $x$ abc;"]);
        assert_eq!(texts("SELECT 1 /* abc; "), ["SELECT 1 /* abc;"]);
    }
}

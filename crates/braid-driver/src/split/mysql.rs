//! Splitting a MySQL/MariaDB script into statements, the way the `mysql` command-line client
//! does, plus `BEGIN … END` awareness for stored programs.
//!
//! Why a splitter at all: the server can run a whole script as one multi-statement query, but
//! then a failure cannot be pinned to a statement, and MySQL commits DDL implicitly, so knowing
//! exactly which statement failed (and that the ones before it took effect) is what lets a user
//! repair a half-applied migration. The runner also uses it for statement-level progress.
//!
//! The splitter is a single pass over the bytes with no allocation per character; it never
//! panics, whatever the input (unterminated quotes and comments simply run to the end).

/// One statement of a script: its text (without the delimiter, trimmed, leading comments
/// dropped) and the 1-based line of the script where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    pub line: usize,
}

/// Splits `sql` into its statements, in order, skipping empty and comment-only ones.
///
/// What it understands:
///
/// * `'…'` and `"…"` strings with backslash escapes and doubled quotes, `` `…` `` identifiers
///   with doubled backticks — a delimiter inside any of them does not end a statement;
/// * `-- ` (dash dash *whitespace*, as MySQL requires), `#` and `/* … */` comments. Executable
///   comments (`/*! … */`, `/*M! … */`, as `mysqldump` writes) are statement text, not comments;
/// * the `DELIMITER xyz` client command (as the `mysql` client: it must start a statement, its
///   argument is the first word after it, and the line is not sent to the server). With a custom
///   delimiter, only that delimiter ends a statement;
/// * with the default `;` delimiter, the bodies of `CREATE`/`ALTER` `PROCEDURE`, `FUNCTION`,
///   `TRIGGER`, `EVENT` and `PACKAGE`, and MariaDB's `BEGIN NOT ATOMIC` blocks: a `;` inside
///   `BEGIN … END`, `CASE … END [CASE]`, `IF … END IF`, `LOOP … END LOOP`,
///   `WHILE … END WHILE` or `REPEAT … END REPEAT` (nested to any depth) does not end the
///   statement. This goes beyond the `mysql` client (which needs `DELIMITER` for these), so
///   scripts written either way work. `BEGIN;` / `BEGIN WORK;` outside a stored program is a
///   transaction start and ends at its `;` as usual;
/// * `\r\n` line endings, and a last statement without a delimiter.
///
/// Known limits: the `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES` SQL modes are not followed (the
/// script is read with MySQL's defaults), and a stored-program body that uses `BEGIN`/`END` as
/// unquoted column names confuses the block tracking (quote them with backticks).
///
/// ```
/// use braid_driver::split::mysql::split_statements;
///
/// let sql = "CREATE TABLE t (s TEXT); -- a comment; not a statement\n\
///            INSERT INTO t VALUES ('a;b');\n\
///            CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.s = 'x'; END;\n\
///            DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n\
///            SELECT 1";
/// let statements = split_statements(sql);
/// assert_eq!(statements.len(), 5);
/// assert_eq!(statements[1].text, "INSERT INTO t VALUES ('a;b')");
/// assert_eq!(statements[1].line, 2);
/// assert_eq!(statements[3].text, "CREATE PROCEDURE p() BEGIN SELECT 1; END");
/// assert_eq!(statements[4].text, "SELECT 1");
/// ```
pub fn split_statements(sql: &str) -> Vec<Statement> {
    Splitter::new(sql).run()
}

/// How the current statement treats `;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No word seen yet.
    Start,
    /// A `CREATE`/`ALTER`: still looking for the kind of object.
    Header { words: usize },
    /// A plain statement: the first `;` (outside quotes and comments) ends it.
    Plain,
    /// A stored program or anonymous block: `;` ends it only outside `BEGIN … END` & co.
    Compound,
}

struct Splitter<'a> {
    sql: &'a str,
    b: &'a [u8],
    i: usize,
    line: usize,
    delimiter: String,
    out: Vec<Statement>,
    /// Byte offset and line of the current statement's first significant character.
    start: Option<(usize, usize)>,
    mode: Mode,
    depth: usize,
    /// Whether the previous token puts the next word at the start of a statement inside a
    /// stored program body (after `;`, `BEGIN`, `THEN`, `ELSE`, `DO`, `LOOP`, `REPEAT`, a
    /// label's `:`), where `IF`, `LOOP`, `WHILE`, `REPEAT` open blocks.
    at_stmt_start: bool,
}

const COMPOUND_OBJECTS: &[&str] = &["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"];
const PLAIN_OBJECTS: &[&str] = &[
    "TABLE",
    "VIEW",
    "INDEX",
    "UNIQUE",
    "FULLTEXT",
    "SPATIAL",
    "DATABASE",
    "SCHEMA",
    "USER",
    "ROLE",
    "SEQUENCE",
    "SERVER",
    "TABLESPACE",
    "TEMPORARY",
    "LOGFILE",
    "INSTANCE",
];
/// How many words after `CREATE`/`ALTER` may precede the object kind (`OR REPLACE`,
/// `DEFINER = u@h`, `AGGREGATE`, `SQL SECURITY …`, `ALGORITHM = …`).
const HEADER_WORDS: usize = 12;

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_space(c: u8) -> bool {
    c.is_ascii_whitespace() || c == 0x0b
}

impl<'a> Splitter<'a> {
    fn new(sql: &'a str) -> Self {
        Splitter {
            sql,
            b: sql.as_bytes(),
            i: 0,
            line: 1,
            delimiter: ";".to_string(),
            out: Vec::new(),
            start: None,
            mode: Mode::Start,
            depth: 0,
            at_stmt_start: false,
        }
    }

    fn run(mut self) -> Vec<Statement> {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                _ if is_space(c) => self.i += 1,
                b'\'' | b'"' | b'`' => {
                    self.mark_start();
                    self.at_stmt_start = false;
                    self.advance(self.skip_quoted(self.i));
                }
                b'#' => self.i = self.skip_line_comment(self.i),
                b'-' if self.is_dash_comment(self.i) => self.i = self.skip_line_comment(self.i),
                b'/' if self.b.get(self.i + 1) == Some(&b'*') => {
                    if self.is_executable_comment(self.i) {
                        self.mark_start();
                        self.at_stmt_start = false;
                    }
                    self.advance(self.skip_block_comment(self.i));
                }
                _ if self.at_delimiter() => {
                    let end = self.i;
                    self.i += self.delimiter.len();
                    self.finish(end);
                    if self.mode == Mode::Compound {
                        self.at_stmt_start = true;
                    }
                }
                _ if is_ident(c) && (self.i == 0 || !is_ident(self.b[self.i - 1])) => {
                    self.word();
                }
                b':' if self.b.get(self.i + 1) != Some(&b'=') => {
                    self.mark_start();
                    self.at_stmt_start = true;
                    self.i += 1;
                }
                b';' => {
                    // A `;` inside a compound body (the delimiter case was handled above).
                    self.mark_start();
                    self.at_stmt_start = true;
                    self.i += 1;
                }
                _ => {
                    self.mark_start();
                    self.at_stmt_start = false;
                    self.i += 1;
                }
            }
        }
        self.finish(self.b.len());
        self.out
    }

    /// Moves to `to`, counting the lines passed.
    fn advance(&mut self, to: usize) {
        let to = to.min(self.b.len());
        self.line += self.b[self.i.min(to)..to]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        self.i = to;
    }

    fn mark_start(&mut self) {
        if self.start.is_none() {
            self.start = Some((self.i, self.line));
        }
    }

    /// Whether the configured delimiter starts at `self.i` and ends the statement here.
    fn at_delimiter(&self) -> bool {
        let d = self.delimiter.as_bytes();
        if !self.b[self.i..].starts_with(d) {
            return false;
        }
        // A custom delimiter ends a statement wherever it appears, as in the `mysql` client; the
        // default `;` does not inside a stored program's blocks.
        !(d == b";" && self.mode == Mode::Compound && self.depth > 0)
    }

    /// Ends the current statement at byte `end` (exclusive) and resets the per-statement state.
    fn finish(&mut self, end: usize) {
        if let Some((start, line)) = self.start.take() {
            let text = self.sql.get(start..end).unwrap_or("").trim();
            if !text.is_empty() {
                self.out.push(Statement {
                    text: text.to_string(),
                    line,
                });
            }
        }
        self.mode = Mode::Start;
        self.depth = 0;
        self.at_stmt_start = false;
    }

    fn word(&mut self) {
        let begin = self.i;
        let mut end = begin;
        // A custom delimiter may be made of word characters (`$$`) and follow a word directly
        // (`END$$`): it ends the word.
        let delimiter = self.delimiter.as_bytes();
        while end < self.b.len() && is_ident(self.b[end]) {
            if end > begin && self.b[end..].starts_with(delimiter) {
                break;
            }
            end += 1;
        }
        let word = &self.b[begin..end];
        // `t.end`, `@begin`, `@@version`: names, never keywords.
        let qualified = begin > 0 && matches!(self.b[begin - 1], b'.' | b'@');
        let first = self.start.is_none();
        if first && word.eq_ignore_ascii_case(b"DELIMITER") {
            let after = self.b.get(end).copied();
            if after.is_none_or(|c| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n') {
                self.delimiter_command(end);
                return;
            }
        }
        self.mark_start();
        self.i = end;
        let was_start = std::mem::replace(&mut self.at_stmt_start, false);
        if qualified {
            return;
        }
        match self.mode {
            Mode::Start => {
                self.mode = if word.eq_ignore_ascii_case(b"CREATE")
                    || word.eq_ignore_ascii_case(b"ALTER")
                {
                    Mode::Header { words: 0 }
                } else if word.eq_ignore_ascii_case(b"BEGIN")
                    && self
                        .peek_word(end)
                        .is_some_and(|(w, _)| w.eq_ignore_ascii_case(b"NOT"))
                {
                    // MariaDB's anonymous block `BEGIN NOT ATOMIC … END`; a bare `BEGIN` or
                    // `BEGIN WORK` starts a transaction and is a plain statement.
                    self.depth = 1;
                    self.at_stmt_start = true;
                    Mode::Compound
                } else {
                    Mode::Plain
                };
            }
            Mode::Header { words } => {
                if COMPOUND_OBJECTS
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
                {
                    self.mode = Mode::Compound;
                } else if PLAIN_OBJECTS
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
                    || words + 1 >= HEADER_WORDS
                {
                    self.mode = Mode::Plain;
                } else {
                    self.mode = Mode::Header { words: words + 1 };
                }
            }
            Mode::Plain => {}
            Mode::Compound => self.compound_word(word, end, was_start),
        }
    }

    /// Tracks block depth for one word of a stored program.
    fn compound_word(&mut self, word: &[u8], end: usize, was_start: bool) {
        let is = |k: &str| word.eq_ignore_ascii_case(k.as_bytes());
        if is("BEGIN") || is("CASE") {
            self.depth += 1;
            self.at_stmt_start = is("BEGIN");
        } else if is("END") {
            self.depth = self.depth.saturating_sub(1);
            // `END IF`, `END CASE`, …: the second word belongs to the closer, not a new block.
            if let Some((next, next_end)) = self.peek_word(end)
                && ["IF", "CASE", "LOOP", "WHILE", "REPEAT"]
                    .iter()
                    .any(|k| next.eq_ignore_ascii_case(k.as_bytes()))
            {
                self.advance(next_end);
            }
        } else if is("LOOP") || is("WHILE") {
            // A body may also *be* the block, with no BEGIN: `… FOR EACH ROW WHILE … END WHILE`.
            if was_start || self.depth == 0 {
                self.depth += 1;
            }
            self.at_stmt_start = is("LOOP");
        } else if is("IF") || is("REPEAT") {
            // `IF(a, b, c)` and `REPEAT(s, n)` are functions; `IF cond THEN` and `REPEAT … UNTIL`
            // are blocks, and only appear where a statement starts — or as the whole body
            // (`FOR EACH ROW IF … END IF`), but not in `CREATE PROCEDURE IF NOT EXISTS`.
            let if_not_exists = is("IF")
                && self
                    .peek_word(end)
                    .is_some_and(|(next, _)| next.eq_ignore_ascii_case(b"NOT"));
            if (was_start || self.depth == 0) && !if_not_exists && !self.is_function_call(end) {
                self.depth += 1;
            }
            self.at_stmt_start = is("REPEAT");
        } else if is("THEN") || is("ELSE") || is("DO") {
            self.at_stmt_start = true;
        }
    }

    /// Whether `(` follows at `from` (after spaces) and its group has a top-level comma, which a
    /// parenthesised condition does not.
    fn is_function_call(&self, from: usize) -> bool {
        let mut j = from;
        while j < self.b.len() && is_space(self.b[j]) {
            j += 1;
        }
        if self.b.get(j) != Some(&b'(') {
            return false;
        }
        let mut level = 0usize;
        while j < self.b.len() {
            match self.b[j] {
                b'\'' | b'"' | b'`' => {
                    j = self.skip_quoted(j);
                    continue;
                }
                b'(' => level += 1,
                b')' => {
                    level = level.saturating_sub(1);
                    if level == 0 {
                        return false;
                    }
                }
                b',' if level == 1 => return true,
                _ => {}
            }
            j += 1;
        }
        false
    }

    /// The next word after `from`, skipping whitespace and comments: its bytes and end offset.
    fn peek_word(&self, from: usize) -> Option<(&'a [u8], usize)> {
        let mut j = from;
        loop {
            let c = *self.b.get(j)?;
            if is_space(c) {
                j += 1;
            } else if c == b'#' || (c == b'-' && self.is_dash_comment(j)) {
                j = self.skip_line_comment(j);
            } else if c == b'/'
                && self.b.get(j + 1) == Some(&b'*')
                && !self.is_executable_comment(j)
            {
                j = self.skip_block_comment(j);
            } else {
                break;
            }
        }
        let begin = j;
        while j < self.b.len() && is_ident(self.b[j]) {
            j += 1;
        }
        (j > begin).then(|| (&self.b[begin..j], j))
    }

    /// `DELIMITER xyz`: the new delimiter is the first word after the command; the rest of the
    /// line is ignored, as by the `mysql` client. Without an argument the command is ignored.
    fn delimiter_command(&mut self, from: usize) {
        let mut j = from;
        while j < self.b.len() && (self.b[j] == b' ' || self.b[j] == b'\t') {
            j += 1;
        }
        let arg_start = j;
        while j < self.b.len() && !is_space(self.b[j]) {
            j += 1;
        }
        if let Some(arg) = self.sql.get(arg_start..j)
            && !arg.is_empty()
        {
            self.delimiter = arg.to_string();
        }
        while j < self.b.len() && self.b[j] != b'\n' {
            j += 1;
        }
        self.i = j;
    }

    /// Returns the offset just past the quoted token starting at `from`.
    fn skip_quoted(&self, from: usize) -> usize {
        let q = self.b[from];
        let mut j = from + 1;
        while j < self.b.len() {
            let c = self.b[j];
            if c == b'\\' && q != b'`' {
                j += 2;
            } else if c == q {
                if self.b.get(j + 1) == Some(&q) {
                    j += 2;
                } else {
                    return j + 1;
                }
            } else {
                j += 1;
            }
        }
        self.b.len()
    }

    fn is_dash_comment(&self, at: usize) -> bool {
        self.b.get(at + 1) == Some(&b'-') && self.b.get(at + 2).is_none_or(|&c| c <= b' ')
    }

    fn is_executable_comment(&self, at: usize) -> bool {
        let rest = &self.b[at + 2..];
        rest.starts_with(b"!") || rest.starts_with(b"M!")
    }

    /// Returns the offset of the `\n` ending the line comment at `from` (or the end).
    fn skip_line_comment(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |n| from + n)
    }

    fn skip_block_comment(&self, from: usize) -> usize {
        self.b[from + 2..]
            .windows(2)
            .position(|w| w == b"*/")
            .map_or(self.b.len(), |n| from + 2 + n + 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split_statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn simple_statements_and_lines() {
        let got =
            split_statements("CREATE TABLE t (id INT);\n\nINSERT INTO t VALUES (1);\nSELECT 1");
        assert_eq!(
            got,
            vec![
                Statement {
                    text: "CREATE TABLE t (id INT)".into(),
                    line: 1
                },
                Statement {
                    text: "INSERT INTO t VALUES (1)".into(),
                    line: 3
                },
                Statement {
                    text: "SELECT 1".into(),
                    line: 4
                },
            ]
        );
    }

    #[test]
    fn empty_and_comment_only_statements_are_skipped() {
        assert!(texts("").is_empty());
        assert!(texts("  ;;\n ; ").is_empty());
        assert!(texts("-- nothing\n/* at all; */ ;\n# here; either\n").is_empty());
        assert_eq!(texts(";;SELECT 1;;"), ["SELECT 1"]);
    }

    #[test]
    fn quotes_hide_delimiters() {
        let sql = "INSERT INTO t VALUES ('a;b', \"c;d\");\nSELECT `we;ird` FROM t;";
        assert_eq!(
            texts(sql),
            [
                "INSERT INTO t VALUES ('a;b', \"c;d\")",
                "SELECT `we;ird` FROM t"
            ]
        );
    }

    #[test]
    fn escaped_and_doubled_quotes() {
        let sql = r#"SELECT 'it''s; ok'; SELECT 'back\'slash; still'; SELECT "dq\"; x", "a""b;"; SELECT `a``b;c`; SELECT 'end\\'; SELECT 2"#;
        assert_eq!(
            texts(sql),
            [
                "SELECT 'it''s; ok'",
                r"SELECT 'back\'slash; still'",
                r#"SELECT "dq\"; x", "a""b;""#,
                "SELECT `a``b;c`",
                r"SELECT 'end\\'",
                "SELECT 2",
            ]
        );
    }

    #[test]
    fn comments_with_delimiters_and_quotes() {
        let sql = "-- it's a comment; really\nSELECT 1; # another 'one; here\n\
                   /* block; with \"quotes' */ SELECT 2 /* inline; */ ;\n\
                   SELECT 3 -- trailing; comment\n;\nSELECT '-- not a comment'; SELECT 4--1;";
        assert_eq!(
            texts(sql),
            [
                "SELECT 1",
                "SELECT 2 /* inline; */",
                "SELECT 3 -- trailing; comment",
                "SELECT '-- not a comment'",
                "SELECT 4--1",
            ]
        );
        // Leading comments are dropped; the line is the statement's own.
        let got = split_statements("-- header\n/* x */\n  SELECT 1;");
        assert_eq!(
            got,
            [Statement {
                text: "SELECT 1".into(),
                line: 3
            }]
        );
    }

    #[test]
    fn executable_comments_are_statements() {
        let sql = "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET x = 1 */;\n/* plain */;";
        assert_eq!(
            texts(sql),
            ["/*!40101 SET NAMES utf8mb4 */", "/*M!100100 SET x = 1 */"]
        );
    }

    #[test]
    fn bodies_that_are_a_single_block() {
        let got = texts(
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a > 0 THEN SET NEW.b = 1; END IF;\n\
             CREATE PROCEDURE p() WHILE 1 = 0 DO SELECT 1; END WHILE;\n\
             CREATE PROCEDURE IF NOT EXISTS q() SELECT 1;\n\
             SELECT 2;",
        );
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].ends_with("END IF"), "{got:?}");
        assert!(got[1].ends_with("END WHILE"), "{got:?}");
        assert_eq!(got[3], "SELECT 2");
    }

    #[test]
    fn trigger_with_begin_end() {
        let sql = "CREATE TABLE t (id INT, n INT);\n\
                   CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\n\
                   BEGIN\n  SET NEW.n = NEW.n + 1;\n  SET NEW.id = NEW.id * 2;\nEND;\n\
                   INSERT INTO t VALUES (1, 2);";
        let got = split_statements(sql);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[1].text.starts_with("CREATE TRIGGER"));
        assert!(got[1].text.ends_with("END"), "{}", got[1].text);
        assert_eq!(got[1].line, 2);
        assert_eq!(got[2].text, "INSERT INTO t VALUES (1, 2)");
        assert_eq!(got[2].line, 7);
    }

    #[test]
    fn procedure_with_nested_blocks() {
        let sql = "CREATE DEFINER=`root`@`%` PROCEDURE p(IN x INT)\n\
            BEGIN\n\
              DECLARE done INT DEFAULT 0;\n\
              DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;\n\
              IF x > 0 THEN\n\
                SET @s = IF(x > 10, 'big', 'small');\n\
                CASE x WHEN 1 THEN SELECT 'one'; ELSE BEGIN SELECT 'many'; END; END CASE;\n\
              ELSEIF x < 0 THEN\n\
                SET @r = REPEAT('-', 3);\n\
              ELSE\n\
                SELECT CASE WHEN x = 0 THEN 'zero' ELSE 'x' END;\n\
              END IF;\n\
              lbl: LOOP\n\
                SET x = x + 1;\n\
                IF (x > 5) THEN LEAVE lbl; END IF;\n\
              END LOOP lbl;\n\
              WHILE x < 10 DO SET x = x + 1; END WHILE;\n\
              REPEAT SET x = x - 1; UNTIL x < 0 END REPEAT;\n\
              DROP TABLE IF EXISTS tmp;\n\
            END;\n\
            CALL p(1);\n\
            SELECT 'after';";
        let got = texts(sql);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(
            got[0].starts_with("CREATE DEFINER") && got[0].ends_with("END"),
            "{}",
            got[0]
        );
        assert_eq!(got[1], "CALL p(1)");
        assert_eq!(got[2], "SELECT 'after'");
    }

    #[test]
    fn tricky_bodies() {
        let sql = "CREATE PROCEDURE p() BEGIN SELECT CASE WHEN 1 THEN IF(1, 2, 3) ELSE REPEAT('a', 2) END; END;\n\
                   CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n\
                     IF NEW.a THEN SET NEW.b = 1; ELSEIF NEW.c THEN SET NEW.b = 2; ELSE SET NEW.b = IF(NEW.d, 3, 4); END IF;\n\
                   END;\n\
                   CREATE FUNCTION f() RETURNS INT READS SQL DATA BEGIN\n\
                     DECLARE x INT; lbl: BEGIN SET x = (SELECT COUNT(*) FROM t WHERE `end` > 1 AND t.begin < 2); END lbl;\n\
                     SET @end := 1; RETURN x;\n\
                   END;\n\
                   create or replace trigger tr2 after update on t for each row set @n = @n + 1;\n\
                   SELECT 'done';";
        let got = texts(sql);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(got[0].ends_with("END; END"), "{}", got[0]);
        assert!(got[1].ends_with("END IF;\nEND"), "{}", got[1]);
        assert!(got[2].ends_with("RETURN x;\nEND"), "{}", got[2]);
        assert_eq!(
            got[3],
            "create or replace trigger tr2 after update on t for each row set @n = @n + 1"
        );
        assert_eq!(got[4], "SELECT 'done'");
    }

    #[test]
    fn large_scripts_split_quickly() {
        let one = "INSERT INTO t (a, b) VALUES (1, 'some; text'), (2, 'more \\' text'); -- note\n";
        let sql = one.repeat(20_000); // ~1.3 MB
        let started = std::time::Instant::now();
        assert_eq!(split_statements(&sql).len(), 20_000);
        // Generous (debug build, shared machine): the point is linear time.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn function_and_event_bodies() {
        let sql = "CREATE FUNCTION f(a INT) RETURNS INT DETERMINISTIC\nBEGIN\n  RETURN a + 1;\nEND;\n\
                   CREATE FUNCTION g() RETURNS INT RETURN 1;\n\
                   CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END;\n\
                   BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;\n\
                   SELECT f(1);";
        let got = texts(sql);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert_eq!(got[1], "CREATE FUNCTION g() RETURNS INT RETURN 1");
        assert_eq!(got[3], "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END");
        assert_eq!(got[4], "SELECT f(1)");
    }

    #[test]
    fn begin_as_transaction_start_does_not_swallow() {
        let sql =
            "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nSELECT 1;\nbegin;\nEND;";
        assert_eq!(
            texts(sql),
            [
                "BEGIN",
                "INSERT INTO t VALUES (1)",
                "COMMIT",
                "BEGIN WORK",
                "SELECT 1",
                "begin",
                "END"
            ]
        );
    }

    #[test]
    fn case_and_begin_in_plain_statements_do_not_nest() {
        let sql = "SELECT CASE WHEN 1 THEN 'a' ELSE 'b' END AS c;\n\
                   CREATE TABLE event (`begin` INT, `end` INT);\n\
                   CREATE TABLE log (id INT, msg TEXT);\nSELECT 2;";
        assert_eq!(texts(sql).len(), 4, "{:#?}", texts(sql));
    }

    #[test]
    fn delimiter_blocks() {
        let sql = "DELIMITER $$\n\
                   CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND$$\n\
                   CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.x = 1$$\n\
                   DELIMITER ;\n\
                   SELECT 'after';\n\
                   delimiter //\nSELECT 3; SELECT 4//\nDELIMITER ;\nSELECT 5;";
        let got = split_statements(sql);
        let t: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            t,
            [
                "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
                "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.x = 1",
                "SELECT 'after'",
                "SELECT 3; SELECT 4",
                "SELECT 5",
            ]
        );
        assert_eq!(got[0].line, 2);
        assert_eq!(got[2].line, 9);
        // A `DELIMITER` that is not the first word is not the command.
        assert_eq!(
            texts("SELECT delimiter FROM t; SELECT 1"),
            ["SELECT delimiter FROM t", "SELECT 1"]
        );
    }

    #[test]
    fn mysqldump_style_trigger() {
        let sql = "DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr \
                   BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\nDELIMITER ;\nSELECT 1;";
        let got = texts(sql);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[1], "SELECT 1");
    }

    #[test]
    fn windows_line_endings() {
        let sql = "CREATE TABLE t (id INT);\r\n-- c;\r\nINSERT INTO t VALUES ('x\r\ny');\r\nDELIMITER $$\r\nSELECT 1$$\r\nDELIMITER ;\r\nSELECT 2\r\n";
        let got = split_statements(sql);
        let t: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            t,
            [
                "CREATE TABLE t (id INT)",
                "INSERT INTO t VALUES ('x\r\ny')",
                "SELECT 1",
                "SELECT 2"
            ]
        );
        assert_eq!(got.iter().map(|s| s.line).collect::<Vec<_>>(), [1, 3, 6, 8]);
    }

    #[test]
    fn trailing_statement_without_delimiter() {
        assert_eq!(texts("SELECT 1; SELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT 1 -- done"), ["SELECT 1 -- done"]);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for sql in [
            "SELECT 'abc",
            "SELECT \"abc\\",
            "SELECT `x",
            "/* open",
            "/*",
            "/*!",
            "CREATE PROCEDURE p() BEGIN SELECT 1;",
            "DELIMITER",
            "DELIMITER ",
            "--",
            "-",
            "'\\",
            "END; END IF; END",
            "é;ü;😀",
        ] {
            let _ = split_statements(sql);
        }
        assert_eq!(texts("SELECT 'a;b"), ["SELECT 'a;b"]);
        assert_eq!(texts("é;ü ; 😀"), ["é", "ü", "😀"]);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn statement() -> impl Strategy<Value = String> {
            let literal = "[a-z ;'\"`\\\\#\\-/*é😀]{0,12}"
                .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")));
            prop_oneof![
                (0i64..1000).prop_map(|n| format!("SELECT {n}")),
                literal
                    .clone()
                    .prop_map(|l| format!("INSERT INTO t (v) VALUES ({l})")),
                ("[a-z]{1,8}", literal).prop_map(|(c, l)| format!("UPDATE t SET `{c}` = {l}")),
                "[a-z]{1,8}".prop_map(|n| format!("CREATE TABLE `{n}` (id INT)")),
                Just("BEGIN".to_string()),
                Just("COMMIT".to_string()),
                Just(
                    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END"
                        .to_string()
                ),
            ]
        }

        proptest! {
            #[test]
            fn never_panics(sql in "\\PC*") {
                let _ = split_statements(&sql);
            }

            #[test]
            fn never_panics_on_sql_like_input(sql in "[a-zA-Z ;'\"`\\\\#\\-/*!$\r\n()]{0,80}") {
                for s in split_statements(&sql) {
                    prop_assert!(!s.text.is_empty());
                    prop_assert!(s.line >= 1);
                }
            }

            #[test]
            fn join_then_split_round_trips(
                stmts in prop::collection::vec(statement(), 0..8),
                sep in prop_oneof![Just(";\n"), Just(";"), Just(" ;\r\n-- note; 'x\n"), Just(";\n/* c; */\n")],
            ) {
                let sql = stmts.join(sep);
                prop_assert_eq!(texts_of(&sql), stmts);
            }
        }

        fn texts_of(sql: &str) -> Vec<String> {
            split_statements(sql).into_iter().map(|s| s.text).collect()
        }
    }
}

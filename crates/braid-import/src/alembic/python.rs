//! Just enough of Python to read an Alembic revision file's module-level assignments and its
//! docstring without running it.
//!
//! The file is split into tokens (names, string literals, punctuation) and logical lines, the
//! way Python does: brackets and backslashes join lines, comments are dropped, and strings may
//! span lines. Only statements that start in column 0 are module level; everything indented
//! (the bodies of `upgrade()` and `downgrade()`) is passed over.

/// A token of a Python source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// An identifier or keyword (`revision`, `None`, `Union`).
    Name(String),
    /// A string literal, its escapes resolved; `plain` is false for bytes and f-strings, which
    /// cannot be revision ids.
    Str { value: String, plain: bool },
    /// Any other character outside a string or comment (`=`, `(`, `,`, digits).
    Punct(char),
}

/// A token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Located {
    pub token: Token,
    pub line: usize,
}

/// A logical line: one statement's tokens, and whether it starts in column 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Statement {
    pub tokens: Vec<Located>,
    pub top_level: bool,
}

impl Statement {
    /// The line the statement starts on.
    pub fn line(&self) -> usize {
        self.tokens.first().map_or(1, |t| t.line)
    }
}

/// A problem in the source text: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub line: usize,
    pub problem: String,
}

/// Splits `source` into logical lines.
pub(super) fn statements(source: &str) -> Result<Vec<Statement>, SyntaxError> {
    Lexer::new(source).run()
}

/// The module docstring: the first statement when it is nothing but string literals.
pub(super) fn docstring(statements: &[Statement]) -> Option<String> {
    let first = statements.first()?;
    let mut text = String::new();
    for t in &first.tokens {
        match &t.token {
            Token::Str { value, .. } => text.push_str(value),
            _ => return None,
        }
    }
    Some(text)
}

/// A module-level `name = value` or `name: annotation = value`: the name and the value's
/// tokens. `None` for any other statement (a `def`, an import, `x += 1`, `x == y`).
pub(super) fn assignment(statement: &Statement) -> Option<(&str, &[Located])> {
    if !statement.top_level {
        return None;
    }
    let tokens = &statement.tokens;
    let Token::Name(name) = &tokens.first()?.token else {
        return None;
    };
    let equals = match tokens.get(1).map(|t| &t.token) {
        Some(Token::Punct('=')) => 1,
        Some(Token::Punct(':')) => annotation_end(tokens)?,
        _ => return None,
    };
    if matches!(
        tokens.get(equals + 1).map(|t| &t.token),
        Some(Token::Punct('='))
    ) {
        return None;
    }
    Some((name.as_str(), &tokens[equals + 1..]))
}

/// The index of the `=` after an annotation (`: Union[str, None] =`): the first one outside
/// brackets. `None` for an annotation without a value.
fn annotation_end(tokens: &[Located]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(2) {
        match t.token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Token::Punct('=') if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Whether the module-level function `name` does nothing: its body is only `pass`, `...` or
/// a docstring (Alembic writes merge revisions so). `false` when there is no such function.
pub(super) fn does_nothing(statements: &[Statement], name: &str) -> bool {
    let Some(at) = statements.iter().position(|s| defines(s, name)) else {
        return false;
    };
    let header = &statements[at].tokens;
    let same_line = body_start(header).map_or(&[][..], |start| &header[start..]);
    let mut body: Vec<&[Located]> = Vec::new();
    if !same_line.is_empty() {
        body.push(same_line);
    }
    body.extend(
        statements[at + 1..]
            .iter()
            .take_while(|s| !s.top_level)
            .map(|s| s.tokens.as_slice()),
    );
    !body.is_empty() && body.into_iter().all(is_no_op)
}

/// Whether `statement` is `def name(……`, at module level.
fn defines(statement: &Statement, name: &str) -> bool {
    statement.top_level
        && matches!(
            statement.tokens.as_slice(),
            [def, n, ..] if def.token == Token::Name("def".to_string())
                && n.token == Token::Name(name.to_string())
        )
}

/// In a `def` statement, where the body starts when it is on the same line: after the first
/// `:` outside brackets (the parameters' annotations are inside them).
fn body_start(header: &[Located]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in header.iter().enumerate() {
        match t.token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Token::Punct(':') if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// `pass`, `...`, or a string on its own.
fn is_no_op(tokens: &[Located]) -> bool {
    let pass = Token::Name("pass".to_string());
    let dot = Token::Punct('.');
    match tokens {
        [only] if only.token == pass => true,
        [a, b, c] if [a, b, c].iter().all(|t| t.token == dot) => true,
        _ => !tokens.is_empty() && tokens.iter().all(|t| matches!(t.token, Token::Str { .. })),
    }
}

/// The value of an assignment Alembic reads ids from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    None,
    One(String),
    Many(Vec<String>),
}

impl Value {
    /// The strings, in order: none, one, or many.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Value::None => Vec::new(),
            Value::One(s) => vec![s],
            Value::Many(v) => v,
        }
    }
}

/// Reads `None`, a string, or a tuple, list or set of strings (with or without brackets, a
/// trailing comma allowed). Adjacent literals are one string, as in Python. Anything else is a
/// problem described for the user.
pub(super) fn value(tokens: &[Located]) -> Result<Value, String> {
    match tokens {
        [] => Err("the value is missing".to_string()),
        [single] if single.token == Token::Name("None".to_string()) => Ok(Value::None),
        [first, .., last] if is_open(&first.token) => {
            if !closes(&first.token, &last.token) {
                return Err(format!(
                    "expected {} to close the bracket opened on line {}",
                    closing(&first.token),
                    first.line
                ));
            }
            strings(&tokens[1..tokens.len() - 1]).map(Value::Many)
        }
        _ => {
            let items = strings(tokens)?;
            let bare_tuple = tokens.iter().any(|t| t.token == Token::Punct(','));
            match items.len() {
                1 if !bare_tuple => Ok(Value::One(items.into_iter().next().unwrap_or_default())),
                _ => Ok(Value::Many(items)),
            }
        }
    }
}

fn is_open(token: &Token) -> bool {
    matches!(token, Token::Punct('(' | '[' | '{'))
}

fn closing(open: &Token) -> char {
    match open {
        Token::Punct('(') => ')',
        Token::Punct('[') => ']',
        _ => '}',
    }
}

fn closes(open: &Token, close: &Token) -> bool {
    *close == Token::Punct(closing(open))
}

/// Comma-separated string literals (a trailing comma allowed).
fn strings(tokens: &[Located]) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut current: Option<String> = None;
    for t in tokens {
        match &t.token {
            Token::Str { value, plain: true } => {
                current.get_or_insert_with(String::new).push_str(value);
            }
            Token::Punct(',') => match current.take() {
                Some(s) => items.push(s),
                None => {
                    return Err(format!(
                        "line {}: a comma without a string before it",
                        t.line
                    ));
                }
            },
            other => {
                return Err(format!(
                    "line {}: expected None, a string, or a tuple or list of strings; found {}",
                    t.line,
                    describe(other)
                ));
            }
        }
    }
    items.extend(current);
    Ok(items)
}

/// A token as the user would recognise it in an error message.
fn describe(token: &Token) -> String {
    match token {
        Token::Name(n) => format!("`{n}`"),
        Token::Str { .. } => "a bytes or f-string literal".to_string(),
        Token::Punct(c) => format!("`{c}`"),
    }
}

/// The tokenizer: a cursor over the characters, the brackets still open, and the statement being
/// gathered.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    source: &'a str,
    line: usize,
    column: usize,
    /// The lines of the brackets still open.
    open: Vec<usize>,
    current: Vec<Located>,
    current_top_level: bool,
    done: Vec<Statement>,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Lexer {
            chars: source.char_indices().peekable(),
            source,
            line: 1,
            column: 0,
            open: Vec::new(),
            current: Vec::new(),
            current_top_level: true,
            done: Vec::new(),
        }
    }

    fn run(mut self) -> Result<Vec<Statement>, SyntaxError> {
        while let Some((at, c)) = self.chars.next() {
            match c {
                '\n' => self.newline(),
                ' ' | '\t' | '\x0c' | '\r' => self.column += 1,
                '#' => self.skip_comment(),
                '\\' if self.next_is('\n') || self.next_is('\r') => self.continuation(),
                '\'' | '"' => self.string(c, "")?,
                c if c.is_alphabetic() || c == '_' => self.name(at, c)?,
                c => {
                    match c {
                        '(' | '[' | '{' => self.open.push(self.line),
                        ')' | ']' | '}' => _ = self.open.pop(),
                        _ => {}
                    }
                    self.push(Token::Punct(c), self.line);
                }
            }
        }
        if let Some(&line) = self.open.first() {
            return Err(SyntaxError {
                line,
                problem: "a bracket opened here is never closed".to_string(),
            });
        }
        self.end_statement();
        Ok(self.done)
    }

    fn next_is(&mut self, c: char) -> bool {
        self.chars.peek().is_some_and(|&(_, n)| n == c)
    }

    /// Adds a token to the statement; the first token decides whether it is module level.
    fn push(&mut self, token: Token, line: usize) {
        if self.current.is_empty() {
            self.current_top_level = self.column == 0;
        }
        self.column += 1;
        self.current.push(Located { token, line });
    }

    fn newline(&mut self) {
        self.line += 1;
        self.column = 0;
        if self.open.is_empty() {
            self.end_statement();
        }
    }

    fn end_statement(&mut self) {
        if !self.current.is_empty() {
            self.done.push(Statement {
                tokens: std::mem::take(&mut self.current),
                top_level: self.current_top_level,
            });
        }
    }

    fn skip_comment(&mut self) {
        while self.chars.next_if(|&(_, c)| c != '\n').is_some() {}
    }

    /// A backslash at the end of a line joins the next line to this statement.
    fn continuation(&mut self) {
        if self.next_is('\r') {
            self.chars.next();
        }
        if self.next_is('\n') {
            self.chars.next();
        }
        self.line += 1;
        self.column += 1;
    }

    /// An identifier, or the prefix of a string literal (`r'…'`, `u"…"`, `b'…'`, `f"…"`).
    fn name(&mut self, start: usize, first: char) -> Result<(), SyntaxError> {
        let mut end = start + first.len_utf8();
        while let Some((at, c)) = self
            .chars
            .next_if(|&(_, c)| c.is_alphanumeric() || c == '_')
        {
            end = at + c.len_utf8();
        }
        let word = &self.source[start..end];
        let is_prefix = word.len() <= 2
            && word
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'u' | 'b' | 'f'));
        match self.chars.peek() {
            Some(&(_, q @ ('\'' | '"'))) if is_prefix => {
                self.chars.next();
                self.string(q, word)
            }
            _ => {
                self.push(Token::Name(word.to_string()), self.line);
                Ok(())
            }
        }
    }

    /// A string literal whose opening quote `quote` was just read.
    fn string(&mut self, quote: char, prefix: &str) -> Result<(), SyntaxError> {
        let start_line = self.line;
        let triple = self.opens_triple(quote);
        let raw = prefix.to_ascii_lowercase().contains('r');
        let mut value = String::new();
        loop {
            let Some((_, c)) = self.chars.next() else {
                return Err(SyntaxError {
                    line: start_line,
                    problem: "a string literal is not closed".to_string(),
                });
            };
            match c {
                '\\' => self.escape(raw, &mut value),
                '\n' if !triple => {
                    return Err(SyntaxError {
                        line: start_line,
                        problem: "a string literal is not closed before the end of the line"
                            .to_string(),
                    });
                }
                '\n' => {
                    self.line += 1;
                    value.push('\n');
                }
                c if c == quote && (!triple || self.closes_triple(quote)) => break,
                c => value.push(c),
            }
        }
        let lower = prefix.to_ascii_lowercase();
        let plain = !lower.contains('b') && !lower.contains('f');
        self.push(Token::Str { value, plain }, start_line);
        Ok(())
    }

    /// After an opening quote: whether two more follow (and consumes them).
    fn opens_triple(&mut self, quote: char) -> bool {
        let mut ahead = self.chars.clone();
        if ahead.next().map(|(_, c)| c) == Some(quote)
            && ahead.next().map(|(_, c)| c) == Some(quote)
        {
            self.chars.next();
            self.chars.next();
            return true;
        }
        false
    }

    /// Inside a triple-quoted string, after one closing quote: whether two more follow.
    fn closes_triple(&mut self, quote: char) -> bool {
        self.opens_triple(quote)
    }

    /// The character after a backslash: resolved in a plain string, kept in a raw one.
    fn escape(&mut self, raw: bool, value: &mut String) {
        let Some((_, c)) = self.chars.next() else {
            return;
        };
        if c == '\n' {
            self.line += 1;
        }
        if raw {
            value.push('\\');
            value.push(c);
            return;
        }
        match c {
            'n' => value.push('\n'),
            't' => value.push('\t'),
            'r' => value.push('\r'),
            '\n' => {}
            '\\' | '\'' | '"' => value.push(c),
            other => {
                value.push('\\');
                value.push(other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignments(source: &str) -> Vec<(String, Value)> {
        statements(source)
            .unwrap()
            .iter()
            .filter_map(|s| assignment(s).map(|(n, v)| (n.to_string(), value(v).unwrap())))
            .collect()
    }

    #[test]
    fn reads_plain_and_annotated_assignments() {
        let source = concat!(
            "revision = 'abc'\n",
            "down_revision: Union[str, Sequence[str], None] = (\n",
            "    \"a\",  # first\n",
            "    'b',\n",
            ")\n",
            "branch_labels = None\n",
            "depends_on: str = u'x' 'y'\n",
        );
        assert_eq!(
            assignments(source),
            vec![
                ("revision".to_string(), Value::One("abc".to_string())),
                (
                    "down_revision".to_string(),
                    Value::Many(vec!["a".to_string(), "b".to_string()])
                ),
                ("branch_labels".to_string(), Value::None),
                ("depends_on".to_string(), Value::One("xy".to_string())),
            ]
        );
    }

    #[test]
    fn indented_and_docstring_text_are_not_module_level() {
        let source = "\"\"\"msg\n\nrevision = 'no'\n\"\"\"\n\
                      def upgrade():\n    revision = 'inner'\n\
                      revision = 'yes'\n";
        let found = assignments(source);
        assert_eq!(
            found,
            vec![("revision".to_string(), Value::One("yes".to_string()))]
        );
        let all = statements(source).unwrap();
        assert_eq!(docstring(&all).as_deref(), Some("msg\n\nrevision = 'no'\n"));
    }

    #[test]
    fn bare_tuple_and_single_item_tuple_are_many() {
        assert_eq!(
            assignments("x = 'a', 'b'\ny = ('a',)\n")
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>(),
            vec![
                Value::Many(vec!["a".to_string(), "b".to_string()]),
                Value::Many(vec!["a".to_string()])
            ]
        );
    }

    #[test]
    fn functions_that_do_nothing() {
        let source = "def upgrade() -> None:\n    \"\"\"Upgrade.\"\"\"\n    pass\n\n\n\
                      def downgrade(x: int = 1):\n    op.drop_table('t')\n\n\
                      def other(): ...\n";
        let all = statements(source).unwrap();
        assert!(does_nothing(&all, "upgrade"));
        assert!(!does_nothing(&all, "downgrade"));
        assert!(does_nothing(&all, "other"));
        assert!(!does_nothing(&all, "missing"));
    }

    #[test]
    fn unclosed_string_is_an_error_with_its_line() {
        let err = statements("a = 1\nrevision = 'abc\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn other_values_are_problems() {
        let s = statements("down_revision = ('a' 'b', get())\n").unwrap();
        let (_, tokens) = assignment(&s[0]).unwrap();
        assert!(value(tokens).unwrap_err().contains("`get`"));
        let err = statements("x = 1\ndown_revision = ('a', 'b'\n\ndef upgrade():\n    pass\n")
            .unwrap_err();
        assert_eq!(err.line, 2);
    }
}

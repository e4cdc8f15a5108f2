//! Hiding passwords in database URLs, connection strings and free-form messages.
//!
//! The rule is that no password, or part of one, reaches a message, whatever characters it is
//! made of. A URL whose credentials can be read without any doubt is shown with the password
//! replaced by `***`; a URL that can be read in more than one way is not shown at all.
//!
//! # [`redact_url`]: one URL or connection string
//!
//! * `scheme://…` is parsed with the `url` crate (WHATWG URL rules, which mysql_async also uses).
//!   If every `@` of the input lies in the authority the parser saw, the parser's user info is
//!   the whole of the credentials (a password written with a raw `@`, `:` or space included),
//!   and the URL is shown with its password replaced: `postgres://u:***@h:5432/db`.
//! * If nothing before the last `@` contains a `:` (or there is no `@`), there is no password
//!   under any reading (tokio-postgres ends the credentials at the *first* `@`, the `url` crate
//!   at the last `@` of the authority): the URL is shown as written.
//! * A URL the parser rejects but that holds exactly one `@` is unambiguous too: the password is
//!   whatever lies between the first `:` and that `@` (`postgres://u:pa/ss#x@h/db`, which
//!   tokio-postgres accepts), shown as `postgres://u:***@h/db`.
//! * Anything else is in doubt — a URL the parser reads with an `@` outside its authority
//!   (`postgres://u:12#ss@h/db`), several `@` and a parse error — and is shown as
//!   `scheme://<redacted>` (the scheme only when it is made of ASCII letters), or
//!   `<redacted URL>`.
//! * In every URL shown, the value of the first parameter whose name looks sensitive
//!   (`password`, `pass`, `pwd`, `sslpassword`, `sslkey-password`, `token`, `secret`, … —
//!   any key containing `pass`, `pwd`, `secret`, `token` or `apikey`, case-insensitive,
//!   percent-decoded) is replaced with `***` *together with everything after it*: a raw `&` or
//!   `#` in the value would otherwise leave its end visible.
//! * `sqlite:` URLs name a file and hold no credentials: they are shown as written (the rules
//!   above apply to a `sqlite://` URL with an `@`; a `sqlite:x` one with an `@` is in doubt).
//!   Any other URL without `//` is in doubt.
//! * A libpq key-value string (`host=h user=u password='p w' dbname=d`) is shown with the values
//!   of sensitive keys replaced by `***`, if it follows libpq's syntax exactly (single-quoted
//!   values with backslash escapes, or unquoted values up to the next space); otherwise it is in
//!   doubt. Any other string without a scheme is shown as `<redacted URL>`.
//!
//! # [`redact_text`]: free text
//!
//! Messages from other libraries (figment, TOML parse errors quoting a line of the config file)
//! may contain URLs anywhere. Each `scheme://` found is redacted with [`redact_url`]. Its end is
//! the closing quote when the URL is quoted (`"…"` with backslash escapes, as `{:?}` and TOML
//! write them, or `'…'`/`` `…` ``), otherwise the next space; and because a password may contain
//! spaces or quotes, the URL is taken to run on to the last `@` of the line (for quoted URLs:
//! the last `@` before the next URL). An unquoted URL in doubt takes the rest of its line with
//! it. Sensitive `key = value` fragments are redacted to the end of the value (a quoted value's
//! closing quote, the closing `"` of the string they are in, or the end of the line), and any
//! other word of the form `x:y@z` is replaced with `<redacted>`.

use url::{Position, Url};

/// What replaces a password.
const MASK: &str = "***";
/// What replaces a URL, or a part of one, that cannot be shown.
const REDACTED: &str = "<redacted>";
/// What replaces a string with not even a scheme to show.
const REDACTED_URL: &str = "<redacted URL>";

/// Fragments of key names that mark a value as secret, matched against the key lowercased,
/// percent-decoded and stripped of everything but letters and digits.
const SENSITIVE: [&str; 5] = ["pass", "pwd", "secret", "token", "apikey"];

/// How many characters of a statement [`statement_excerpt`] shows.
pub const EXCERPT_CHARS: usize = 200;

/// A SQL statement as a person may see it in a message: on one line, at most
/// [`EXCERPT_CHARS`] characters, and with no password. URLs and `key=value` secrets are masked
/// by [`redact_text`]; SQL also takes passwords as plain literals (`PASSWORD 'x'`,
/// `IDENTIFIED BY 'x'`, `PASSWORD('x')`), so the text is cut before the first word that may
/// introduce one.
pub fn statement_excerpt(sql: &str) -> String {
    let redacted = redact_text(sql);
    let mut text = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    // ASCII lowercasing keeps byte offsets, so `cut` is a char boundary of `text` too.
    let lower = text.to_ascii_lowercase();
    let cut = crate::error::SECRET_WORDS
        .iter()
        .filter_map(|word| lower.find(word))
        .min();
    if let Some(cut) = cut {
        text.truncate(cut);
    }
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if cut.is_some() {
        out.push_str("… (the rest is hidden: it may hold a password)");
    } else if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Replaces the password in a URL or connection string with `***`, so that it can be printed
/// in messages and logs (sensitive query parameters too); a URL that cannot be read without
/// doubt is not shown at all.
pub fn redact_url(url: &str) -> String {
    redact(url).text
}

/// Whether [`redact_url`] hides anything of `url`: a password, a sensitive parameter, or the
/// whole URL because it cannot be read without doubt. A driver whose URL parser reports errors
/// that quote parts of the URL (a parameter's name or value) should not show those messages
/// for such a URL: a password with a raw `&`, `?` or `#` spills into those parts.
pub fn url_has_secret(url: &str) -> bool {
    let r = redact(url);
    r.doubt || r.text.contains(MASK)
}

/// Why [`with_database`] cannot name another database on the server of a URL. Messages show
/// the URL only redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// A URL of a backend without a server (`sqlite:`), or not a URL nor a connection string.
    #[error(
        "`{shown}` names no database server: only a server's URL (postgres://…, mysql://…) or a \
         key-value connection string (host=… dbname=…) can name another database on it"
    )]
    NoServer { shown: String },
    /// A URL whose credentials could end at more than one place (a raw `#`, `?` or `@` in a
    /// password): where its database name lies cannot be told either.
    #[error(
        "`{shown}` cannot be read without doubt (percent-encode characters such as @ : / ? # in \
         the password), so another database on its server cannot be named"
    )]
    Ambiguous { shown: String },
    /// The database name given is empty.
    #[error("a database name cannot be empty")]
    EmptyName,
}

/// `url` with its database replaced by `database`: the URL a client uses to reach another
/// database of the same server, as the same user, with the same options (TLS settings
/// included). Used to reach a scratch database next to a configured one.
///
/// * `postgres://…`, `mysql://…` (any `scheme://` URL): the path becomes `/<database>`
///   (percent-encoded), and a `dbname` query parameter, which libpq lets override the path, is
///   removed. A URL a parser rejects (a Postgres host list `h1:5432,h2:5433`, a password with a
///   raw `/`) is handled when it holds at most one `@`; a URL that can be read in more than one
///   way is refused ([`DatabaseUrlError::Ambiguous`]), as [`redact_url`] refuses to show it.
/// * A libpq key-value string (`host=h user=u dbname=app`): the last `dbname` value is replaced
///   (quoted when needed), or `dbname=<database>` is added.
/// * `sqlite:` and anything else: [`DatabaseUrlError::NoServer`].
///
/// The result holds the password `url` holds: never print it, redact it.
pub fn with_database(url: &str, database: &str) -> Result<String, DatabaseUrlError> {
    if database.is_empty() {
        return Err(DatabaseUrlError::EmptyName);
    }
    let trimmed = url.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    let no_server = || DatabaseUrlError::NoServer {
        shown: redact_url(url),
    };
    match split_scheme(trimmed) {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("sqlite") => Err(no_server()),
        Some((_, after_colon)) if after_colon.starts_with("//") => {
            url_with_database(trimmed, database)
        }
        Some(_) => Err(no_server()),
        None => key_values_with_database(trimmed, database).ok_or_else(no_server),
    }
}

/// [`with_database`] for a `scheme://` URL.
fn url_with_database(url: &str, database: &str) -> Result<String, DatabaseUrlError> {
    if redact(url).doubt {
        return Err(DatabaseUrlError::Ambiguous {
            shown: redact_url(url),
        });
    }
    let (url, _) = crate::options::take_params(url, &["dbname"]);
    let path = format!("/{}", percent_encode_segment(database));
    match Url::parse(&url) {
        // `postgres:///app` has no host (libpq takes it from PGHOST), and a path all the same.
        Ok(mut parsed) if !parsed.cannot_be_a_base() => {
            parsed.set_path(&path);
            Ok(parsed.to_string())
        }
        Ok(_) => Err(DatabaseUrlError::NoServer {
            shown: redact_url(&url),
        }),
        Err(_) => replace_path(&url, &path).ok_or_else(|| DatabaseUrlError::Ambiguous {
            shown: redact_url(&url),
        }),
    }
}

/// The path of a URL the `url` crate rejects replaced by `path`, when the URL holds at most one
/// `@` (so the credentials end there, under every reading).
fn replace_path(url: &str, path: &str) -> Option<String> {
    let body = url.find("://")? + 3;
    let rest = &url[body..];
    if rest.matches('@').count() > 1 {
        return None;
    }
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    let authority_end = rest[host_start..]
        .find(['/', '?', '#'])
        .map_or(rest.len(), |i| host_start + i);
    let path_end = rest[authority_end..]
        .find(['?', '#'])
        .map_or(rest.len(), |i| authority_end + i);
    Some(format!(
        "{}{path}{}",
        &url[..body + authority_end],
        &rest[path_end..]
    ))
}

/// [`with_database`] for a libpq key-value string; `None` if `s` is not one.
fn key_values_with_database(s: &str, database: &str) -> Option<String> {
    let pairs = key_value_pairs(s)?;
    let value = libpq_value(database);
    match pairs.iter().rev().find(|p| &s[p.key.clone()] == "dbname") {
        Some(pair) => Some(format!(
            "{}{value}{}",
            &s[..pair.value.start],
            &s[pair.value.end..]
        )),
        None => Some(format!("{} dbname={value}", s.trim_end())),
    }
}

/// `value` as a libpq connection-string value: as it is when it is made of letters, digits and
/// `_`, else single-quoted with `\` and `'` escaped.
fn libpq_value(value: &str) -> String {
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return value.to_string();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `segment` percent-encoded for one URL path segment: every byte but unreserved ones
/// (letters, digits, `-._~`).
fn percent_encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result of redacting one URL.
struct Redacted {
    text: String,
    /// The URL could not be read: nothing of it is shown.
    doubt: bool,
}

impl Redacted {
    fn shown(text: String) -> Self {
        Redacted { text, doubt: false }
    }

    /// Nothing but the scheme, if it is made of letters only.
    fn doubt(scheme: Option<&str>, slashes: bool) -> Self {
        let text = match scheme {
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
                format!("{s}:{}{REDACTED}", if slashes { "//" } else { "" })
            }
            _ => REDACTED_URL.to_string(),
        };
        Redacted { text, doubt: true }
    }
}

fn redact(input: &str) -> Redacted {
    // The `url` crate ignores leading and trailing spaces and control characters too.
    let trimmed = input.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    let Some((scheme, after_colon)) = split_scheme(trimmed) else {
        return match redact_key_values(trimmed) {
            Some(text) => Redacted::shown(text),
            None => Redacted::doubt(None, false),
        };
    };
    let Some(rest) = after_colon.strip_prefix("//") else {
        // `sqlite:relative.db`, `sqlite::memory:`: a file, no credentials.
        if scheme.eq_ignore_ascii_case("sqlite") && !after_colon.contains('@') {
            return Redacted::shown(redact_keys_to_end(trimmed));
        }
        return Redacted::doubt(Some(scheme), false);
    };
    match redact_hierarchical(trimmed, scheme, rest) {
        Some(text) => Redacted::shown(text),
        None => Redacted::doubt(Some(scheme), true),
    }
}

/// `scheme` and what follows its `:`, if `s` starts with a valid URL scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then(|| (scheme, &s[colon + 1..]))
}

/// Schemes the `url` crate treats as special: for them a `\` ends the authority like a `/`.
fn is_special(scheme: &str) -> bool {
    ["http", "https", "ws", "wss", "ftp", "file"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
}

/// `scheme://rest`, redacted, or `None` when in doubt.
fn redact_hierarchical(input: &str, scheme: &str, rest: &str) -> Option<String> {
    let Some(last_at) = rest.rfind('@') else {
        return Some(redact_keys_to_end(input));
    };
    if !rest[..last_at].contains(':') {
        // No `:` before any `@`: no password under any reading.
        return Some(redact_keys_to_end(input));
    }
    match Url::parse(input) {
        Ok(url) => {
            let delimiters: &[char] = if is_special(scheme) {
                &['/', '?', '#', '\\']
            } else {
                &['/', '?', '#']
            };
            let authority_end = rest.find(delimiters).unwrap_or(rest.len());
            if last_at > authority_end || !url.has_host() {
                // The parser ended the authority before an `@`: read otherwise (tokio-postgres
                // takes everything up to the first `@`), that text is a password.
                return None;
            }
            // Every `@` is in the authority, so the parser's user info runs to the last one,
            // and its password from the first `:` to there: everything that could be secret.
            let raw_password = rest[..last_at].split_once(':').map_or("", |(_, p)| p);
            let mut shown = url[..Position::AfterUsername].to_string();
            match url.password() {
                Some(_) => shown.push_str(&format!(":{MASK}@")),
                None if !raw_password.is_empty() => return None,
                None => shown.push_str(&url[Position::AfterUsername..Position::BeforeHost]),
            }
            shown.push_str(&url[Position::BeforeHost..Position::AfterPort]);
            shown.push_str(&redact_keys_to_end(&url[Position::BeforePath..]));
            Some(shown)
        }
        // A password with a raw `/`, `?` or `#`, or a host list (`h1:5432,h2:5433`), which the
        // parser rejects: unambiguous if there is a single `@`.
        Err(_) if rest.matches('@').count() == 1 => {
            // `rest[..last_at]` contains a `:`, so the first `:` is before the `@`.
            let user = &rest[..rest.find(':')?];
            let after = &rest[last_at + 1..];
            Some(format!(
                "{}{user}:{MASK}@{}",
                &input[..input.len() - rest.len()],
                redact_keys_to_end(after)
            ))
        }
        Err(_) => None,
    }
}

/// Whether a parameter named `key` holds a secret.
fn is_sensitive_key(key: &str) -> bool {
    let decoded = percent_decode(key);
    let normal: String = decoded
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE.iter().any(|k| normal.contains(k))
}

/// `%XX` decoded (invalid sequences kept), lossily as UTF-8.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The characters of a parameter name, as found before an `=`.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '%')
}

/// The start of the key that ends at `end` (exclusive) in `s`, skipping spaces before `end`
/// when `spaces` is set; `None` if there is no key there.
fn key_start(s: &str, end: usize, spaces: bool) -> Option<usize> {
    let before = &s[..end];
    let key_end = if spaces {
        before.trim_end_matches([' ', '\t']).len()
    } else {
        end
    };
    let start = before[..key_end]
        .rfind(|c: char| !is_key_char(c))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    (start < key_end).then_some(start)
}

/// `s` cut after the `=` of its first sensitive parameter, followed by `***`.
fn redact_keys_to_end(s: &str) -> String {
    for (eq, _) in s.match_indices('=') {
        if let Some(start) = key_start(s, eq, false)
            && is_sensitive_key(&s[start..eq])
        {
            return format!("{}{MASK}", &s[..=eq]);
        }
    }
    s.to_string()
}

/// A libpq connection string (`host=h password='p w'`) with its sensitive values replaced, or
/// `None` if `s` is not exactly one.
fn redact_key_values(s: &str) -> Option<String> {
    let pairs = key_value_pairs(s)?;
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for pair in pairs {
        out.push_str(&s[at..pair.value.start]);
        if is_sensitive_key(&s[pair.key]) {
            out.push_str(MASK);
        } else {
            out.push_str(&s[pair.value.clone()]);
        }
        at = pair.value.end;
    }
    out.push_str(&s[at..]);
    Some(out)
}

/// One `key=value` of a libpq connection string: where its key and its value (quotes
/// included) lie in the string.
struct KeyValue {
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

/// The pairs of a libpq connection string, or `None` if `s` does not follow libpq's syntax
/// exactly (single-quoted values with backslash escapes, or unquoted values up to the next
/// space) or holds no pair. Redaction and [`with_database`] read connection strings through
/// this one lexer, so they cannot disagree on where a value ends.
fn key_value_pairs(s: &str) -> Option<Vec<KeyValue>> {
    let bytes = s.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    let is_space = |b: u8| b.is_ascii_whitespace();
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let key_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i == key_start {
            return None;
        }
        let key = key_start..i;
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let value_start = i;
        if bytes.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            if i > bytes.len() || bytes.get(i).is_some_and(|&b| !is_space(b)) {
                return None;
            }
        } else {
            while i < bytes.len() && !is_space(bytes[i]) {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            if i > bytes.len() {
                return None;
            }
        }
        pairs.push(KeyValue {
            key,
            value: value_start..i,
        });
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// Characters that end a word, or an unquoted URL.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>')
}

/// The position of the closing `quote` in `text` after `from`, skipping backslash escapes if
/// `escapes`; on the same line only unless `lines`.
fn closing_quote(
    text: &str,
    from: usize,
    quote: char,
    escapes: bool,
    lines: bool,
) -> Option<usize> {
    let mut chars = text[from..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\n' && !lines {
            return None;
        } else if escapes && c == '\\' {
            chars.next();
        } else if c == quote {
            return Some(from + i);
        }
    }
    None
}

/// Where the line holding `pos` starts.
fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the text of the line holding `pos` ends (before its `\n`).
fn line_end(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i)
}

/// The `"…"` string (as `{:?}` and TOML basic strings write them, on one line) that `pos` is
/// inside, as the position of its closing quote (or the line's end if it is not closed).
fn enclosing_string(text: &str, pos: usize) -> Option<usize> {
    let from = line_start(text, pos);
    let mut open = false;
    let mut chars = text[from..pos].chars();
    while let Some(c) = chars.next() {
        match (open, c) {
            (true, '\\') => {
                chars.next();
            }
            (_, '"') => open = !open,
            _ => {}
        }
    }
    open.then(|| closing_quote(text, pos, '"', true, false).unwrap_or(line_end(text, pos)))
}

/// Something found in the text that must be redacted.
enum Found {
    /// A URL whose `://` is at `sep`, its scheme starting at `start`.
    Url { start: usize, sep: usize },
    /// A sensitive `key = value`, its `=` at `eq`.
    Secret { eq: usize },
}

/// The first URL or sensitive key-value at or after `from`.
fn next_found(text: &str, from: usize) -> Option<Found> {
    let url = text[from..].find("://").map(|i| {
        let sep = from + i;
        let start = text[from..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(from, |j| {
                from + j + text[from + j..].chars().next().map_or(1, char::len_utf8)
            });
        (start, sep)
    });
    let secret = text[from..].match_indices('=').find_map(|(i, _)| {
        let eq = from + i;
        let start = key_start(text, eq, true)?;
        (start >= from && is_sensitive_key(text[start..eq].trim_end())).then_some((start, eq))
    });
    match (url, secret) {
        (Some((start, _)), Some((key, eq))) if key < start => Some(Found::Secret { eq }),
        (Some((start, sep)), _) => Some(Found::Url { start, sep }),
        (None, Some((_, eq))) => Some(Found::Secret { eq }),
        (None, None) => None,
    }
}

/// Redacts every URL, connection-string password (`password=…`) and `user:password@host` found
/// in free text, such as an error message of another library that quotes a configuration
/// value. Each URL found is redacted as [`redact_url`] does.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = next_found(text, i) {
        match found {
            Found::Url { start, sep } => {
                out.push_str(&redact_words(&text[i..start]));
                let (end, doubt_takes_line) = url_end(text, start, sep);
                let r = redact(&text[start..end]);
                out.push_str(&r.text);
                i = if r.doubt && doubt_takes_line {
                    line_end(text, end)
                } else {
                    end
                };
            }
            Found::Secret { eq } => {
                out.push_str(&redact_words(&text[i..=eq]));
                let mut v = eq + 1;
                while text[v..].starts_with([' ', '\t']) {
                    v += 1;
                }
                out.push_str(&text[eq + 1..v]);
                out.push_str(MASK);
                // A quoted value may hold a newline; an unquoted one ends with its line, or
                // with the string it is in.
                // Inside a `"…"` string the value is quoted twice over: it ends with the string.
                i = match (enclosing_string(text, eq), text[v..].chars().next()) {
                    (Some(close), _) => close,
                    // A quote not followed by a space may be part of the value.
                    (None, Some(q @ ('\'' | '"'))) => closing_quote(text, v + 1, q, true, true)
                        .map(|c| c + 1)
                        .filter(|&c| text[c..].chars().next().is_none_or(char::is_whitespace))
                        .unwrap_or(line_end(text, v)),
                    (None, _) => line_end(text, v),
                }
                .max(v);
            }
        }
    }
    out.push_str(&redact_words(&text[i..]));
    out
}

/// The end of the URL whose scheme starts at `start` (its `://` at `sep`), and whether, if the
/// URL is in doubt, the rest of the line goes with it.
fn url_end(text: &str, start: usize, sep: usize) -> (usize, bool) {
    let body = sep + 3;
    let end_of_line = line_end(text, start);
    // Inside a `"…"` string written with escapes: its closing quote is reliable.
    if let Some(close) = enclosing_string(text, start) {
        return (close.max(body), false);
    }
    let quote = text[..start]
        .chars()
        .next_back()
        .filter(|&c| matches!(c, '\'' | '`'));
    let (end, closed) = match quote {
        Some(q) => match closing_quote(text, body, q, false, false) {
            Some(close) => (close, true),
            None => return (end_of_line, true),
        },
        None => (
            text[body..]
                .find(ends_word)
                .map_or(end_of_line, |e| (body + e).min(end_of_line)),
            false,
        ),
    };
    // A password may contain spaces and quotes: the URL runs on to the last `@` of the line
    // (for a quoted URL, the last one before the next URL).
    let limit = if closed {
        text[end..end_of_line]
            .find("://")
            .map_or(end_of_line, |i| end + i)
    } else {
        end_of_line
    };
    let end = match text[end..limit].rfind('@') {
        Some(at) => {
            let at = end + at;
            text[at..limit].find(ends_word).map_or(limit, |e| at + e)
        }
        None => end,
    };
    (end, !closed)
}

/// Replaces every word of the form `user:password@host` (no scheme) with `<redacted>`.
fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = 0;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if ends_word(c) || matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';') {
            let word = &text[word_start..i];
            match word.rfind('@') {
                Some(at) if word[..at].contains(':') => out.push_str(REDACTED),
                _ => out.push_str(word),
            }
            if i < text.len() {
                out.push(c);
            }
            word_start = i + c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{DatabaseUrlError, redact_text, redact_url, url_has_secret, with_database};

    #[test]
    fn another_database_on_the_same_server() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/scratch",
            ),
            (
                "postgresql://u:p%40ss@h/app?sslmode=verify-full&sslrootcert=%2Fca.pem",
                "postgresql://u:p%40ss@h/scratch?sslmode=verify-full&sslrootcert=%2Fca.pem",
            ),
            ("postgres://h", "postgres://h/scratch"),
            (
                "postgres://h:5432?sslmode=require",
                "postgres://h:5432/scratch?sslmode=require",
            ),
            ("postgres:///app", "postgres:///scratch"),
            (
                "postgres://h/app?dbname=other&application_name=x",
                "postgres://h/scratch?application_name=x",
            ),
            (
                "mysql://root@127.0.0.1:3306/test",
                "mysql://root@127.0.0.1:3306/scratch",
            ),
            (
                "mariadb://root:pw@[::1]/test?ssl-mode=REQUIRED#f",
                "mariadb://root:pw@[::1]/scratch?ssl-mode=REQUIRED#f",
            ),
            ("mysql://root@h", "mysql://root@h/scratch"),
            // Rejected by the `url` crate, unambiguous all the same.
            (
                "postgres://u:pw@h1:5432,h2:5433/app?x=1",
                "postgres://u:pw@h1:5432,h2:5433/scratch?x=1",
            ),
            (
                "postgres://u:pa/ss@h:5432/app",
                "postgres://u:pa/ss@h:5432/scratch",
            ),
        ] {
            assert_eq!(
                with_database(url, "scratch").as_deref(),
                Ok(expected),
                "{url}"
            );
        }
        assert_eq!(
            with_database("postgres://h/app", "a b/c").as_deref(),
            Ok("postgres://h/a%20b%2Fc")
        );
    }

    #[test]
    fn another_database_in_a_key_value_string() {
        for (kv, expected) in [
            (
                "host=h user=u dbname=app port=5432",
                "host=h user=u dbname=scratch port=5432",
            ),
            (
                "host=h password='p w\\' dbname=x' dbname = 'a b'",
                "host=h password='p w\\' dbname=x' dbname = scratch",
            ),
            ("host=h user=u  ", "host=h user=u dbname=scratch"),
        ] {
            assert_eq!(
                with_database(kv, "scratch").as_deref(),
                Ok(expected),
                "{kv}"
            );
        }
        assert_eq!(
            with_database("host=h", "it's").as_deref(),
            Ok("host=h dbname='it\\'s'")
        );
    }

    #[test]
    fn no_other_database_where_there_is_no_server_or_doubt() {
        for url in [
            "sqlite://app.db",
            "sqlite::memory:",
            "not a url",
            "mysql:/x",
            "",
        ] {
            assert!(
                matches!(
                    with_database(url, "s"),
                    Err(DatabaseUrlError::NoServer { .. })
                ),
                "{url}"
            );
        }
        let err = with_database("postgres://u:12#secret@h/db", "s").unwrap_err();
        assert!(matches!(err, DatabaseUrlError::Ambiguous { .. }));
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = with_database("host=h password='unterminated", "s").unwrap_err();
        assert!(!err.to_string().contains("unterminated"), "{err}");
        assert_eq!(
            with_database("postgres://h/db", ""),
            Err(DatabaseUrlError::EmptyName)
        );
    }

    #[test]
    fn hides_the_password_and_keeps_the_rest() {
        for (url, shown) in [
            (
                "postgres://u:p%40ss@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("mysql://root@h/db", "mysql://root@h/db"),
            ("postgres://u:a@b@h/db?x=1", "postgres://u:***@h/db?x=1"),
            ("postgres://u:a b:c@h/db", "postgres://u:***@h/db"),
            ("postgres://u:@h/db", "postgres://u@h/db"),
            ("postgres://:pw@h/db", "postgres://:***@h/db"),
            ("oracle://scott:tiger@db/orcl", "oracle://scott:***@db/orcl"),
            ("https://u:pw@h/x", "https://u:***@h/x"),
            (
                "postgres://u:pw@[::1]:5432/db",
                "postgres://u:***@[::1]:5432/db",
            ),
            ("  postgres://u:pw@h/db \n", "postgres://u:***@h/db"),
            ("postgres://h/db?email=a@b", "postgres://h/db?email=a@b"),
            ("postgres://h:99999/db", "postgres://h:99999/db"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    /// What the drivers', runner's, config's and facade's tests expect of messages.
    #[test]
    fn forms_other_crates_rely_on() {
        for (url, shown) in [
            ("postgres://u:secret@h/db", "postgres://u:***@h/db"),
            (
                "mysql://someone:hunter2secret@127.0.0.1:1/db",
                "mysql://someone:***@127.0.0.1:1/db",
            ),
            (
                "postgres://u:secret@127.0.0.1:1/x",
                "postgres://u:***@127.0.0.1:1/x",
            ),
            (
                "postgres://u:secret@127.0.0.1:99999/x",
                "postgres://u:***@127.0.0.1:99999/x",
            ),
            (
                "postgres://u:s3cret@h:notaport/db",
                "postgres://u:***@h:notaport/db",
            ),
            (
                "mysql://root:hunter2@nowhere/app",
                "mysql://root:***@nowhere/app",
            ),
            ("bogus://u:hunter2@h/db", "bogus://u:***@h/db"),
            (
                "postgres://admin:hunter2@db:5432/app",
                "postgres://admin:***@db:5432/app",
            ),
            ("postgres://u:pa/ss.wd@h/app", "postgres://u:***@h/app"),
            (
                "mysql://root@127.0.0.1/test?ssl-mode=REQUIRED",
                "mysql://root@127.0.0.1/test?ssl-mode=REQUIRED",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn tells_whether_anything_is_hidden() {
        for url in [
            "postgres://u:pw@h/db",
            "postgres://h/db?password=x",
            "mysql://root:12?prefer_socket=x@h/db",
            "host=h password=x",
            "not a url",
        ] {
            assert!(url_has_secret(url), "{url}");
        }
        for url in [
            "postgres://u@h/db?sslmode=disable",
            "mysql://root@127.0.0.1:3306/app",
            "sqlite://.braid/app.db",
            "sqlite::memory:",
            "host=h user=u",
        ] {
            assert!(!url_has_secret(url), "{url}");
        }
    }

    /// The cases of the issue: the credentials do not end at the first `?` or `#`.
    #[test]
    fn raw_delimiters_in_a_password() {
        for (url, shown) in [
            ("postgres://u:p#ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p?ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa/ss@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:p#a?ss@h", "postgres://u:***@h"),
            ("mysql://u:p\\ss@h/db", "mysql://u:***@h/db"),
            ("http://u:p\\ss@h/db", "http://u:***@h/db"),
            (
                "postgres://u:pw@h1:5432,h2:5433/db",
                "postgres://u:***@h1:5432,h2:5433/db",
            ),
            // Read by the parser as port 12 and a fragment, by tokio-postgres as a password.
            ("postgres://u:12#ss@h/db", "postgres://<redacted>"),
            ("postgres://u:12?ss@h/db", "postgres://<redacted>"),
            // Several `@` and a parse error: which one ends the credentials?
            ("postgres://u:p#s@s@h/db", "postgres://<redacted>"),
            ("postgres://h:5432/db?email=a@b", "postgres://<redacted>"),
            ("pg+ssl://u:p#ss@h/db?x@y", "<redacted URL>"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn hides_sensitive_parameters_and_what_follows() {
        for (url, shown) in [
            (
                "postgres://u@h/x?sslmode=disable&password=SECRET&x=1",
                "postgres://u@h/x?sslmode=disable&password=***",
            ),
            ("mysql://u:a@h/x?PWD=b#f", "mysql://u:***@h/x?PWD=***"),
            (
                "postgres://h/x?sslkey-password=a&b",
                "postgres://h/x?sslkey-password=***",
            ),
            (
                "postgres://h/x?pass%77ord=s",
                "postgres://h/x?pass%77ord=***",
            ),
            (
                "postgres://h/x?password=a#b&c",
                "postgres://h/x?password=***",
            ),
            (
                "postgres://h/x?password=a@b:c",
                "postgres://h/x?password=***",
            ),
            (
                "postgres://h/x?sslmode=require",
                "postgres://h/x?sslmode=require",
            ),
            ("sqlite://a.db?Password=x", "sqlite://a.db?Password=***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn sqlite_urls_stay_readable() {
        for url in [
            "sqlite://.braid/app.db",
            "sqlite:///abs/app.db",
            "sqlite:rel.db",
            "sqlite::memory:",
            "SQLite://x.db",
            "sqlite://data/u@x.db",
        ] {
            assert_eq!(redact_url(url), url);
        }
        assert_eq!(redact_url("sqlite:a:b@c"), "sqlite:<redacted>");
        assert_eq!(redact_url("sqlite://u:pw@h/db"), "sqlite://u:***@h/db");
    }

    #[test]
    fn anything_else_is_not_shown() {
        for (url, shown) in [
            ("not a url", "<redacted URL>"),
            ("hunter2", "<redacted URL>"),
            ("", "<redacted URL>"),
            ("u:pw@h/db", "u:<redacted>"),
            ("mysql:/nohost", "mysql:<redacted>"),
            ("1x://u:pw@h", "<redacted URL>"),
            ("://u:pw@h", "<redacted URL>"),
        ] {
            assert_eq!(redact_url(url), shown, "{url:?}");
        }
    }

    #[test]
    fn key_value_connection_strings() {
        for (kv, shown) in [
            (
                "host=h user=u password=secret dbname=d",
                "host=h user=u password=*** dbname=d",
            ),
            (
                "host=h password = 'p w\\' x' dbname=d",
                "host=h password = *** dbname=d",
            ),
            ("password=a\\ b port=5", "password=*** port=5"),
            ("host=h sslpassword='' x=1", "host=h sslpassword=*** x=1"),
            ("host=h user=u", "host=h user=u"),
            ("password=\\é x=1", "password=*** x=1"),
            ("x=\\é", "x=\\é"),
            // Not libpq's syntax: not shown.
            ("host=h password='unterminated", "<redacted URL>"),
            ("host=h password=p w", "<redacted URL>"),
            ("host=h password='a'b", "<redacted URL>"),
        ] {
            assert_eq!(redact_url(kv), shown, "{kv}");
        }
    }

    #[test]
    fn free_text() {
        for (text, shown) in [
            (
                "a \"postgres://u:p@h/db\" and mysql://r:x@h2 end",
                "a \"postgres://u:***@h/db\" and mysql://r:***@h2 end",
            ),
            ("no urls here", "no urls here"),
            ("sqlite://a.db", "sqlite://a.db"),
            (
                "found string \"postgres://u:p w\\\"x@h/db\", expected a map",
                "found string \"postgres://u:***@h/db\", expected a map",
            ),
            (
                "cannot connect to postgres://u:p ss@h/db now",
                "cannot connect to postgres://u:***@h/db now",
            ),
            (
                "2 | url = 'postgres://u:a'b c@h/db' x\n  |   ^\n",
                "2 | url = 'postgres://u:***@h/db' x\n  |   ^\n",
            ),
            (
                "2 | url = postgres://u:1#x@y@z w\nnext line",
                "2 | url = postgres://<redacted>\nnext line",
            ),
            (
                "found string \"host=h password=p w\", expected x",
                "found string \"host=h password=***\", expected x",
            ),
            (
                "bad: host=h password='p \\' w' dbname=d",
                "bad: host=h password=*** dbname=d",
            ),
            (
                "bad: host=h password=p w dbname=d\nok",
                "bad: host=h password=***\nok",
            ),
            ("password=a://b@c rest", "password=***"),
            (
                "found \"u:pw@h/db\" and a@b",
                "found \"<redacted>\" and a@b",
            ),
        ] {
            assert_eq!(redact_text(text), shown, "{text:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    //! For any password, in any of the forms a URL or message may carry it, no output contains
    //! it. Passwords are built of "markers" (runs of letters that appear nowhere else in the
    //! inputs, nor in anything redaction or percent-encoding writes) between arbitrary
    //! characters, so that a marker in the output is a password, or part of one, shown.

    use super::{redact_text, redact_url};
    use proptest::prelude::*;

    const MARKER: &str = "[QXZJVW]{4,8}";
    const TRICKY: &[char] = &[
        '#', '?', '/', '@', ':', ' ', '%', '&', '=', '\'', '"', '\\', '+', ';', ',', '[', ']', '<',
        '>', '`', '\t', '\n', 'é', '€', '😀', '\u{0}', '1', 'a', '%',
    ];

    fn junk() -> impl Strategy<Value = String> {
        let one = prop_oneof![
            3 => proptest::sample::select(TRICKY),
            1 => any::<char>(),
        ];
        proptest::collection::vec(one, 0..4).prop_map(|v| v.into_iter().collect())
    }

    fn password() -> impl Strategy<Value = String> {
        (junk(), proptest::collection::vec((MARKER, junk()), 1..4)).prop_map(|(head, parts)| {
            let mut pw = head;
            for (marker, junk) in parts {
                pw.push_str(&marker);
                pw.push_str(&junk);
            }
            pw
        })
    }

    fn scheme() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(
            &[
                "postgres",
                "postgresql",
                "mysql",
                "mariadb",
                "sqlite",
                "oracle",
                "https",
            ][..],
        )
    }

    fn sensitive_key() -> impl Strategy<Value = String> {
        (
            proptest::sample::select(
                &[
                    "password",
                    "pass",
                    "pwd",
                    "passwd",
                    "sslpassword",
                    "sslkey-password",
                    "sslkey_password",
                ][..],
            ),
            any::<bool>(),
        )
            .prop_map(|(k, upper)| {
                if upper {
                    k.to_uppercase()
                } else {
                    k.to_string()
                }
            })
    }

    /// Every byte but ASCII letters and digits percent-encoded.
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    /// A libpq single-quoted value.
    fn quote(s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    /// A TOML basic string.
    fn toml(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[track_caller]
    fn assert_hidden(output: &str, password: &str, input: &str) {
        let markers = password
            .split(|c: char| !"QXZJVW".contains(c))
            .filter(|m| m.len() >= 4);
        for marker in markers {
            assert!(
                !output.contains(marker),
                "password {password:?} shows in {output:?} (from {input:?})"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn userinfo_raw_or_encoded(pw in password(), scheme in scheme()) {
            for url in [
                format!("{scheme}://user:{pw}@host:5432/db?x=1"),
                format!("{scheme}://user:{pw}@host/db"),
                format!("{scheme}://user:{pw}@host"),
                format!("{scheme}://:{pw}@host/db"),
                format!("{scheme}://user:{pw}@h1:5432,h2:5433/db?x=1#f"),
            ] {
                assert_hidden(&redact_url(&url), &pw, &url);
            }
            let url = format!("{scheme}://user:{}@host:5432/db?x=1", encode(&pw));
            prop_assert_eq!(
                redact_url(&url),
                format!("{scheme}://user:***@host:5432/db?x=1")
            );
        }

        #[test]
        fn query_parameters(pw in password(), key in sensitive_key(), scheme in scheme()) {
            for url in [
                format!("{scheme}://user@host/db?sslmode=disable&{key}={pw}&x=1"),
                format!("{scheme}://user@host/db?{key}={pw}"),
                format!("{scheme}://user:secret@host/db?{key}={pw}#f"),
                format!("{scheme}://user@host/db?sslmode=disable&{key}={}&x=1", encode(&pw)),
            ] {
                assert_hidden(&redact_url(&url), &pw, &url);
            }
        }

        #[test]
        fn key_value_strings(pw in password(), key in sensitive_key()) {
            let key = key.replace('-', "_");
            for kv in [
                format!("host=h user=u {key}={} dbname=d", quote(&pw)),
                format!("{key} = {}", quote(&pw)),
            ] {
                assert_hidden(&redact_url(&kv), &pw, &kv);
                assert_hidden(&redact_text(&kv), &pw, &kv);
            }
            // Unquoted, a value ends at a space: libpq's reading, so only passwords without one.
            if !pw.contains(char::is_whitespace) && !pw.starts_with('\'') {
                let kv = format!("host=h {key}={pw} dbname=d");
                assert_hidden(&redact_url(&kv), &pw, &kv);
                assert_hidden(&redact_text(&kv), &pw, &kv);
            }
        }

        #[test]
        fn in_messages(pw in password(), scheme in scheme(), key in sensitive_key()) {
            let url = format!("{scheme}://user:{pw}@host:5432/db?x=1");
            let kv = format!("host=h {key}={} dbname=d", quote(&pw));
            let mut messages = vec![
                // figment quotes values with `{:?}`.
                format!("invalid type: found string {url:?}, expected a map for key `x`"),
                format!("invalid type: found string {kv:?}, expected a map"),
                format!("invalid type: found string {:?}, expected a map", format!("x {key}={pw}")),
                // A TOML parse error quotes the line.
                format!(
                    "TOML parse error at line 2, column 7\n  |\n2 | url = {} oops\n  |       ^\nexpected newline\n",
                    toml(&url)
                ),
                format!("TOML parse error\n2 | url = {}\n  |  ^\n", toml(&url).trim_end_matches('"')),
                format!("cannot connect to `{scheme}://user:{}@host/db`: refused", encode(&pw)),
            ];
            if !pw.contains(['\n', '\r']) {
                messages.push(format!("cannot connect to {url} now; try mysql://r:x@h2 later"));
                messages.push(format!("2 | url = {url}"));
                messages.push(format!("2 | url = '{url}' x"));
                messages.push(format!("bad: {kv} (and more)"));
                // Unquoted: a value that starts with a quote would be read as quoted.
                if !pw.starts_with(['\'', '"']) {
                    messages.push(format!("bad: {key}={pw} (and more)"));
                }
            }
            for message in messages {
                assert_hidden(&redact_text(&message), &pw, &message);
            }
        }

        #[test]
        fn never_panics(
            s in any::<String>(),
            t in r#"(://|[a-zé😀:/@#?=%'"` \n\\]){0,40}"#,
        ) {
            for s in [s, t] {
                let _ = redact_url(&s);
                let _ = redact_text(&s);
            }
        }
    }
}

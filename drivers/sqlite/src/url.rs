//! Parsing `sqlite:` URLs into a database location.

use std::path::PathBuf;

use braid_driver::{DriverError, ErrorKind, redact_url};

/// Where an SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A private in-memory database (`sqlite::memory:`, `sqlite://:memory:`). It disappears when
    /// the connection closes and no other connection can see it.
    Memory,
    /// A database file, relative paths being relative to the current directory.
    File(PathBuf),
}

/// Parses the URL forms Braid accepts:
///
/// | URL                          | database                      |
/// |------------------------------|-------------------------------|
/// | `sqlite://relative/path.db`  | `relative/path.db`            |
/// | `sqlite:///absolute/path.db` | `/absolute/path.db`           |
/// | `sqlite:relative.db`         | `relative.db`                 |
/// | `sqlite::memory:`            | in memory                     |
/// | `sqlite://:memory:`          | in memory                     |
///
/// The scheme is case-insensitive. The path is taken verbatim (no percent-decoding), and query
/// strings (`?mode=ro`, as other tools accept) are rejected rather than silently ignored, so a
/// URL never means something different from what its author expected.
pub fn parse_url(url: &str) -> Result<Location, DriverError> {
    let bad = |why: &str| {
        DriverError::new(
            ErrorKind::Url,
            format!("invalid SQLite URL '{}': {why}", redact_url(url)),
        )
    };
    let trimmed = url.trim();
    let Some(colon) = trimmed.find(':') else {
        return Err(bad("expected a URL starting with 'sqlite:'"));
    };
    let (scheme, rest) = (&trimmed[..colon], &trimmed[colon + 1..]);
    if !scheme.eq_ignore_ascii_case("sqlite") {
        return Err(bad("the scheme must be 'sqlite'"));
    }
    // `sqlite://x` and `sqlite:x` both name `x`; `sqlite:///x` names `/x`.
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path == ":memory:" {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(bad(
            "no database path (use e.g. 'sqlite://app.db' or 'sqlite::memory:')",
        ));
    }
    if path.contains(['?', '#']) {
        return Err(bad("query strings and fragments are not supported"));
    }
    if path.contains('\0') {
        return Err(bad("the path contains a NUL byte"));
    }
    if path.ends_with('/') {
        return Err(bad("the path names a directory, not a database file"));
    }
    // `sqlite:///C:/data/app.db` on Windows: drop the slash before the drive letter.
    let bytes = path.as_bytes();
    let path = if bytes.len() >= 4
        && bytes[0] == b'/'
        && bytes[1].is_ascii_alphabetic()
        && bytes[2] == b':'
        && (bytes[3] == b'/' || bytes[3] == b'\\')
    {
        &path[1..]
    } else {
        path
    };
    Ok(Location::File(PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> Location {
        Location::File(PathBuf::from(p))
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(
            parse_url("sqlite://relative/path.db").unwrap(),
            file("relative/path.db")
        );
        assert_eq!(
            parse_url("sqlite:///absolute/path.db").unwrap(),
            file("/absolute/path.db")
        );
        assert_eq!(
            parse_url("sqlite:relative.db").unwrap(),
            file("relative.db")
        );
        assert_eq!(
            parse_url("sqlite://.braid/app.db").unwrap(),
            file(".braid/app.db")
        );
        assert_eq!(parse_url("SQLite://x.db").unwrap(), file("x.db"));
        assert_eq!(parse_url(" sqlite:x.db ").unwrap(), file("x.db"));
        assert_eq!(
            parse_url("sqlite:///C:/data/app.db").unwrap(),
            file("C:/data/app.db")
        );
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_url("sqlite::memory:").unwrap(), Location::Memory);
        assert_eq!(parse_url("sqlite://:memory:").unwrap(), Location::Memory);
    }

    #[test]
    fn malformed_urls_are_url_errors() {
        for url in [
            "",
            "app.db",
            "postgres://u:secret@h/db",
            "sqlite:",
            "sqlite://",
            "sqlite:///",
            "sqlite://app.db?mode=ro",
            "sqlite://dir/",
            "sqlite://a\0b",
        ] {
            let err = parse_url(url).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Url, "{url:?}");
            assert!(err.message.contains("invalid SQLite URL"), "{url:?}: {err}");
        }
    }

    #[test]
    fn url_errors_redact_passwords() {
        let err = parse_url("postgres://u:secret@h/db").unwrap_err();
        assert!(!err.message.contains("secret"), "{err}");
        assert!(err.message.contains("u:***@h"), "{err}");
    }
}

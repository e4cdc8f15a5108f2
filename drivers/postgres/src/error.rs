//! Turning tokio-postgres errors into [`DriverError`]s.

use braid_driver::{DriverError, ErrorKind};
use tokio_postgres::error::{DbError, SqlState};

/// Maps an error from an established connection. Server errors keep the server's message (with
/// its DETAIL and HINT lines, which often say what to do) and carry the SQLSTATE in `code`.
pub(crate) fn map_err(err: tokio_postgres::Error) -> DriverError {
    if let Some(db) = err.as_db_error() {
        return DriverError::new(kind_for(db.code()), db_message(db)).with_code(db.code().code());
    }
    let message = full_message(&err);
    if err.is_closed() || is_io(&err) {
        return DriverError::new(
            ErrorKind::Connect,
            format!("connection to the Postgres server lost: {message}"),
        );
    }
    // Parameter count or type mismatches, a value that does not fit its parameter: the
    // statement was not acceptable as given.
    DriverError::new(ErrorKind::Sql, message)
}

/// The server's message, then `DETAIL:` and `HINT:` lines when present (as psql shows them).
pub(crate) fn db_message(db: &DbError) -> String {
    let mut message = db.message().to_string();
    if let Some(detail) = db.detail() {
        message.push_str("\nDETAIL: ");
        message.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        message.push_str("\nHINT: ");
        message.push_str(hint);
    }
    message
}

/// The SQLSTATE class decides the kind: connection exceptions (08), authorization (28), a
/// missing database (3D000) and server shutdowns (57P01–57P03) are about reaching the database;
/// everything else is about the statement.
pub(crate) fn kind_for(code: &SqlState) -> ErrorKind {
    let c = code.code();
    if c == SqlState::INVALID_CATALOG_NAME.code() {
        ErrorKind::NoDatabase
    } else if c.starts_with("28") {
        ErrorKind::Auth
    } else if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03") {
        ErrorKind::Connect
    } else {
        ErrorKind::Sql
    }
}

/// tokio-postgres's `Display` gives only the outer layer ("error connecting to server"); the
/// cause (e.g. "Connection refused") is in the source chain.
pub(crate) fn full_message(err: &tokio_postgres::Error) -> String {
    braid_driver::with_causes(err)
}

fn is_io(err: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_sqlstate() {
        assert_eq!(kind_for(&SqlState::INVALID_PASSWORD), ErrorKind::Auth);
        assert_eq!(
            kind_for(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
            ErrorKind::Auth
        );
        assert_eq!(
            kind_for(&SqlState::INVALID_CATALOG_NAME),
            ErrorKind::NoDatabase
        );
        assert_eq!(kind_for(&SqlState::ADMIN_SHUTDOWN), ErrorKind::Connect);
        assert_eq!(kind_for(&SqlState::UNIQUE_VIOLATION), ErrorKind::Sql);
        assert_eq!(kind_for(&SqlState::SYNTAX_ERROR), ErrorKind::Sql);
    }
}

//! Turning mysql_async errors into [`DriverError`]s.

use braid_driver::{DriverError, ErrorKind, redact_url};
use mysql_async::Error;

use crate::tls::Tls;

/// ER_DBACCESS_DENIED_ERROR: the user may not use the database.
const ER_DBACCESS_DENIED: u16 = 1044;
/// ER_ACCESS_DENIED_ERROR: wrong user or password.
const ER_ACCESS_DENIED: u16 = 1045;
/// ER_ACCESS_DENIED_NO_PASSWORD_ERROR: access denied to a user without a password (MariaDB's
/// answer when `root` authenticates by Unix socket and a TCP client comes without one).
const ER_ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
/// ER_BAD_DB_ERROR: unknown database.
const ER_BAD_DB: u16 = 1049;
/// ER_HOST_NOT_PRIVILEGED: this host may not connect at all.
const ER_HOST_NOT_PRIVILEGED: u16 = 1130;
/// ER_UNSUPPORTED_PS: the statement cannot be prepared (use the text protocol).
pub(crate) const ER_UNSUPPORTED_PS: u16 = 1295;

/// Maps an error from a statement on an open connection. Server errors keep the server's
/// message (with the SQLSTATE appended) and carry the MySQL error number in `code`, which is
/// what MySQL's documentation and users search for.
pub(crate) fn map_err(err: Error) -> DriverError {
    match err {
        Error::Server(e) => DriverError::new(
            ErrorKind::Sql,
            // The message may quote the statement, password literals included.
            format!(
                "{} [SQLSTATE {}]",
                braid_driver::server_message(&e.message),
                e.state
            ),
        )
        .with_code(e.code.to_string()),
        // The connection broke under us: the same situation as not reaching the server.
        Error::Io(e) => DriverError::new(ErrorKind::Connect, format!("connection lost: {e}")),
        // Wrong parameter count and the like: the statement was not acceptable as given.
        Error::Driver(e) => DriverError::new(ErrorKind::Sql, e.to_string()),
        // Only from parsing options (which `parse_url` does first): never echo them.
        Error::Url(_) => DriverError::new(ErrorKind::Url, "invalid connection option"),
        other => DriverError::new(ErrorKind::Internal, other.to_string()),
    }
}

/// Maps a failure to connect. The message names the server only through [`redact_url`]; a TLS
/// failure says which check failed, in `tls`'s words.
pub(crate) fn connect_err(url: &str, tls: &Tls, host: &str, err: Error) -> DriverError {
    let shown = redact_url(url);
    match err {
        Error::Server(e) => {
            let kind = match e.code {
                ER_ACCESS_DENIED
                | ER_ACCESS_DENIED_NO_PASSWORD
                | ER_DBACCESS_DENIED
                | ER_HOST_NOT_PRIVILEGED => ErrorKind::Auth,
                ER_BAD_DB => ErrorKind::NoDatabase,
                _ => ErrorKind::Connect,
            };
            DriverError::new(
                kind,
                format!(
                    "cannot connect to '{shown}': {} [SQLSTATE {}]",
                    e.message, e.state
                ),
            )
            .with_code(e.code.to_string())
        }
        Error::Url(e) => DriverError::new(
            ErrorKind::Url,
            format!(
                "invalid MySQL URL '{shown}': {}",
                braid_driver::options::url_error_detail(url, &e.to_string())
            ),
        ),
        other => {
            let message = braid_driver::with_causes(&other);
            let message = tls.explain(&message, host).unwrap_or(message);
            DriverError::new(
                ErrorKind::Connect,
                format!("cannot connect to '{shown}': {message}"),
            )
        }
    }
}

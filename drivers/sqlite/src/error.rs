//! Turning rusqlite errors into [`DriverError`]s.

use braid_driver::{DriverError, ErrorKind};
use rusqlite::ffi;

/// Maps a rusqlite error. SQLite's own failures keep SQLite's message and carry the symbolic
/// name of the *extended* result code in `code` (e.g. `SQLITE_CONSTRAINT_UNIQUE`), which is more
/// precise than the primary code and stable across SQLite versions; a code missing from
/// [`code_name`]'s table is given as its decimal number instead.
pub(crate) fn map_err(err: rusqlite::Error) -> DriverError {
    match err {
        rusqlite::Error::SqliteFailure(e, msg) => {
            let message = msg.unwrap_or_else(|| e.to_string());
            DriverError::new(kind_for(e.code), message).with_code(code_name(e.extended_code))
        }
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => DriverError::new(kind_for(error.code), format!("{msg} (at byte {offset})"))
            .with_code(code_name(error.extended_code)),
        // Wrong parameter count, a statement that returned rows where none were expected, …:
        // the statement was not acceptable as given.
        rusqlite::Error::InvalidParameterCount(..)
        | rusqlite::Error::InvalidParameterName(_)
        | rusqlite::Error::ExecuteReturnedResults
        | rusqlite::Error::MultipleStatement
        | rusqlite::Error::NulError(_) => DriverError::new(ErrorKind::Sql, err.to_string()),
        other => DriverError::new(ErrorKind::Internal, other.to_string()),
    }
}

/// Failures of the database file itself are I/O; everything else SQLite reports about a
/// statement is [`ErrorKind::Sql`].
fn kind_for(code: ffi::ErrorCode) -> ErrorKind {
    use ffi::ErrorCode as C;
    match code {
        C::SystemIoFailure
        | C::DatabaseCorrupt
        | C::DiskFull
        | C::CannotOpen
        | C::NotADatabase
        | C::ReadOnly
        | C::NoLargeFileSupport => ErrorKind::Io,
        _ => ErrorKind::Sql,
    }
}

/// The symbolic name of an SQLite (extended) result code, or its decimal number.
pub(crate) fn code_name(code: std::os::raw::c_int) -> String {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            $(if code == ffi::$name { return stringify!($name).to_string(); })*
        };
    }
    names!(
        SQLITE_ERROR,
        SQLITE_INTERNAL,
        SQLITE_PERM,
        SQLITE_ABORT,
        SQLITE_BUSY,
        SQLITE_LOCKED,
        SQLITE_NOMEM,
        SQLITE_READONLY,
        SQLITE_INTERRUPT,
        SQLITE_IOERR,
        SQLITE_CORRUPT,
        SQLITE_NOTFOUND,
        SQLITE_FULL,
        SQLITE_CANTOPEN,
        SQLITE_PROTOCOL,
        SQLITE_EMPTY,
        SQLITE_SCHEMA,
        SQLITE_TOOBIG,
        SQLITE_CONSTRAINT,
        SQLITE_MISMATCH,
        SQLITE_MISUSE,
        SQLITE_NOLFS,
        SQLITE_AUTH,
        SQLITE_FORMAT,
        SQLITE_RANGE,
        SQLITE_NOTADB,
        SQLITE_ERROR_MISSING_COLLSEQ,
        SQLITE_ERROR_RETRY,
        SQLITE_ERROR_SNAPSHOT,
        SQLITE_IOERR_READ,
        SQLITE_IOERR_SHORT_READ,
        SQLITE_IOERR_WRITE,
        SQLITE_IOERR_FSYNC,
        SQLITE_IOERR_DIR_FSYNC,
        SQLITE_IOERR_TRUNCATE,
        SQLITE_IOERR_FSTAT,
        SQLITE_IOERR_UNLOCK,
        SQLITE_IOERR_RDLOCK,
        SQLITE_IOERR_DELETE,
        SQLITE_IOERR_NOMEM,
        SQLITE_IOERR_ACCESS,
        SQLITE_IOERR_CHECKRESERVEDLOCK,
        SQLITE_IOERR_LOCK,
        SQLITE_IOERR_CLOSE,
        SQLITE_IOERR_SHMOPEN,
        SQLITE_IOERR_SHMSIZE,
        SQLITE_IOERR_SHMMAP,
        SQLITE_IOERR_SEEK,
        SQLITE_IOERR_DELETE_NOENT,
        SQLITE_IOERR_MMAP,
        SQLITE_IOERR_GETTEMPPATH,
        SQLITE_IOERR_CONVPATH,
        SQLITE_IOERR_DATA,
        SQLITE_IOERR_CORRUPTFS,
        SQLITE_LOCKED_SHAREDCACHE,
        SQLITE_LOCKED_VTAB,
        SQLITE_BUSY_RECOVERY,
        SQLITE_BUSY_SNAPSHOT,
        SQLITE_BUSY_TIMEOUT,
        SQLITE_CANTOPEN_NOTEMPDIR,
        SQLITE_CANTOPEN_ISDIR,
        SQLITE_CANTOPEN_FULLPATH,
        SQLITE_CANTOPEN_CONVPATH,
        SQLITE_CANTOPEN_SYMLINK,
        SQLITE_CORRUPT_VTAB,
        SQLITE_CORRUPT_SEQUENCE,
        SQLITE_CORRUPT_INDEX,
        SQLITE_READONLY_RECOVERY,
        SQLITE_READONLY_CANTLOCK,
        SQLITE_READONLY_ROLLBACK,
        SQLITE_READONLY_DBMOVED,
        SQLITE_READONLY_CANTINIT,
        SQLITE_READONLY_DIRECTORY,
        SQLITE_ABORT_ROLLBACK,
        SQLITE_CONSTRAINT_CHECK,
        SQLITE_CONSTRAINT_COMMITHOOK,
        SQLITE_CONSTRAINT_FOREIGNKEY,
        SQLITE_CONSTRAINT_FUNCTION,
        SQLITE_CONSTRAINT_NOTNULL,
        SQLITE_CONSTRAINT_PRIMARYKEY,
        SQLITE_CONSTRAINT_TRIGGER,
        SQLITE_CONSTRAINT_UNIQUE,
        SQLITE_CONSTRAINT_VTAB,
        SQLITE_CONSTRAINT_ROWID,
        SQLITE_CONSTRAINT_PINNED,
        SQLITE_CONSTRAINT_DATATYPE,
        SQLITE_AUTH_USER,
    );
    code.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_extended_codes() {
        assert_eq!(code_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
        assert_eq!(code_name(1), "SQLITE_ERROR");
        assert_eq!(code_name(123_456), "123456");
    }
}

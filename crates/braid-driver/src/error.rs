use thiserror::Error;

/// What kind of failure, so the runner and CLI can react without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The URL could not be understood.
    Url,
    /// The server could not be reached or refused the connection.
    Connect,
    /// The server rejected the credentials.
    Auth,
    /// The database named in the URL does not exist.
    NoDatabase,
    /// The server rejected a statement.
    Sql,
    /// The migration lock was not obtained in time.
    LockTimeout,
    /// The migration lock was held, and is not any more (its session ended).
    LockLost,
    /// The driver does not support what was asked.
    Unsupported,
    /// A local I/O failure (e.g. an SQLite file).
    Io,
    /// A bug or panic inside the driver.
    Internal,
}

/// A driver error: its kind, the server's own code (SQLSTATE, MySQL error number, SQLite
/// extended code) when there is one, and a message. Messages never contain passwords.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}{}", code.as_ref().map(|c| format!(" (code {c})")).unwrap_or_default())]
pub struct DriverError {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
    /// For a failure inside [`crate::Driver::execute_script`]: which statement failed, when the
    /// driver can tell.
    pub position: Option<ScriptPosition>,
}

/// The statement of a script that failed: 1-based index, the number of statements when known,
/// and the statement's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptPosition {
    pub index: usize,
    pub total: Option<usize>,
    pub statement: String,
}

impl DriverError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DriverError {
            kind,
            code: None,
            message: message.into(),
            position: None,
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Attaches the failing statement of a script (see [`ScriptPosition`]).
    pub fn with_position(mut self, position: ScriptPosition) -> Self {
        self.position = Some(position);
        self
    }
}

/// An error's message followed by each cause not already part of it (`a: b: c`). Client
/// libraries often say only "error connecting to server" at the top; the reason ("Connection
/// refused", a TLS certificate error) is in the source chain.
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Words after which SQL may carry a password as a plain literal (`IDENTIFIED BY 'x'`,
/// `PASSWORD 'x'`): text from there on is not shown.
pub(crate) const SECRET_WORDS: [&str; 4] = ["password", "passwd", "identified", "secret"];

/// A server's error message as a person may see it. MySQL quotes the statement's text after a
/// syntax error ("… near 'IDENTIFIED BY 'pw'' at line 1"), so a message that may quote a
/// password is cut where that quote starts (or at the word), as [`crate::statement_excerpt`]
/// cuts statements; URLs and `key=value` secrets are masked as everywhere.
pub fn server_message(message: &str) -> String {
    let redacted = crate::redact_text(message);
    // ASCII lowercasing keeps byte offsets, so every cut is a char boundary of `redacted`.
    let lower = redacted.to_ascii_lowercase();
    let Some(word) = SECRET_WORDS.iter().filter_map(|w| lower.find(w)).min() else {
        return redacted;
    };
    let cut = lower[..word]
        .rfind("near '")
        .map_or(word, |near| near + "near ".len());
    format!(
        "{}… (the rest is hidden: it may hold a password)",
        &redacted[..cut]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_hide_quoted_passwords() {
        let m = "You have an error in your SQL syntax; check the manual near \
                 'IDENTIFIED BY 'p4ss'' at line 1";
        let shown = server_message(m);
        assert!(!shown.contains("p4ss"), "{shown}");
        assert!(
            shown.ends_with("near … (the rest is hidden: it may hold a password)"),
            "{shown}"
        );
        let plain = "Table 'test.t' doesn't exist";
        assert_eq!(server_message(plain), plain);
        let bare = "CREATE USER failed: PASSWORD 'hunter2'";
        assert!(!server_message(bare).contains("hunter2"));
    }
}

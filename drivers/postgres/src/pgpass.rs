//! libpq's password file (`PGPASSFILE`, else `~/.pgpass`): `hostname:port:database:username:
//! password` lines, `*` matching anything, `\` escaping `:` and `\`, the first match winning.
//! As libpq does, a file that others than its owner may read is ignored.

use std::path::PathBuf;

use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// The password file's password for `config`'s first host, port, database and user.
pub(crate) fn lookup(config: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    if !private(&path) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(_) => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user()?;
    let database = config.get_dbname().unwrap_or(user);
    find(&text, [&host, &port, database, user])
}

#[cfg(unix)]
fn private(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private(path: &std::path::Path) -> bool {
    path.is_file()
}

/// The password of the first line whose four fields match `wanted`.
fn find(text: &str, wanted: [&str; 4]) -> Option<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = fields(line);
            let [host, port, database, user, password] = fields.as_slice() else {
                return None;
            };
            let matches = [host, port, database, user]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field.as_str() == "*" || field.as_str() == want);
            matches.then(|| password.clone())
        })
}

/// A line's fields: split on unescaped `:`, `\x` standing for `x`. The password is the rest of
/// the line after the fourth separator.
fn fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().unwrap_or(&mut String::new()).push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_line_wins() {
        let file = "# comment\n\
                    db.internal:5432:app:alice:first\n\
                    *:*:*:alice:any\\:thing\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            find(file, ["db.internal", "5432", "app", "alice"]).as_deref(),
            Some("first")
        );
        assert_eq!(
            find(file, ["other", "5433", "x", "alice"]).as_deref(),
            Some("any:thing")
        );
        assert_eq!(
            find(file, ["other", "5433", "x", "bob"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(
            find("h:1:d:u\n", ["h", "1", "d", "u"]),
            None,
            "no password field"
        );
    }
}

//! libpq's password file (`PGPASSFILE`, else `~/.pgpass`): `hostname:port:database:username:
//! password` lines, an unescaped `*` matching anything, `\` escaping `:`, `\` and `*`, the first
//! match winning; a Unix socket in the default directory matches `localhost`. As libpq does, a
//! file that others than its owner may read is ignored. The password is looked up for the first
//! host (tokio-postgres sends one password to every host of a URL).

use std::path::PathBuf;

use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// The password file's password for `config`'s first host, port, database and user.
pub(crate) fn lookup(config: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    if !private(&path) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(dir)
            if DEFAULT_SOCKET_DIRS
                .iter()
                .any(|d| dir == std::path::Path::new(d)) =>
        {
            "localhost".to_string()
        }
        #[cfg(unix)]
        Host::Unix(dir) => dir.display().to_string(),
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

/// Where libpq's default Unix socket lives, on the systems Braid is built for.
#[cfg(unix)]
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// A field of a line: its text, and whether it was written with an escape (`\*` is a literal
/// star; only a bare `*` matches anything).
#[derive(Debug, Default)]
struct Field {
    text: String,
    escaped: bool,
}

impl Field {
    fn matches(&self, want: &str) -> bool {
        (self.text == "*" && !self.escaped) || self.text == want
    }
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
                .all(|(field, want)| field.matches(want));
            matches.then(|| password.text.clone())
        })
}

/// A line's fields: split on unescaped `:`, `\x` standing for `x`; a line of another number
/// than five fields matches nothing.
fn fields(line: &str) -> Vec<Field> {
    let mut fields = vec![Field::default()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == ':' {
            fields.push(Field::default());
            continue;
        }
        let Some(field) = fields.last_mut() else {
            break;
        };
        if c == '\\' {
            field.escaped = true;
            field.text.extend(chars.next());
        } else {
            field.text.push(c);
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

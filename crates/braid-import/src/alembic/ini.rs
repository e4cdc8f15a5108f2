//! `alembic.ini`, read the way Python's `configparser` reads it, as far as Alembic's own keys
//! need: sections, `key = value` (or `key: value`), indented continuation lines, `#`/`;`
//! comment lines, case-insensitive keys, and `%(here)s`-style interpolation.

use std::path::Path;

/// The section Alembic reads unless told otherwise (`alembic -n`).
pub(super) const SECTION: &str = "alembic";

/// A parsed ini file.
#[derive(Debug, Clone, Default)]
pub(super) struct Ini {
    /// `(section, key, raw value)`, in file order; keys lowercased.
    entries: Vec<(String, String, String)>,
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut entries: Vec<(String, String, String)> = Vec::new();
        let mut section = String::new();
        let mut continuing = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continuing = continuing && !trimmed.is_empty();
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            if indented && continuing {
                if let Some(last) = entries.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(trimmed);
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = name.trim().to_string();
                continuing = false;
                continue;
            }
            continuing = match key_value(trimmed) {
                Some((key, value)) => {
                    entries.push((section.clone(), key, value));
                    true
                }
                None => false,
            };
        }
        Ini { entries }
    }

    /// The raw value of `key` in `section`, or in `[DEFAULT]`; the last one wins, as in
    /// configparser.
    pub fn raw(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_ascii_lowercase();
        let find = |s: &str| {
            self.entries
                .iter()
                .rev()
                .find(|(sec, k, _)| sec == s && *k == key)
                .map(|(_, _, v)| v.as_str())
        };
        find(section).or_else(|| find("DEFAULT"))
    }

    /// The value of `key` in `section` with `%(name)s` references resolved: `here` is the
    /// directory holding the file (as Alembic defines it), other names are keys of the same
    /// section or `[DEFAULT]`; `%%` is `%`.
    pub fn get(&self, section: &str, key: &str, here: &Path) -> Option<String> {
        let raw = self.raw(section, key)?;
        Some(self.interpolate(section, raw, here, 0))
    }

    fn interpolate(&self, section: &str, raw: &str, here: &Path, depth: usize) -> String {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
                continue;
            }
            let reference = rest
                .strip_prefix("%(")
                .and_then(|r| r.find(")s").map(|end| (&r[..end], &r[end + 2..])));
            match reference {
                Some((name, after)) => {
                    out.push_str(&self.lookup(section, name, here, depth));
                    rest = after;
                }
                None => {
                    out.push('%');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, section: &str, name: &str, here: &Path, depth: usize) -> String {
        if name.eq_ignore_ascii_case("here") {
            return here.display().to_string();
        }
        match self.raw(section, name) {
            Some(raw) if depth < 10 => self.interpolate(section, raw, here, depth + 1),
            _ => format!("%({name})s"),
        }
    }
}

/// `key = value` or `key: value`, split at the first of either; `None` for a line with neither.
fn key_value(line: &str) -> Option<(String, String)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim().to_ascii_lowercase();
    if key.is_empty() {
        return None;
    }
    Some((key, line[at + 1..].trim().to_string()))
}

/// Whether an ini value means true, as configparser's `getboolean` reads it.
pub(super) fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "yes" | "true" | "on"
    )
}

/// `text` (an ini file that lived in `here`) rewritten to live elsewhere and render for `url`:
/// every `%(here)s` becomes `here` itself (so paths still resolve from the copy), and
/// `sqlalchemy.url` in `[alembic]` becomes `url` (added when missing).
pub(super) fn rewrite(text: &str, here: &Path, url: &str) -> String {
    let here = here.display().to_string().replace('%', "%%");
    let text = text.replace("%(here)s", &here);
    let setting = format!("sqlalchemy.url = {}", url.replace('%', "%%"));
    let mut out: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut replaced = false;
    let mut skipping_continuation = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if skipping_continuation && line.starts_with([' ', '\t']) && !trimmed.is_empty() {
            continue;
        }
        skipping_continuation = false;
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_string();
            out.push(line.to_string());
            if section == SECTION && !replaced {
                out.push(setting.clone());
                replaced = true;
            }
            continue;
        }
        let is_url = !line.starts_with([' ', '\t', '#', ';'])
            && key_value(trimmed).is_some_and(|(k, _)| k == "sqlalchemy.url");
        if section == SECTION && is_url {
            skipping_continuation = true;
            continue;
        }
        out.push(line.to_string());
    }
    if !replaced {
        out.push(format!("[{SECTION}]"));
        out.push(setting);
    }
    out.join("\n") + "\n"
}

/// An ini for a script directory that has no `alembic.ini` beside it: the script location,
/// the URL, and the logging sections the standard `env.py` passes to `fileConfig`.
pub(super) fn synthesize(script_dir: &Path, url: &str) -> String {
    let location = script_dir.display().to_string().replace('%', "%%");
    format!(
        "[{SECTION}]\n\
         script_location = {location}\n\
         prepend_sys_path = .\n\
         sqlalchemy.url = {url}\n\
         \n\
         [loggers]\nkeys = root\n\n\
         [handlers]\nkeys = console\n\n\
         [formatters]\nkeys = generic\n\n\
         [logger_root]\nlevel = WARNING\nhandlers = console\nqualname =\n\n\
         [handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nlevel = NOTSET\n\
         formatter = generic\n\n\
         [formatter_generic]\nformat = %%(levelname)-5.5s [%%(name)s] %%(message)s\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[alembic]\n\
                        # a comment\n\
                        script_location = %(here)s/migrations\n\
                        Version_Locations = %(here)s/a\n    %(here)s/b\n\
                        sqlalchemy.url = driver://u:p@h/db\n    continued\n\
                        other: 100%%\n\
                        \n\
                        [loggers]\n\
                        keys = root\n";

    #[test]
    fn reads_and_interpolates() {
        let ini = Ini::parse(TEXT);
        let here = Path::new("/p");
        assert_eq!(
            ini.get(SECTION, "script_location", here).as_deref(),
            Some("/p/migrations")
        );
        assert_eq!(
            ini.get(SECTION, "version_locations", here).as_deref(),
            Some("/p/a\n/p/b")
        );
        assert_eq!(ini.get(SECTION, "other", here).as_deref(), Some("100%"));
        assert_eq!(ini.get("loggers", "keys", here).as_deref(), Some("root"));
        assert_eq!(ini.get(SECTION, "missing", here), None);
    }

    #[test]
    fn rewrite_replaces_the_url_and_here() {
        let out = rewrite(TEXT, Path::new("/p"), "postgresql://");
        assert!(out.contains("script_location = /p/migrations\n"), "{out}");
        assert!(
            out.contains("[alembic]\nsqlalchemy.url = postgresql://\n"),
            "{out}"
        );
        assert!(!out.contains("driver://"), "{out}");
        assert!(!out.contains("continued"), "{out}");
        assert!(out.contains("keys = root"), "{out}");
        let added = rewrite("[loggers]\nkeys = root\n", Path::new("/p"), "sqlite://");
        assert!(
            added.ends_with("[alembic]\nsqlalchemy.url = sqlite://\n"),
            "{added}"
        );
    }
}

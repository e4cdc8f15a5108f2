//! Connection options a driver reads out of its URL before the client library sees the URL:
//! Braid's own names (libpq's `sslmode=verify-full`, MySQL's `ssl-mode=VERIFY_IDENTITY`), which
//! the client libraries do not all know, and the password a config supplies apart from the URL.

use url::form_urlencoded;

/// Where the query string of a connection URL starts: the first `?` after the credentials
/// (a password may hold a `?` when it is not percent-encoded).
fn query_start(url: &str) -> Option<usize> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let after_credentials = url[after_scheme..]
        .rfind('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    url[after_credentials..]
        .find('?')
        .map(|i| after_credentials + i)
}

/// Removes the query parameters whose names `names` lists (case-insensitively; `-` and `_`
/// alike) from `url`, returning the URL without them and the removed `(name, value)` pairs,
/// values percent-decoded, in the order written.
pub fn take_params(url: &str, names: &[&str]) -> (String, Vec<(String, String)>) {
    let Some(start) = query_start(url) else {
        return (url.to_string(), Vec::new());
    };
    let (base, query) = (&url[..start], &url[start + 1..]);
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let wanted = |name: &str| {
        let name = name.replace('_', "-");
        names
            .iter()
            .any(|n| n.replace('_', "-").eq_ignore_ascii_case(&name))
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let raw_name = part.split('=').next().unwrap_or(part);
        if wanted(raw_name) {
            if let Some((name, value)) = form_urlencoded::parse(part.as_bytes()).next() {
                taken.push((name.into_owned(), value.into_owned()));
            }
        } else {
            kept.push(part);
        }
    }
    let mut rebuilt = base.to_string();
    if !kept.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        rebuilt.push('#');
        rebuilt.push_str(fragment);
    }
    (rebuilt, taken)
}

/// A URL parser's message about `url`, when it is safe to show. Parsers quote the parts they
/// reject (an option's name or value), and in a URL that holds a password, a raw `&`, `?` or
/// `#` in it makes part of the password look like such a part; for such a URL the detail is
/// replaced by advice.
pub fn url_error_detail(url: &str, detail: &str) -> String {
    if crate::url_has_secret(url) {
        "it does not parse (characters such as @ : / ? # & % in the password must be \
         percent-encoded)"
            .to_string()
    } else {
        detail.to_string()
    }
}

/// Whether `url` carries a password (`scheme://user:password@…`), as a URL parser reads it; for
/// a URL it cannot read, whether anything before the last `@` of the authority holds a `:`.
pub fn has_password(url: &str) -> bool {
    if let Ok(parsed) = url::Url::parse(url) {
        return parsed.password().is_some();
    }
    let Some(after_scheme) = url.find("://").map(|i| i + 3) else {
        return false;
    };
    let authority = &url[after_scheme..];
    let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    authority[..end]
        .rfind('@')
        .is_some_and(|at| authority[..at].contains(':'))
}

/// `url` with `password` as its password, percent-encoded by a URL parser; the URL must name a
/// user. `None` when it cannot carry one (it does not parse, or names no user).
pub fn with_password(url: &str, password: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if parsed.username().is_empty() {
        return None;
    }
    parsed.set_password(Some(password)).ok()?;
    Some(parsed.to_string())
}

/// The server a URL connects to, as `scheme://host:port` (the scheme's default port when the
/// URL names none; `local` for a socket), for bounding the connections Braid opens to one
/// server. `None` for SQLite and URLs without an authority.
pub fn server_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let scheme = parsed.scheme().to_ascii_lowercase();
    let (family, default_port) = match scheme.as_str() {
        "postgres" | "postgresql" => ("postgres", 5432),
        "mysql" | "mariadb" => ("mysql", 3306),
        "sqlite" => return None,
        other => (other, 0),
    };
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .unwrap_or("local")
        .to_ascii_lowercase();
    let port = parsed.port().unwrap_or(default_port);
    Some(format!("{family}://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_scheme_host_and_port() {
        assert_eq!(
            server_of("postgresql://u:p@DB.example:5432/a").as_deref(),
            Some("postgres://db.example:5432")
        );
        assert_eq!(
            server_of("postgres://u@db.example/b?sslmode=disable").as_deref(),
            Some("postgres://db.example:5432")
        );
        assert_eq!(
            server_of("mariadb://root@127.0.0.1:3307/t").as_deref(),
            Some("mysql://127.0.0.1:3307")
        );
        assert_eq!(server_of("sqlite://.braid/app.db"), None);
    }

    #[test]
    fn params_are_taken_out_and_the_rest_kept() {
        let (url, taken) = take_params(
            "postgres://u:p?w@h/db?application_name=x&sslmode=verify-full&sslrootcert=%2Fca.pem#f",
            &["sslmode", "sslrootcert"],
        );
        assert_eq!(url, "postgres://u:p?w@h/db?application_name=x#f");
        assert_eq!(
            taken,
            [
                ("sslmode".to_string(), "verify-full".to_string()),
                ("sslrootcert".to_string(), "/ca.pem".to_string())
            ]
        );
        let (url, taken) = take_params("mysql://r@h/db?ssl_mode=REQUIRED", &["ssl-mode"]);
        assert_eq!((url.as_str(), taken.len()), ("mysql://r@h/db", 1));
        let (url, taken) = take_params("mysql://r@h/db", &["ssl-mode"]);
        assert_eq!((url.as_str(), taken.len()), ("mysql://r@h/db", 0));
    }

    #[test]
    fn parser_details_are_hidden_for_urls_with_secrets() {
        assert_eq!(url_error_detail("mysql://r@h/db?x=1", "bad `x`"), "bad `x`");
        let hidden = url_error_detail("mysql://r:p&x=Qh7Zk@h/db", "bad `Qh7Zk`");
        assert!(
            !hidden.contains("Qh7Zk") && hidden.contains("percent-encoded"),
            "{hidden}"
        );
    }

    #[test]
    fn a_password_is_set_encoded() {
        assert_eq!(
            with_password("postgres://app@h:5432/db?x=1", "p@ss w/rd#?").as_deref(),
            Some("postgres://app:p%40ss%20w%2Frd%23%3F@h:5432/db?x=1")
        );
        assert_eq!(
            with_password("mysql://root:old@h/db", "new").as_deref(),
            Some("mysql://root:new@h/db")
        );
        assert_eq!(with_password("postgres://h/db", "x"), None);
        // An `@` in the query is not the credentials'.
        assert!(!has_password("postgres://u@h/db?application_name=a:b@c"));
        assert_eq!(
            with_password("postgres://u@h/db?user=a@b", "pw").as_deref(),
            Some("postgres://u:pw@h/db?user=a@b")
        );
    }
}

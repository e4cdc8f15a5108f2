/// Replaces the password in a URL (`scheme://user:secret@host/db`, or a `password=` query
/// parameter) with `***`, so a URL can be printed in messages and logs. Anything that does not
/// look like a URL with credentials is returned unchanged.
pub fn redact_url(url: &str) -> String {
    redact_query(&redact_userinfo(url))
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    // The credentials end at the last `@` before the query or fragment. Looking further than the
    // first `/` matters: a password written with a raw `/` (`u:pa/ss@h/db`) must not leak.
    // A path containing `@` may make this hide more than the password, never less.
    let before_query = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let Some(at) = before_query.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_string();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

/// Hides the value of every `password=` (and `pass=`, `pwd=`) query parameter: Postgres and
/// MySQL clients accept the password there too.
fn redact_query(url: &str) -> String {
    let Some(q) = url.find('?') else {
        return url.to_string();
    };
    let (head, query) = url.split_at(q + 1);
    let fragment_at = query.find('#').unwrap_or(query.len());
    let (query, fragment) = query.split_at(fragment_at);
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _))
                if ["password", "pass", "pwd"]
                    .iter()
                    .any(|k| key.eq_ignore_ascii_case(k)) =>
            {
                format!("{key}=***")
            }
            _ => param.to_string(),
        })
        .collect();
    format!("{head}{}{fragment}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn hides_query_passwords() {
        assert_eq!(
            redact_url("postgres://u@h/x?sslmode=disable&password=SECRET&x=1"),
            "postgres://u@h/x?sslmode=disable&password=***&x=1"
        );
        assert_eq!(
            redact_url("mysql://u:a@h/x?PWD=b#f"),
            "mysql://u:***@h/x?PWD=***#f"
        );
        assert_eq!(
            redact_url("postgres://h/x?passwordless=1"),
            "postgres://h/x?passwordless=1"
        );
    }

    #[test]
    fn hides_password_only() {
        assert_eq!(
            redact_url("postgres://u:p%40ss@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("mysql://root@h/db"), "mysql://root@h/db");
        assert_eq!(
            redact_url("sqlite://.braid/app.db"),
            "sqlite://.braid/app.db"
        );
        assert_eq!(
            redact_url("postgres://u:a@b@h/db?x=1"),
            "postgres://u:***@h/db?x=1"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        // A raw `/` in the password must not end the credentials early.
        assert_eq!(
            redact_url("postgres://u:pa/ss@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("postgres://h/db?email=a@b"),
            "postgres://h/db?email=a@b"
        );
    }
}

//! TLS against real servers: every mode that must connect (and whether the session is really
//! encrypted, from the server's side), and every check that must refuse, with the message that
//! says which check failed.
//!
//! Postgres: the server at `BRAID_TEST_POSTGRES_URL` has TLS on with a self-signed certificate
//! for `localhost` (its file is read from the server's `ssl_cert_file`). MySQL/MariaDB: the
//! plain server at `BRAID_TEST_MYSQL_URL` has no TLS; `.ci/run` starts a second one with TLS at
//! `BRAID_TEST_MYSQL_TLS_URL`, its certificate (for `localhost` only) signed by the authority
//! in `BRAID_TEST_MYSQL_TLS_CA`.

use braid_driver::Driver;
use braid_tests::{MysqlTarget, PostgresTarget, TestDb, fresh_or_skip, require_servers};

/// `url` with `host` as its host and `query` appended.
fn variant(url: &str, host: &str, query: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or("");
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let port = hostport.rsplit_once(':').map(|(_, p)| p);
    let mut out = format!("{scheme}://");
    if !userinfo.is_empty() {
        out.push_str(userinfo);
        out.push('@');
    }
    out.push_str(host);
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    out.push('/');
    out.push_str(path);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn open(url: &str) -> Result<Box<dyn Driver>, braid_driver::DriverError> {
    braid::drivers::open_url(url).await
}

/// Whether the session is encrypted, as the server sees it.
async fn encrypted(driver: &mut dyn Driver) -> bool {
    let (sql, want) = match driver.dialect() {
        braid_driver::Dialect::Postgres => (
            "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            Some("true"),
        ),
        _ => ("SHOW SESSION STATUS LIKE 'Ssl_cipher'", None),
    };
    let rows = driver.query(sql, &[]).await.unwrap();
    let value = rows.rows[0]
        .last()
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_string();
    match want {
        Some(want) => value == want,
        None => !value.is_empty(),
    }
}

async fn connects(url: &str, tls: bool) {
    let mut driver = open(url)
        .await
        .unwrap_or_else(|e| panic!("{url} should connect: {e}"));
    assert_eq!(encrypted(driver.as_mut()).await, tls, "{url}: TLS");
    driver.close().await.unwrap();
}

async fn refused(url: &str, because: &str) {
    let err = match open(url).await {
        Ok(_) => panic!("{url} should be refused ({because})"),
        Err(e) => e,
    };
    assert_eq!(err.kind, braid_driver::ErrorKind::Connect, "{err}");
    assert!(err.message.contains(because), "{url}: {err}");
}

/// The server's certificate file, when this process can read it (the server's own files).
async fn server_certificate(db: &mut TestDb) -> Option<String> {
    let rows = db.driver.query("SHOW ssl_cert_file", &[]).await.ok()?;
    let path = rows.rows.first()?.first()?.as_str()?.to_string();
    std::fs::read(&path).ok().map(|_| path)
}

/// A CA that signed neither server's certificate: one of the system's bundled public roots.
fn another_authority() -> Option<String> {
    std::fs::read_dir("/usr/share/ca-certificates/mozilla")
        .ok()?
        .flatten()
        .map(|e| e.path().display().to_string())
        .find(|p| p.ends_with(".crt"))
}

#[tokio::test]
async fn postgres_sslmodes() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let url = db.url.clone();
    connects(&url, true).await; // prefer, the default, against a server with TLS
    connects(&variant(&url, "127.0.0.1", "sslmode=disable"), false).await;
    connects(&variant(&url, "127.0.0.1", "sslmode=prefer"), true).await;
    connects(&variant(&url, "127.0.0.1", "sslmode=require"), true).await;
    match server_certificate(&mut db).await {
        Some(cert) => {
            let root = format!("sslrootcert={cert}");
            connects(
                &variant(&url, "127.0.0.1", &format!("sslmode=verify-ca&{root}")),
                true,
            )
            .await;
            connects(
                &variant(&url, "localhost", &format!("sslmode=verify-full&{root}")),
                true,
            )
            .await;
            refused(
                &variant(&url, "127.0.0.1", &format!("sslmode=verify-full&{root}")),
                "not valid for the host name `127.0.0.1`",
            )
            .await;
        }
        None => assert!(
            !require_servers(),
            "the Postgres server's certificate cannot be read here"
        ),
    }
    // No TLS over a Unix socket, whatever sslmode says (libpq's rule).
    if std::path::Path::new("/var/run/postgresql").is_dir() {
        let (_, rest) = url.split_once("://").unwrap();
        let user = rest.split('@').next().unwrap();
        let database = url.rsplit('/').next().unwrap();
        let socket =
            format!("postgres://{user}@/{database}?host=/var/run/postgresql&sslmode=require");
        connects(&socket, false).await;
    }
    if let Some(other) = another_authority() {
        refused(
            &variant(
                &url,
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={other}"),
            ),
            "not issued by a certificate authority this connection trusts",
        )
        .await;
    }
    db.teardown().await;
}

/// A URL to the MariaDB with TLS, or why there is none.
fn tls_server() -> Option<(String, String)> {
    match (
        std::env::var("BRAID_TEST_MYSQL_TLS_URL"),
        std::env::var("BRAID_TEST_MYSQL_TLS_CA"),
    ) {
        (Ok(url), Ok(ca)) => Some((url, ca)),
        _ => {
            assert!(
                !require_servers(),
                "BRAID_REQUIRE_SERVERS=1 but BRAID_TEST_MYSQL_TLS_URL / _CA are not set (.ci/run sets them)"
            );
            eprintln!(
                "SKIPPED [mysql-tls]: BRAID_TEST_MYSQL_TLS_URL is not set (.ci/run starts one)"
            );
            None
        }
    }
}

#[tokio::test]
async fn mysql_ssl_modes_against_a_server_with_tls() {
    let Some((url, ca)) = tls_server() else {
        return;
    };
    connects(&url, true).await; // PREFERRED, the default
    connects(&variant(&url, "127.0.0.1", "ssl-mode=DISABLED"), false).await;
    connects(&variant(&url, "127.0.0.1", "ssl-mode=REQUIRED"), true).await;
    connects(
        &variant(
            &url,
            "127.0.0.1",
            &format!("ssl-mode=VERIFY_CA&ssl-ca={ca}"),
        ),
        true,
    )
    .await;
    connects(
        &variant(
            &url,
            "localhost",
            &format!("ssl_mode=VERIFY_IDENTITY&ssl_ca={ca}"),
        ),
        true,
    )
    .await;
    refused(
        &variant(
            &url,
            "127.0.0.1",
            &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        ),
        "not valid for the host name `127.0.0.1`",
    )
    .await;
    refused(
        &variant(&url, "127.0.0.1", "ssl-mode=VERIFY_CA"),
        "not issued by a certificate authority this connection trusts",
    )
    .await;
    // REQUIRED with a CA checks the chain, as the MySQL clients do, and not the name.
    let required = |ca: &str| variant(&url, "127.0.0.1", &format!("ssl-mode=REQUIRED&ssl-ca={ca}"));
    connects(&required(&ca), true).await;
    if let Some(other) = another_authority() {
        refused(&required(&other), "not issued by a certificate authority").await;
    }
    // mysql_async's own TLS options would bypass ssl-mode: refused, pointing to it.
    let err = open(&variant(&url, "127.0.0.1", "require_ssl=true"))
        .await
        .err()
        .expect("require_ssl is refused");
    assert!(err.message.contains("ssl-mode="), "{err}");
}

#[tokio::test]
async fn mysql_without_tls_on_the_server() {
    let Some(db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    connects(&db.url, false).await; // PREFERRED falls back
    refused(
        &variant(&db.url, "127.0.0.1", "ssl-mode=REQUIRED"),
        "the server does not offer TLS, and ssl-mode=REQUIRED requires it",
    )
    .await;
    db.teardown().await;
}

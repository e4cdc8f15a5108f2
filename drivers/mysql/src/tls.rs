//! TLS for MySQL/MariaDB connections, with the MySQL clients' names: `ssl-mode` and `ssl-ca`
//! in the URL's query (`_` for `-` accepted), on mysql_async's rustls support (ring).
//!
//! | `ssl-mode` | TLS | the server's certificate |
//! |---|---|---|
//! | `DISABLED` | never | — |
//! | `PREFERRED` (the default, as the MySQL clients) | when the server offers it | not checked |
//! | `REQUIRED` | always | not checked; with `ssl-ca`, its chain (as the MySQL clients) |
//! | `VERIFY_CA` | always | its chain, to `ssl-ca` or the built-in roots (Mozilla's) |
//! | `VERIFY_IDENTITY` | always | its chain, and that it names the host connected to |
//!
//! mysql_async has no "preferred": a server without TLS answers a TLS connection with an error,
//! and the driver then connects again without TLS (once; the lock connection reuses the answer).
//! `VERIFY_CA` may also take a second connection (see `certified_name` in the crate root).

use std::path::PathBuf;

use braid_driver::{DriverError, ErrorKind};
use mysql_async::{Opts, OptsBuilder, SslOpts};

/// The MySQL clients' `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, DriverError> {
        Ok(
            match value.to_ascii_uppercase().replace('-', "_").as_str() {
                "DISABLED" => SslMode::Disabled,
                "PREFERRED" => SslMode::Preferred,
                "REQUIRED" => SslMode::Required,
                "VERIFY_CA" => SslMode::VerifyCa,
                "VERIFY_IDENTITY" => SslMode::VerifyIdentity,
                _ => {
                    return Err(DriverError::new(
                        ErrorKind::Url,
                        format!(
                            "ssl-mode `{value}` is not one of DISABLED, PREFERRED, REQUIRED, \
                         VERIFY_CA, VERIFY_IDENTITY"
                        ),
                    ));
                }
            },
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "DISABLED",
            SslMode::Preferred => "PREFERRED",
            SslMode::Required => "REQUIRED",
            SslMode::VerifyCa => "VERIFY_CA",
            SslMode::VerifyIdentity => "VERIFY_IDENTITY",
        }
    }
}

/// A connection's TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: SslMode,
    pub ca: Option<PathBuf>,
}

impl Tls {
    /// From the URL's `ssl-mode` and `ssl-ca` (`None` when absent); `PREFERRED` by default.
    pub fn new(mode: Option<&str>, ca: Option<&str>) -> Result<Tls, DriverError> {
        let mode = match mode {
            Some(value) => SslMode::parse(value)?,
            None => SslMode::Preferred,
        };
        let ca = ca.map(PathBuf::from);
        if let Some(path) = &ca
            && !path.is_file()
        {
            return Err(DriverError::new(
                ErrorKind::Url,
                format!("ssl-ca {}: not a readable file", path.display()),
            ));
        }
        Ok(Tls { mode, ca })
    }

    /// mysql_async's TLS options for this setting (`None`: no TLS).
    pub(crate) fn ssl_opts(&self) -> Option<SslOpts> {
        let verify_chain = match self.mode {
            SslMode::Disabled => return None,
            SslMode::Preferred => false,
            SslMode::Required => self.ca.is_some(),
            SslMode::VerifyCa | SslMode::VerifyIdentity => true,
        };
        let mut opts = SslOpts::default();
        if let Some(ca) = &self.ca {
            opts = opts
                .with_root_certs(vec![ca.clone().into()])
                .with_disable_built_in_roots(true);
        }
        Some(
            opts.with_danger_accept_invalid_certs(!verify_chain)
                .with_danger_skip_domain_validation(self.mode != SslMode::VerifyIdentity),
        )
    }

    /// Whether this setting checks the certificate's chain but not its name.
    pub(crate) fn checks_chain_only(&self) -> bool {
        match self.mode {
            SslMode::VerifyCa => true,
            SslMode::Required => self.ca.is_some(),
            _ => false,
        }
    }

    /// `opts` with this setting's TLS options. With TLS, the connection stays on TCP: mysql_async
    /// would otherwise move a local connection to the server's Unix socket, where TLS does not
    /// follow.
    pub(crate) fn apply(&self, opts: Opts) -> Opts {
        let ssl = self.ssl_opts();
        let tcp_only = ssl.is_some();
        let mut builder = OptsBuilder::from_opts(opts).ssl_opts(ssl);
        if tcp_only {
            builder = builder.prefer_socket(false);
        }
        builder.into()
    }

    /// A connection error in this setting's words; `None` when it is not about TLS.
    pub(crate) fn explain(&self, message: &str, host: &str) -> Option<String> {
        let trusted = match &self.ca {
            Some(path) => format!("the certificates in {}", path.display()),
            None => "the built-in root certificates".to_string(),
        };
        let mode = format!("ssl-mode={}", self.mode.as_str());
        braid_driver::tls::explain_failure(
            message,
            &braid_driver::tls::TlsWords {
                mode: &mode,
                ca_option: "ssl-ca",
                without_tls: "ssl-mode=PREFERRED (or DISABLED)",
                chain_only: "ssl-mode=VERIFY_CA",
                trusted: &trusted,
                host,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_as_the_mysql_clients_spell_them() {
        assert_eq!(
            SslMode::parse("verify_identity").unwrap(),
            SslMode::VerifyIdentity
        );
        assert_eq!(SslMode::parse("VERIFY-CA").unwrap(), SslMode::VerifyCa);
        assert!(SslMode::parse("verify-full").is_err());
        assert!(
            Tls::new(None, None).unwrap().ssl_opts().is_some(),
            "PREFERRED tries TLS"
        );
        assert!(
            Tls::new(Some("DISABLED"), None)
                .unwrap()
                .ssl_opts()
                .is_none()
        );
        assert!(Tls::new(Some("REQUIRED"), Some("/nonexistent.pem")).is_err());
    }
}

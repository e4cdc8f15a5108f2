//! TLS for Postgres connections: libpq's `sslmode` and `sslrootcert`, on rustls (ring).
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default, as in libpq) | when the server offers it | not checked |
//! | `require` | always | not checked; with `sslrootcert`, its chain (as libpq) |
//! | `verify-ca` | always | its chain, to `sslrootcert` or the system's roots |
//! | `verify-full` | always | its chain, and that it names the host connected to |
//!
//! `sslrootcert` is a PEM file of trusted certificates (a relative path is relative to the
//! current directory, as in libpq), or `system` for the system's roots, which as in libpq 16
//! makes `verify-full` the default and a weaker mode an error. Both come from the URL's query, else from `PGSSLMODE` /
//! `PGSSLROOTCERT`. tokio-postgres knows only `disable`, `prefer` and `require` and no
//! `sslrootcert`, so they are taken out of the URL before it parses it, and the checks are
//! rustls's: a connector per driver, used by its main and its lock connection alike.

use std::path::PathBuf;
use std::sync::Arc;

use braid_driver::{DriverError, ErrorKind};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, DriverError> {
        Ok(match value.to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(DriverError::new(
                    ErrorKind::Url,
                    format!(
                        "sslmode `{other}` is not one of disable, prefer, require, verify-ca, \
                         verify-full"
                    ),
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What tokio-postgres is told: whether to try TLS, and whether it is required.
    pub(crate) fn for_client(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Client;
        match self {
            SslMode::Disable => Client::Disable,
            SslMode::Prefer => Client::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Client::Require,
        }
    }
}

/// Where trusted certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// The system's roots (the default of the verifying modes, and `sslrootcert=system`).
    System,
    /// A PEM file.
    File(PathBuf),
}

/// A connection's TLS settings, and the connector that applies them.
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    pub root_cert: Option<RootCert>,
    pub(crate) connector: MakeRustlsConnect,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .field("root_cert", &self.root_cert)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The settings from the URL's `sslmode` / `sslrootcert` (`None` when absent), else the
    /// environment's `PGSSLMODE` / `PGSSLROOTCERT`, else `prefer` and the system's roots.
    pub fn new(sslmode: Option<&str>, sslrootcert: Option<&str>) -> Result<Tls, DriverError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let root_cert = sslrootcert
            .map(str::to_string)
            .or_else(|| env("PGSSLROOTCERT"))
            .map(|value| match value.as_str() {
                "system" => RootCert::System,
                path => RootCert::File(PathBuf::from(path)),
            });
        let mode = match sslmode.map(str::to_string).or_else(|| env("PGSSLMODE")) {
            Some(value) => SslMode::parse(&value)?,
            // As libpq 16: asking for the system's roots asks for their checks.
            None if root_cert == Some(RootCert::System) => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        if root_cert == Some(RootCert::System)
            && !matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
        {
            return Err(DriverError::new(
                ErrorKind::Url,
                format!(
                    "sslrootcert=system asks for the server's certificate to be checked, and \
                     sslmode={} checks nothing: use sslmode=verify-full (the default with it) or \
                     verify-ca",
                    mode.as_str()
                ),
            ));
        }
        let connector = MakeRustlsConnect::new(client_config(mode, root_cert.as_ref())?);
        Ok(Tls {
            mode,
            root_cert,
            connector,
        })
    }

    /// A connection error in this TLS setting's words: which check failed and what to do.
    /// `None` when the error is not about TLS.
    pub(crate) fn explain(&self, message: &str, host: &str) -> Option<String> {
        let trusted = match &self.root_cert {
            Some(RootCert::File(path)) => format!("the certificates in {}", path.display()),
            _ => "the system's root certificates".to_string(),
        };
        let mode = format!("sslmode={}", self.mode.as_str());
        braid_driver::tls::explain_failure(
            message,
            &braid_driver::tls::TlsWords {
                mode: &mode,
                ca_option: "sslrootcert",
                without_tls: "sslmode=prefer (or disable)",
                chain_only: "sslmode=verify-ca",
                trusted: &trusted,
                host,
            },
        )
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for `mode`: no checks for `prefer`, and for `require` without a
/// root file; the chain otherwise; the chain and the name for `verify-full`.
fn client_config(
    mode: SslMode,
    root_cert: Option<&RootCert>,
) -> Result<rustls::ClientConfig, DriverError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_setup(format!("{e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, root_cert) {
        (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => {
            Arc::new(AnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            })
        }
        (SslMode::Require | SslMode::VerifyCa, roots) => Arc::new(ChainOnly(webpki(
            roots.unwrap_or(&RootCert::System),
            provider,
        )?)),
        (SslMode::VerifyFull, roots) => webpki(roots.unwrap_or(&RootCert::System), provider)?,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn webpki(
    roots: &RootCert,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, DriverError> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCert::File(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| url_error(format!("sslrootcert {shown}: {e}")))?;
            for cert in certs {
                let cert = cert.map_err(|e| url_error(format!("sslrootcert {shown}: {e}")))?;
                store
                    .add(cert)
                    .map_err(|e| url_error(format!("sslrootcert {shown}: {e}")))?;
            }
            if store.is_empty() {
                return Err(url_error(format!(
                    "sslrootcert {shown}: no PEM certificate in the file"
                )));
            }
        }
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(tls_setup(
                    "no system root certificates were found; name a CA file with \
                     sslrootcert=PATH"
                        .to_string(),
                ));
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
        .build()
        .map_err(|e| tls_setup(e.to_string()))
}

fn url_error(message: String) -> DriverError {
    DriverError::new(ErrorKind::Url, message)
}

fn tls_setup(message: String) -> DriverError {
    DriverError::new(ErrorKind::Connect, format!("TLS setup: {message}"))
}

/// `prefer`, and `require` without a root file: encryption without checking whom it is with,
/// as libpq does (the handshake signatures are still verified).
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked. rustls
/// checks the name only once the chain is good, so a name error here means the chain passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("PREFER", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            assert_eq!(SslMode::parse(text).unwrap(), mode);
        }
        let err = SslMode::parse("verify_full").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Url);
        assert!(err.message.contains("verify-full"), "{err}");
    }

    #[test]
    fn the_system_roots_mean_verification() {
        assert_eq!(
            Tls::new(None, Some("system")).unwrap().mode,
            SslMode::VerifyFull
        );
        let err = Tls::new(Some("require"), Some("system")).unwrap_err();
        assert!(err.message.contains("verify-full"), "{err}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let err = Tls::new(Some("verify-full"), Some("/nonexistent/ca.pem")).unwrap_err();
        assert!(err.message.contains("/nonexistent/ca.pem"), "{err}");
    }
}

//! What a failed TLS connection means, in words a user can act on: which check failed (no TLS
//! on the server, a certificate from an unknown authority, a certificate for another host) and
//! which setting changes it. The drivers name their own settings (`sslmode=…` for Postgres,
//! `ssl-mode=…` for MySQL); the reading of the TLS library's errors is here, once.

/// A driver's names for its TLS settings, for the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsWords<'a> {
    /// The mode in force, as the URL spells it: `sslmode=verify-full`.
    pub mode: &'a str,
    /// The option naming a CA file: `sslrootcert`.
    pub ca_option: &'a str,
    /// The modes that connect without TLS: `sslmode=prefer (or disable)`.
    pub without_tls: &'a str,
    /// The mode that checks the chain but not the name: `sslmode=verify-ca`.
    pub chain_only: &'a str,
    /// What is trusted: "the certificates in /etc/ca.pem", "the system's root certificates".
    pub trusted: &'a str,
    /// The host name connected to.
    pub host: &'a str,
}

/// `message` (a connection error, with its causes) explained when it is about TLS; `None`
/// otherwise.
pub fn explain_failure(message: &str, words: &TlsWords<'_>) -> Option<String> {
    let TlsWords {
        mode,
        ca_option,
        without_tls,
        chain_only,
        trusted,
        host,
    } = words;
    let lower = message.to_ascii_lowercase();
    if lower.contains("does not support tls")
        || lower.contains("doesn't support ssl")
        || lower.contains("no_client_ssl_flag")
        || lower.contains("client ssl flag")
        || lower.contains("does not have this capability")
    {
        return Some(format!(
            "the server does not offer TLS, and {mode} requires it: enable TLS on the server, \
             or use {without_tls} on a network you trust"
        ));
    }
    if lower.contains("unknownissuer") || lower.contains("issuer is not known") {
        return Some(format!(
            "TLS: the server's certificate is not issued by a certificate authority this \
             connection trusts ({trusted}; {mode}): name its CA with {ca_option}=PATH"
        ));
    }
    if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        return Some(format!(
            "TLS: the server's certificate is not valid for the host name `{host}` ({mode}): \
             connect with a host name the certificate names, or check the chain only with \
             {chain_only}"
        ));
    }
    if let Some(at) = lower.find("invalid peer certificate") {
        let reason = message[at + "invalid peer certificate".len()..]
            .trim_start_matches(':')
            .trim();
        return Some(format!(
            "TLS: the server's certificate was refused ({reason}; {mode})"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: TlsWords<'static> = TlsWords {
        mode: "sslmode=verify-full",
        ca_option: "sslrootcert",
        without_tls: "sslmode=prefer (or disable)",
        chain_only: "sslmode=verify-ca",
        trusted: "the system's root certificates",
        host: "db.internal",
    };

    #[test]
    fn each_check_is_named() {
        let explain = |m: &str| explain_failure(m, &WORDS).unwrap_or_default();
        assert!(
            explain("error performing TLS handshake: server does not support TLS")
                .contains("does not offer TLS")
        );
        assert!(
            explain("Client asked for SSL but server does not have this capability")
                .contains("does not offer TLS")
        );
        assert!(explain("io: invalid peer certificate: UnknownIssuer").contains("name its CA"));
        assert!(explain("certificate not valid for name \"1.2.3.4\"").contains("`db.internal`"));
        assert!(explain("invalid peer certificate: Expired").contains("(Expired;"));
        assert_eq!(explain_failure("connection refused", &WORDS), None);
    }
}

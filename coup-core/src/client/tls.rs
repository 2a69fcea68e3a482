//! TLS for `https://` and `wss://`: one rustls configuration (ring) shared by
//! the REST client and the live connection, trusting the public CAs (webpki
//! roots) and, for a self-hoster with a CA of their own, the certificates the app
//! adds. A server whose certificate is not trusted is refused before a byte of
//! the session goes out, with an error that says so.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// The client TLS configuration: public roots plus `extra_roots_pem` (PEM, any
/// number of certificates).
pub(crate) fn client_config(extra_roots_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_roots_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| Error::validation("caCertificates", format!("not PEM: {e}")))?;
            roots.add(cert).map_err(|e| {
                Error::validation("caCertificates", format!("not a CA certificate: {e}"))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::validation(
                "caCertificates",
                "holds no PEM certificate",
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failed("setting up TLS", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Whether a failure (anywhere in its chain of causes) is a TLS certificate the
/// client does not trust, and if so the words for it.
pub(crate) fn untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(why) = invalid_certificate(e) {
            return Some(format!(
                "the server's TLS certificate is not trusted ({why:?})"
            ));
        }
        cause = e.source();
    }
    None
}

/// rustls's certificate error in `e`, looking inside `io::Error`s (hyper and
/// tungstenite wrap it in one or two, and `io::Error::source` skips the
/// wrapped error itself).
fn invalid_certificate<'a>(
    mut e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::CertificateError> {
    loop {
        if let Some(rustls::Error::InvalidCertificate(why)) = e.downcast_ref::<rustls::Error>() {
            return Some(why);
        }
        e = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_roots_must_be_pem_certificates() {
        assert!(client_config(None).is_ok());
        assert!(client_config(Some(b"not pem")).is_err());
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        assert!(client_config(Some(cert.cert.pem().as_bytes())).is_ok());
    }
}

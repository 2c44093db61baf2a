//! TLS client configuration for talking to providers: configured CA, system roots, or no verification.

use std::sync::Arc;

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{IdpError, Result};

/// Where the provider's certificate is checked against (KubeSphere's `rootCA`,
/// `rootCAData`, `insecureSkipVerify`).
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    /// Path of a PEM file with the CA certificates.
    pub root_ca: Option<String>,
    /// Base64 of a PEM file with the CA certificates.
    pub root_ca_data: Option<String>,
    /// Accept any certificate. Only for test setups; logged loudly.
    pub insecure_skip_verify: bool,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a rustls client configuration (ring only) from the options. With neither CA
/// option set the system's roots are used.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| IdpError::Config(format!("tls: {e}")))?;
    if opts.insecure_skip_verify {
        tracing::warn!("identity provider TLS certificate verification is disabled");
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    let mut pem = Vec::new();
    if let Some(path) = opts.root_ca.as_deref().filter(|p| !p.is_empty()) {
        pem.extend(
            std::fs::read(path)
                .map_err(|e| IdpError::Config(format!("reading rootCA {path}: {e}")))?,
        );
        pem.push(b'\n');
    }
    if let Some(data) = opts.root_ca_data.as_deref().filter(|d| !d.is_empty()) {
        let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        pem.extend(
            base64::engine::general_purpose::STANDARD
                .decode(cleaned)
                .map_err(|e| IdpError::Config(format!("rootCAData is not base64: {e}")))?,
        );
    }
    if pem.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            // A single unparsable system certificate must not break every login.
            let _ = roots.add(cert);
        }
    } else {
        let mut reader = pem.as_slice();
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert = cert.map_err(|e| IdpError::Config(format!("root CA PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| IdpError::Config(format!("root CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(IdpError::Config("root CA holds no certificate".into()));
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any server certificate but still checks handshake signatures with the
/// certificate's key, as `insecureSkipVerify` does in Go.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_ca_options() {
        let bad_b64 = TlsOptions {
            root_ca_data: Some("%%%".into()),
            ..Default::default()
        };
        assert!(matches!(client_config(&bad_b64), Err(IdpError::Config(_))));
        let not_pem = TlsOptions {
            root_ca_data: Some(base64::engine::general_purpose::STANDARD.encode("hello")),
            ..Default::default()
        };
        assert!(matches!(client_config(&not_pem), Err(IdpError::Config(_))));
        let missing = TlsOptions {
            root_ca: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        assert!(matches!(client_config(&missing), Err(IdpError::Config(_))));
        assert!(client_config(&TlsOptions::default()).is_ok());
        let insecure = TlsOptions {
            insecure_skip_verify: true,
            ..Default::default()
        };
        assert!(client_config(&insecure).is_ok());
    }
}

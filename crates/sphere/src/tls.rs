//! The server's rustls configuration: our serving certificate, ALPN h2/http1.1, and
//! client certificates that are requested but optional.
//!
//! A certificate from another CA does not fail the handshake: the connection simply
//! has no identity and the kernel answers 401 where authentication is needed. This
//! is what kube-apiserver does (Go's `tls.RequestClientCert` plus verification in the
//! x509 authenticator), and it lets a client whose kubeconfig carries a stale
//! certificate still reach the health endpoints or authenticate with a bearer token,
//! and see an HTTP 401 instead of an opaque TLS alert.

use crate::identity::ClientAuthenticator;
use crate::pki::{self, Pki};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA could not become a trust anchor.
    #[error(transparent)]
    Pki(#[from] pki::Error),
    /// The serving key PEM could not be decoded.
    #[error("invalid serving key: {0}")]
    Key(String),
    /// rustls rejected the configuration.
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
    /// rustls could not build the client verifier.
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// What the HTTPS server needs from TLS.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    /// Handshake configuration for every connection.
    pub config: Arc<rustls::ServerConfig>,
    /// Turns a connection's presented certificates into an identity.
    pub authenticator: ClientAuthenticator,
}

/// Builds the server TLS configuration from the data dir's PKI, on the `ring`
/// provider only.
pub fn server_tls(pki: &Pki) -> Result<TlsSetup, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let strict = WebPkiClientVerifier::builder_with_provider(
        Arc::new(pki.ca.roots()?),
        Arc::clone(&provider),
    )
    .build()?;
    let chain: Vec<CertificateDer<'static>> = vec![pki::first_cert_der(
        &pki.serving.cert_pem,
        pki::SERVING_CERT,
    )?];
    let key = PrivateKeyDer::from_pem_slice(pki.serving.key_pem.as_bytes())
        .map_err(|e| Error::Key(format!("{e:?}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(OptionalClientCert {
            strict: Arc::clone(&strict),
        }))
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsSetup {
        config: Arc::new(config),
        authenticator: ClientAuthenticator::new(strict),
    })
}

/// Requests a client certificate, accepts its absence, and accepts any chain: trust is
/// decided after the handshake by [`ClientAuthenticator`]. Proof of possession of the
/// private key is still checked here, through the strict verifier's signature checks,
/// so a client cannot present somebody else's certificate.
#[derive(Debug)]
struct OptionalClientCert {
    strict: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for OptionalClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.strict.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.strict.supported_verify_schemes()
    }
}

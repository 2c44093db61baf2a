//! Turning a TLS client certificate into the request's `UserInfo`, the way
//! kube-apiserver's x509 authenticator does.

use apimachinery::UserInfo;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use std::sync::Arc;

/// The group every authenticated user is in.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// The identity a certificate's subject names: CN is the user, each O a group, plus
/// `system:authenticated`. `None` for an empty CN, which kube-apiserver also rejects.
///
/// When a subject repeats CN, the last one wins, as in Go's `pkix.Name`.
pub fn subject_identity(cert: &CertificateDer<'_>) -> Option<UserInfo> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    let subject = parsed.subject();
    let name = subject
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()?
        .to_owned();
    if name.is_empty() {
        return None;
    }
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .map(str::to_owned)
        .collect();
    groups.push(AUTHENTICATED_GROUP.to_owned());
    Some(UserInfo::new(name, groups))
}

/// Decides, after the handshake, whether the certificates a client presented make an
/// identity: only a chain to our CA with the clientAuth usage does.
#[derive(Debug, Clone)]
pub struct ClientAuthenticator {
    verifier: Arc<dyn ClientCertVerifier>,
}

impl ClientAuthenticator {
    /// `verifier` must be a strict verifier (our CA as the only root).
    pub fn new(verifier: Arc<dyn ClientCertVerifier>) -> Self {
        ClientAuthenticator { verifier }
    }

    /// The identity of a connection whose peer sent `certs` (end entity first).
    pub fn authenticate(&self, certs: Option<&[CertificateDer<'_>]>) -> Option<UserInfo> {
        let (end_entity, intermediates) = certs?.split_first()?;
        match self
            .verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
        {
            Ok(_) => subject_identity(end_entity),
            Err(err) => {
                tracing::debug!(%err, "client certificate not trusted; no identity");
                None
            }
        }
    }
}

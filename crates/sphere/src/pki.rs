//! The data dir's PKI: the cluster CA, the serving certificate and client
//! certificates, generated with rcgen on the `ring` backend and checked with rustls'
//! own verifiers, so "usable" means exactly what a TLS peer will accept.

mod subject;

use crate::fsutil::write_atomic;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const SERVING_CERT: &str = "serving.crt";
pub const SERVING_KEY: &str = "serving.key";
pub const ADMIN_CERT: &str = "admin.crt";
pub const ADMIN_KEY: &str = "admin.key";

/// Subject CN of the CA every sphere data dir generates.
pub const CA_COMMON_NAME: &str = "ferrosphere-ca";
/// The admin kubeconfig's user, as kubeadm names it.
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The group the kernel treats as cluster-admin.
pub const ADMIN_GROUP: &str = "system:masters";

const CA_DAYS: u32 = 3650;
const LEAF_DAYS: u32 = 365;
/// A leaf that expires sooner than this is renewed at start-up, so a process that runs
/// for weeks does not start serving an expired certificate.
const RENEW_BEFORE_DAYS: u64 = 30;
/// Backdating absorbs small clock differences between this host and its clients.
const BACKDATE: time::Duration = time::Duration::hours(1);

/// DNS names and IPs every serving certificate carries, besides the listen address.
pub const SERVING_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

/// Why a certificate could not be generated, loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rcgen refused the parameters or the key.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PKI file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A PKI file could not be written.
    #[error(
        "cannot write {path}: {source}; make the data dir writable or choose another with --data-dir"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Half of the CA is missing; regenerating it would silently invalidate every
    /// certificate and kubeconfig issued so far, so the user has to decide.
    #[error(
        "{present} exists but {missing} does not; restore {missing}, or delete {present} to create a new CA (every issued kubeconfig stops working)"
    )]
    IncompleteCa { present: PathBuf, missing: PathBuf },
    /// The CA files do not hold a CA this program can sign with.
    #[error("{path} is not a usable CA: {reason}")]
    InvalidCa { path: PathBuf, reason: String },
    /// A PEM block could not be decoded.
    #[error("invalid PEM in {what}: {reason}")]
    Pem { what: String, reason: String },
    /// The subject with the user's groups could not be written.
    #[error("cannot write the certificate subject: {0}")]
    Subject(#[from] subject::Error),
    /// rustls could not build a verifier from the CA.
    #[error("cannot use the CA as a trust anchor: {0}")]
    TrustAnchor(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertKey {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The cluster CA: its certificate and the key that signs everything else.
pub struct Ca {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// The parameters that define the CA's subject, key usages and key-id method. An
/// `Issuer` rebuilt from them on a later start produces the same issuer name and
/// authority key id as the CA certificate on disk, so no X.509 parsing back into
/// rcgen is needed.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - BACKDATE;
    params.not_after = now + time::Duration::days(i64::from(days));
}

impl Ca {
    /// A new CA with a fresh P-256 key, valid for ten years.
    pub fn generate() -> Result<Ca> {
        let key = KeyPair::generate()?;
        let mut params = ca_params();
        validity(&mut params, CA_DAYS);
        let cert = params.self_signed(&key)?;
        Ok(Ca {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key,
        })
    }

    /// Loads a CA written by [`Ca::generate`]. Checks that the key belongs to the
    /// certificate and that the subject is the one this program signs as, because
    /// certificates issued under any other subject would not chain.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca> {
        let cert_der = first_cert_der(cert_pem, "CA certificate")?;
        let key = KeyPair::from_pem(key_pem)?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&cert_der).map_err(|e| Error::Pem {
                what: "CA certificate".into(),
                reason: e.to_string(),
            })?;
        if parsed.tbs_certificate.subject_pki.raw != key.subject_public_key_info().as_slice() {
            return Err(Error::InvalidCa {
                path: PathBuf::from(CA_KEY),
                reason: "the key does not belong to the certificate".into(),
            });
        }
        let expected = ca_params().self_signed(&key)?;
        let (_, expected) =
            x509_parser::parse_x509_certificate(expected.der()).map_err(|e| Error::InvalidCa {
                path: PathBuf::from(CA_CERT),
                reason: e.to_string(),
            })?;
        if parsed.subject().as_raw() != expected.subject().as_raw() {
            return Err(Error::InvalidCa {
                path: PathBuf::from(CA_CERT),
                reason: format!(
                    "subject is {}, expected CN={CA_COMMON_NAME}",
                    parsed.subject()
                ),
            });
        }
        Ok(Ca {
            cert_pem: cert_pem.to_owned(),
            cert_der,
            key,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA private key, PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> Result<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.cert_der.clone())
            .map_err(|e| Error::TrustAnchor(e.to_string()))?;
        Ok(roots)
    }

    fn issuer(&self) -> Issuer<'static, &KeyPair> {
        Issuer::new(ca_params(), &self.key)
    }

    /// Signs a fresh key's certificate: (certificate DER, the new key).
    fn sign(&self, mut params: CertificateParams, days: u32) -> Result<(Vec<u8>, KeyPair)> {
        validity(&mut params, days);
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer())?;
        Ok((cert.der().to_vec(), key))
    }
}

/// Issues a client certificate for `user` in `groups` (CN = user, one O per group),
/// valid for `days`: the form kube-apiserver's x509 authenticator reads.
pub fn issue_client_cert(ca: &Ca, user: &str, groups: &[&str], days: u32) -> Result<CertKey> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, user);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let (cert, key) = ca.sign(params, days)?;
    let der = subject::replace_subject(&cert, &subject::encode_subject(user, groups), &ca.key)?;
    Ok(CertKey {
        cert_pem: pem_certificate(&der),
        key_pem: key.serialize_pem(),
    })
}

/// PEM armour for a DER certificate, 64 columns as RFC 7468 asks.
fn pem_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Issues a serving certificate whose SANs are `hosts` (IPs become IP SANs).
pub fn issue_serving_cert(ca: &Ca, hosts: &[String], days: u32) -> Result<CertKey> {
    let mut params = CertificateParams::new(hosts.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "ferrosphere-apiserver");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (cert, key) = ca.sign(params, days)?;
    Ok(CertKey {
        cert_pem: pem_certificate(&cert),
        key_pem: key.serialize_pem(),
    })
}

/// The names a serving certificate for `listen` must cover: the fixed list plus the
/// listen IP unless it is a wildcard (0.0.0.0 / ::), which clients never dial.
pub fn serving_hosts(listen: IpAddr) -> Vec<String> {
    let mut hosts: Vec<String> = SERVING_NAMES.iter().map(|s| (*s).to_owned()).collect();
    if !listen.is_unspecified() {
        let ip = listen.to_string();
        if !hosts.contains(&ip) {
            hosts.insert(0, ip);
        }
    }
    hosts
}

/// The PKI of one data dir, as loaded or generated by [`ensure`].
#[derive(Debug)]
pub struct Pki {
    pub ca: Ca,
    pub serving: CertKey,
    pub admin: CertKey,
    /// Which files this call wrote, for the start-up log.
    pub written: Vec<&'static str>,
}

/// Loads the PKI from `dir`, generating whatever is missing: the CA on first start,
/// the serving certificate when it does not cover `listen` (or expires within 30
/// days, or is not signed by the CA), the admin certificate likewise.
pub fn ensure(dir: &Path, listen: IpAddr) -> Result<Pki> {
    let mut written = Vec::new();
    let ca = ensure_ca(dir, &mut written)?;
    let hosts = serving_hosts(listen);

    let serving = match load_pair(dir, SERVING_CERT, SERVING_KEY)? {
        Some(pair) if serving_usable(&ca, &pair, &hosts)? => pair,
        _ => {
            let pair = issue_serving_cert(&ca, &hosts, LEAF_DAYS)?;
            store_pair(dir, SERVING_CERT, SERVING_KEY, &pair)?;
            written.extend([SERVING_CERT, SERVING_KEY]);
            pair
        }
    };

    let admin = match load_pair(dir, ADMIN_CERT, ADMIN_KEY)? {
        Some(pair) if admin_usable(&ca, &pair)? => pair,
        _ => {
            let pair = issue_client_cert(&ca, ADMIN_USER, &[ADMIN_GROUP], LEAF_DAYS)?;
            store_pair(dir, ADMIN_CERT, ADMIN_KEY, &pair)?;
            written.extend([ADMIN_CERT, ADMIN_KEY]);
            pair
        }
    };

    Ok(Pki {
        ca,
        serving,
        admin,
        written,
    })
}

fn ensure_ca(dir: &Path, written: &mut Vec<&'static str>) -> Result<Ca> {
    let cert_path = dir.join(CA_CERT);
    let key_path = dir.join(CA_KEY);
    match (read_opt(&cert_path)?, read_opt(&key_path)?) {
        (Some(cert), Some(key)) => Ca::from_pem(&cert, &key).map_err(|e| match e {
            Error::InvalidCa { reason, .. } => Error::InvalidCa {
                path: cert_path.clone(),
                reason,
            },
            other => other,
        }),
        (None, None) => {
            let ca = Ca::generate()?;
            // Key first: a crash between the two writes then leaves a key without a
            // certificate, which the next start reports instead of trusting.
            write_file(&key_path, ca.key_pem().as_bytes(), 0o600)?;
            write_file(&cert_path, ca.cert_pem().as_bytes(), 0o644)?;
            written.extend([CA_KEY, CA_CERT]);
            Ok(ca)
        }
        (Some(_), None) => Err(Error::IncompleteCa {
            present: cert_path,
            missing: key_path,
        }),
        (None, Some(_)) => Err(Error::IncompleteCa {
            present: key_path,
            missing: cert_path,
        }),
    }
}

fn load_pair(dir: &Path, cert: &str, key: &str) -> Result<Option<CertKey>> {
    match (read_opt(&dir.join(cert))?, read_opt(&dir.join(key))?) {
        (Some(cert_pem), Some(key_pem)) => Ok(Some(CertKey { cert_pem, key_pem })),
        _ => Ok(None),
    }
}

fn store_pair(dir: &Path, cert: &str, key: &str, pair: &CertKey) -> Result<()> {
    write_file(&dir.join(key), pair.key_pem.as_bytes(), 0o600)?;
    write_file(&dir.join(cert), pair.cert_pem.as_bytes(), 0o644)
}

fn read_opt(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_atomic(path, bytes, mode).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// The first certificate in a PEM text.
pub fn first_cert_der(pem: &str, what: &str) -> Result<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::Pem {
        what: what.to_owned(),
        reason: format!("{e:?}"),
    })
}

fn key_matches(pair: &CertKey, cert: &CertificateDer<'_>) -> bool {
    let Ok(key) = KeyPair::from_pem(&pair.key_pem) else {
        return false;
    };
    match x509_parser::parse_x509_certificate(cert) {
        Ok((_, parsed)) => {
            parsed.tbs_certificate.subject_pki.raw == key.subject_public_key_info().as_slice()
        }
        Err(_) => false,
    }
}

/// The instants a reused leaf must be valid at: now, and the renewal horizon.
fn check_times() -> [UnixTime; 2] {
    let now = UnixTime::now();
    let later = UnixTime::since_unix_epoch(
        Duration::from_secs(now.as_secs()) + Duration::from_secs(RENEW_BEFORE_DAYS * 86_400),
    );
    [now, later]
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn serving_usable(ca: &Ca, pair: &CertKey, hosts: &[String]) -> Result<bool> {
    let Ok(cert) = first_cert_der(&pair.cert_pem, SERVING_CERT) else {
        return Ok(false);
    };
    if !key_matches(pair, &cert) {
        return Ok(false);
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(ca.roots()?), provider())
        .build()
        .map_err(|e| Error::TrustAnchor(e.to_string()))?;
    for host in hosts {
        let Ok(name) = ServerName::try_from(host.as_str()) else {
            return Ok(false);
        };
        for at in check_times() {
            if verifier
                .verify_server_cert(&cert, &[], &name, &[], at)
                .is_err()
            {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn admin_usable(ca: &Ca, pair: &CertKey) -> Result<bool> {
    let Ok(cert) = first_cert_der(&pair.cert_pem, ADMIN_CERT) else {
        return Ok(false);
    };
    if !key_matches(pair, &cert) {
        return Ok(false);
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()?), provider())
        .build()
        .map_err(|e| Error::TrustAnchor(e.to_string()))?;
    if check_times()
        .into_iter()
        .any(|at| verifier.verify_client_cert(&cert, &[], at).is_err())
    {
        return Ok(false);
    }
    let identity = crate::identity::subject_identity(&cert);
    Ok(identity.is_some_and(|u| u.name == ADMIN_USER && u.in_group(ADMIN_GROUP)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

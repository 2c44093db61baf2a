//! Unit tests of the PKI: generation, reuse, renewal and the identities certificates carry.

use super::*;
use crate::identity::subject_identity;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

#[test]
fn first_start_writes_everything_with_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ensure(dir.path(), loopback()).unwrap();
    assert_eq!(pki.written.len(), 6);
    for key in [CA_KEY, SERVING_KEY, ADMIN_KEY] {
        assert_eq!(mode(&dir.path().join(key)), 0o600, "{key}");
    }
    let ca = first_cert_der(pki.ca.cert_pem(), "ca").unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&ca).unwrap();
    assert_eq!(parsed.subject().to_string(), "CN=ferrosphere-ca");
    assert!(parsed.is_ca());
    let days = (parsed.validity().not_after.timestamp() - parsed.validity().not_before.timestamp())
        / 86_400;
    assert!((3650..=3651).contains(&days), "{days}");
}

#[test]
fn second_start_reuses_all_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), loopback()).unwrap();
    let second = ensure(dir.path(), loopback()).unwrap();
    assert!(second.written.is_empty(), "{:?}", second.written);
    assert_eq!(first.ca.cert_pem(), second.ca.cert_pem());
    assert_eq!(first.serving, second.serving);
    assert_eq!(first.admin, second.admin);
}

#[test]
fn new_listen_address_regenerates_only_the_serving_cert() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), loopback()).unwrap();
    let other = IpAddr::from([10, 1, 2, 3]);
    let second = ensure(dir.path(), other).unwrap();
    assert_eq!(second.written, vec![SERVING_CERT, SERVING_KEY]);
    assert_eq!(first.ca.cert_pem(), second.ca.cert_pem());
    assert!(serving_usable(&second.ca, &second.serving, &serving_hosts(other)).unwrap());
    assert!(!serving_usable(&first.ca, &first.serving, &serving_hosts(other)).unwrap());
}

#[test]
fn serving_cert_covers_the_kubernetes_names() {
    let ca = Ca::generate().unwrap();
    let hosts = serving_hosts(IpAddr::from([192, 168, 1, 9]));
    let pair = issue_serving_cert(&ca, &hosts, 10).unwrap();
    assert!(
        !serving_usable(&ca, &pair, &hosts).unwrap(),
        "expires within 30 days"
    );
    let pair = issue_serving_cert(&ca, &hosts, 365).unwrap();
    assert!(serving_usable(&ca, &pair, &hosts).unwrap());
    for name in ["kubernetes.default.svc.cluster.local", "::1", "192.168.1.9"] {
        assert!(hosts.iter().any(|h| h == name), "{name}");
    }
    let wildcard = serving_hosts(IpAddr::from([0, 0, 0, 0]));
    assert!(!wildcard.iter().any(|h| h == "0.0.0.0"));
}

#[test]
fn a_leaf_from_a_replaced_ca_is_reissued() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), loopback()).unwrap();
    fs::remove_file(dir.path().join(CA_CERT)).unwrap();
    fs::remove_file(dir.path().join(CA_KEY)).unwrap();
    let second = ensure(dir.path(), loopback()).unwrap();
    assert_ne!(first.ca.cert_pem(), second.ca.cert_pem());
    assert_eq!(second.written.len(), 6, "{:?}", second.written);
}

#[test]
fn half_a_ca_is_an_error_not_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    ensure(dir.path(), loopback()).unwrap();
    fs::remove_file(dir.path().join(CA_KEY)).unwrap();
    let err = ensure(dir.path(), loopback()).unwrap_err();
    assert!(matches!(err, Error::IncompleteCa { .. }), "{err}");
}

#[test]
fn a_key_of_another_ca_is_rejected() {
    let a = Ca::generate().unwrap();
    let b = Ca::generate().unwrap();
    let err = Ca::from_pem(a.cert_pem(), &b.key_pem()).unwrap_err();
    assert!(matches!(err, Error::InvalidCa { .. }), "{err}");
    Ca::from_pem(a.cert_pem(), &a.key_pem()).unwrap();
}

#[test]
fn client_certs_carry_user_and_groups() {
    let ca = Ca::generate().unwrap();
    let pair = issue_client_cert(&ca, "alice", &["dev", "ops"], 1).unwrap();
    let der = first_cert_der(&pair.cert_pem, "alice").unwrap();
    let user = subject_identity(&der).unwrap();
    assert_eq!(user.name, "alice");
    assert_eq!(user.groups, vec!["dev", "ops", "system:authenticated"]);
    // The re-signed certificate still chains, carries clientAuth and is in date.
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots().unwrap()), provider())
            .build()
            .unwrap();
    verifier
        .verify_client_cert(&der, &[], UnixTime::now())
        .unwrap();
    let pair = issue_client_cert(&ca, "bot", &[], 1).unwrap();
    let der = first_cert_der(&pair.cert_pem, "bot").unwrap();
    assert_eq!(
        subject_identity(&der).unwrap().groups,
        vec!["system:authenticated"]
    );
}

#[test]
fn reloaded_ca_issues_certs_that_chain() {
    let ca = Ca::generate().unwrap();
    let reloaded = Ca::from_pem(ca.cert_pem(), &ca.key_pem()).unwrap();
    let pair = issue_client_cert(&reloaded, ADMIN_USER, &[ADMIN_GROUP], 365).unwrap();
    assert!(admin_usable(&ca, &pair).unwrap());
    let other = Ca::generate().unwrap();
    assert!(!admin_usable(&other, &pair).unwrap());
}

#[test]
fn admin_cert_for_the_wrong_user_is_replaced() {
    let ca = Ca::generate().unwrap();
    let pair = issue_client_cert(&ca, "bob", &[ADMIN_GROUP], 365).unwrap();
    assert!(!admin_usable(&ca, &pair).unwrap());
}

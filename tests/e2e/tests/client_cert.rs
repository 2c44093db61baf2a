//! kubectl as a second user with a client certificate signed by the data dir's
//! CA (CN = user, O = group): denied before a RoleBinding, allowed after, `auth
//! can-i --list` and `auth whoami`; a certificate from another CA gets 401.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use base64::Engine;
use e2e::{Cluster, Namespace, expect_err_contains, expect_ok, kubectl, unique_name};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The subject sphere's CA certificate carries (crates/sphere/src/pki.rs).
const CA_COMMON_NAME: &str = "ferrosphere-ca";

fn ca_params() -> rcgen::CertificateParams {
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, CA_COMMON_NAME);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p
}

/// A client certificate and key (PEM) for `user` in `group`, signed by `issuer`.
fn client_cert(
    issuer: &rcgen::Issuer<'_, rcgen::KeyPair>,
    user: &str,
    group: &str,
) -> (String, String) {
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, group);
    p.distinguished_name.push(rcgen::DnType::CommonName, user);
    p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A kubeconfig for the shared cluster's server using the given client credentials.
fn kubeconfig_for(dir: &Path, file: &str, cert_pem: &str, key_pem: &str) -> PathBuf {
    let out = kubectl(&["config", "view", "--raw", "--minify", "-o", "json"]);
    let admin: Value = serde_json::from_str(expect_ok(&out)).unwrap();
    let cluster = &admin["clusters"][0]["cluster"];
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sphere", "cluster": cluster}],
        "users": [{"name": "u", "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}}],
        "contexts": [{"name": "u", "context": {"cluster": "sphere", "user": "u"}}],
        "current-context": "u",
    });
    let path = dir.join(file);
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

#[test]
fn a_second_user_with_a_client_certificate() {
    let cluster = Cluster::shared();
    if !cluster.is_own() {
        // Only a cluster started here lends its CA key; a real cluster keeps it.
        eprintln!("skipped: E2E_KUBECONFIG names a cluster whose CA key is not available");
        return;
    }
    let data = cluster.kubeconfig().parent().unwrap();
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(data.join("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::new(ca_params(), ca_key);
    let user = unique_name("jane");
    let (cert, key) = client_cert(&issuer, &user, "dev");
    let tmp = tempfile::tempdir().unwrap();
    let jane = kubeconfig_for(tmp.path(), "jane.kubeconfig", &cert, &key);
    let jane = jane.to_str().unwrap();
    let ns = Namespace::new("client-cert");
    let as_jane = |args: &[&str]| {
        let mut all = vec!["--kubeconfig", jane, "-n", ns.name()];
        all.extend_from_slice(args);
        kubectl(&all)
    };

    let out = as_jane(&["auth", "whoami", "-o", "json"]);
    let who: Value = serde_json::from_str(expect_ok(&out)).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], json!(user), "{out}");
    let groups = who["status"]["userInfo"]["groups"].clone();
    assert!(
        groups.as_array().unwrap().contains(&json!("dev"))
            && groups
                .as_array()
                .unwrap()
                .contains(&json!("system:authenticated")),
        "{groups}"
    );

    let out = as_jane(&["get", "configmaps"]);
    expect_err_contains(
        &out,
        &format!(
            "User \"{user}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{}\"",
            ns.name()
        ),
    );
    let out = as_jane(&["auth", "can-i", "create", "configmaps"]);
    assert_eq!(out.stdout.trim(), "no", "{out}");

    // Binding the group, not the user: the certificate's O is what grants.
    expect_ok(&ns.kubectl(&[
        "create",
        "rolebinding",
        "dev-edit",
        "--clusterrole=edit",
        "--group=dev",
    ]));
    expect_ok(&as_jane(&[
        "create",
        "configmap",
        "from-jane",
        "--from-literal=a=b",
    ]));
    expect_ok(&as_jane(&["get", "configmap", "from-jane"]));
    let out = as_jane(&["auth", "can-i", "create", "configmaps"]);
    assert_eq!(out.stdout.trim(), "yes", "{out}");
    let out = as_jane(&["auth", "can-i", "--list"]);
    let listed = expect_ok(&out);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("configmaps ") && l.contains("create")),
        "{out}"
    );
    // Outside the bound namespace nothing is granted.
    let out = kubectl(&[
        "--kubeconfig",
        jane,
        "get",
        "configmaps",
        "-n",
        "kube-system",
    ]);
    expect_err_contains(&out, "is forbidden");

    // The same subject from a CA the server does not trust is no one.
    let other_key = rcgen::KeyPair::generate().unwrap();
    let other = rcgen::Issuer::new(ca_params(), other_key);
    let (cert, key) = client_cert(&other, &user, "dev");
    let forged = kubeconfig_for(tmp.path(), "forged.kubeconfig", &cert, &key);
    let out = kubectl(&[
        "--kubeconfig",
        forged.to_str().unwrap(),
        "-n",
        ns.name(),
        "get",
        "configmaps",
    ]);
    expect_err_contains(
        &out,
        "error: You must be logged in to the server (Unauthorized)",
    );
}

//! Black-box tests of client-certificate identities: our CA's certificates name the
//! user, a certificate from another CA names nobody, and both HTTP versions work.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sphere::pki;

const WHOAMI: &str = "POST /apis/authentication.k8s.io/v1/selfsubjectreviews HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn certificates_decide_the_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let sphere = Sphere::start(tmp.path());
    let ca_pem = String::from_utf8(read(tmp.path().join("ca.crt"))).unwrap();
    let ca_key = String::from_utf8(read(tmp.path().join("ca.key"))).unwrap();
    let ours = pki::Ca::from_pem(&ca_pem, &ca_key).unwrap();
    let alice = pki::issue_client_cert(&ours, "alice", &["dev", "ops"], 1).unwrap();
    let foreign_ca = pki::Ca::generate().unwrap();
    let mallory = pki::issue_client_cert(&foreign_ca, "mallory", &["system:masters"], 1).unwrap();
    let h1: &[&[u8]] = &[b"http/1.1"];

    let (_, code, body) = https_request(
        sphere.port,
        &ca_pem,
        Some((&alice.cert_pem, &alice.key_pem)),
        h1,
        WHOAMI,
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let review: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "alice");
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        serde_json::json!(["dev", "ops", "system:authenticated"])
    );

    // Another CA's certificate completes the handshake but carries no identity.
    let (_, code, body) = https_request(
        sphere.port,
        &ca_pem,
        Some((&mallory.cert_pem, &mallory.key_pem)),
        h1,
        WHOAMI,
    )
    .await;
    assert_eq!(code, 401, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "Unauthorized");
    let (_, code, _) = https_request(
        sphere.port,
        &ca_pem,
        Some((&mallory.cert_pem, &mallory.key_pem)),
        h1,
        HEALTHZ,
    )
    .await;
    assert_eq!(code, 200);

    // No certificate at all: health answers, the rest is 401.
    let (_, code, _) = https_request(sphere.port, &ca_pem, None, h1, HEALTHZ).await;
    assert_eq!(code, 200);
    let (_, code, _) = https_request(sphere.port, &ca_pem, None, h1, WHOAMI).await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn alpn_offers_h2_first() {
    let tmp = tempfile::tempdir().unwrap();
    let sphere = Sphere::start(tmp.path());
    let ca_pem = String::from_utf8(read(tmp.path().join("ca.crt"))).unwrap();
    let (alpn, _, _) =
        https_request(sphere.port, &ca_pem, None, &[b"h2", b"http/1.1"], HEALTHZ).await;
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    let (alpn, code, _) = https_request(sphere.port, &ca_pem, None, &[b"http/1.1"], HEALTHZ).await;
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(code, 200);
}

#[test]
fn kubectl_with_a_foreign_certificate_is_unauthorized() {
    let tmp = tempfile::tempdir().unwrap();
    let sphere = Sphere::start(tmp.path());
    let ca_pem = String::from_utf8(read(tmp.path().join("ca.crt"))).unwrap();
    let foreign = pki::Ca::generate().unwrap();
    let mallory = pki::issue_client_cert(&foreign, "mallory", &["system:masters"], 1).unwrap();
    let path = tmp.path().join("mallory.kubeconfig");
    sphere::kubeconfig::Kubeconfig {
        cluster: "ferrosphere",
        server: &sphere.url,
        ca_pem: &ca_pem,
        user: "mallory",
        client: &mallory,
    }
    .write(&path)
    .unwrap();
    let out = kubectl_with(&path, &["auth", "whoami"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Unauthorized"), "{stderr}");
}

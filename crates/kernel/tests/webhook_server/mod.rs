//! An HTTPS admission webhook server for tests: its own rcgen CA, a serving
//! certificate for the names asked for, and a handler that answers reviews.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Answers one review: (request path, the AdmissionReview) → the `response`
/// object without its `uid`, which the server fills in.
pub type Handler = Arc<dyn Fn(&str, &Value) -> Value + Send + Sync>;

pub struct HookServer {
    pub addr: SocketAddr,
    pub ca_pem: String,
    /// Every review received, with the path it was posted to.
    pub seen: Arc<Mutex<Vec<(String, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A CA and a certificate it signed for `names`: (CA PEM, cert DER, key DER).
pub fn pki(names: &[&str]) -> (String, Vec<u8>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "webhook-test-ca");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.clone().self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    let cert = params.signed_by(&key, &issuer).expect("signed");
    (
        ca_pem_of(&ca_cert),
        cert.der().to_vec(),
        key.serialize_der(),
    )
}

fn ca_pem_of(c: &rcgen::Certificate) -> String {
    c.pem()
}

impl HookServer {
    /// Starts a server whose certificate covers 127.0.0.1 and `extra_names`.
    pub async fn start(extra_names: &[&str], handler: Handler) -> HookServer {
        let mut names = vec!["127.0.0.1"];
        names.extend_from_slice(extra_names);
        let (ca_pem, cert, key) = pki(&names);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.into()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
            )
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        let seen = seen.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let body = req.into_body().collect().await?.to_bytes();
                            let review: Value =
                                serde_json::from_slice(&body).unwrap_or(Value::Null);
                            seen.lock()
                                .expect("lock")
                                .push((path.clone(), review.clone()));
                            let mut resp = handler(&path, &review);
                            resp["uid"] = review["request"]["uid"].clone();
                            let out = json!({
                                "apiVersion": "admission.k8s.io/v1",
                                "kind": "AdmissionReview",
                                "response": resp,
                            });
                            let bytes = serde_json::to_vec(&out).expect("json");
                            Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::from(
                                bytes,
                            ))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        HookServer {
            addr,
            ca_pem,
            seen,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    pub fn ca_bundle(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }

    pub fn reviews(&self, path: &str) -> Vec<Value> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// A JSONPatch response adding `labels[key] = value`.
pub fn add_label(review: &Value, key: &str, value: &str) -> Value {
    use base64::Engine;
    let has_labels = review
        .pointer("/request/object/metadata/labels")
        .is_some_and(Value::is_object);
    let escaped = key.replace('~', "~0").replace('/', "~1");
    let ops = if has_labels {
        json!([{"op": "add", "path": format!("/metadata/labels/{escaped}"), "value": value}])
    } else {
        json!([{"op": "add", "path": "/metadata/labels", "value": {key: value}}])
    };
    let patch =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&ops).expect("json"));
    json!({"allowed": true, "patchType": "JSONPatch", "patch": patch})
}

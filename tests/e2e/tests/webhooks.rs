//! Admission webhooks driven with kubectl against a real HTTPS webhook server
//! started by the test (its own CA, the CA in `caBundle`): a validating webhook
//! denying ConfigMaps labelled `deny=true`, a mutating one adding a label, and
//! failurePolicy Fail versus Ignore when the server is down.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use base64::Engine;
use bytes::Bytes;
use e2e::{Namespace, expect_err_contains, expect_ok, kubectl, kubectl_stdin, unique_name};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;

/// An HTTPS webhook server on 127.0.0.1 answering `/validate` and `/mutate`.
struct WebhookServer {
    port: u16,
    ca_bundle: String,
    /// Serves the webhook; dropping it stops the server.
    _runtime: tokio::runtime::Runtime,
}

fn answer(path: &str, review: &Value) -> Value {
    let obj = &review["request"]["object"];
    match path {
        "/validate" if obj.pointer("/metadata/labels/deny") == Some(&json!("true")) => json!({
            "allowed": false,
            "status": {"code": 403, "reason": "Forbidden", "message": "configmaps labelled deny=true are not allowed"}
        }),
        "/validate" => json!({"allowed": true, "warnings": ["checked by the e2e webhook"]}),
        "/mutate" => {
            let op = if obj
                .pointer("/metadata/labels")
                .is_some_and(Value::is_object)
            {
                json!([{"op": "add", "path": "/metadata/labels/mutated-by", "value": "webhook"}])
            } else {
                json!([{"op": "add", "path": "/metadata/labels", "value": {"mutated-by": "webhook"}}])
            };
            let patch = base64::engine::general_purpose::STANDARD.encode(op.to_string());
            json!({"allowed": true, "patchType": "JSONPatch", "patch": patch})
        }
        _ => json!({"allowed": true}),
    }
}

impl WebhookServer {
    fn start() -> WebhookServer {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::default();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "e2e-webhook-ca");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.clone().self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(
                        |req: http::Request<hyper::body::Incoming>| async move {
                            let path = req.uri().path().to_string();
                            let body = req.into_body().collect().await?.to_bytes();
                            let review: Value =
                                serde_json::from_slice(&body).unwrap_or(Value::Null);
                            let mut response = answer(&path, &review);
                            response["uid"] = review["request"]["uid"].clone();
                            let out = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
                            Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::from(
                                out.to_string(),
                            ))))
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        WebhookServer {
            port,
            ca_bundle: base64::engine::general_purpose::STANDARD.encode(ca.pem()),
            _runtime: runtime,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// A namespace carrying a label that only this test's webhooks select, so that
/// the cluster-wide configurations touch nothing else.
fn labelled_namespace(label: &str) -> (Namespace, String) {
    let ns = Namespace::new(label);
    let value = ns.name().to_string();
    expect_ok(&kubectl(&[
        "label",
        "namespace",
        ns.name(),
        &format!("webhook-e2e={value}"),
    ]));
    (ns, value)
}

fn webhook(name: &str, url: &str, ca_bundle: &str, selector: &str, failure: &str) -> Value {
    json!({
        "name": name,
        "clientConfig": {"url": url, "caBundle": ca_bundle},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
        "namespaceSelector": {"matchLabels": {"webhook-e2e": selector}},
        "failurePolicy": failure,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
    })
}

/// Creates a webhook configuration; deletes it when dropped.
struct Configuration {
    kind: &'static str,
    name: String,
}

impl Configuration {
    fn apply(kind: &'static str, name: &str, hooks: Vec<Value>) -> Configuration {
        let manifest = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": name},
            "webhooks": hooks,
        });
        expect_ok(&kubectl_stdin(&["apply", "-f", "-"], &manifest.to_string()));
        Configuration {
            kind,
            name: name.to_string(),
        }
    }
}

impl Drop for Configuration {
    fn drop(&mut self) {
        let _ = kubectl(&["delete", self.kind, &self.name, "--ignore-not-found"]);
    }
}

fn configmap(name: &str, labels: Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"a": "b"}})
        .to_string()
}

#[test]
fn validating_and_mutating_webhooks_seen_through_kubectl() {
    let server = WebhookServer::start();
    let (ns, selector) = labelled_namespace("webhooks");
    let name = unique_name("e2e-deny");
    let _validating = Configuration::apply(
        "ValidatingWebhookConfiguration",
        &name,
        vec![webhook(
            "deny.e2e.example.com",
            &server.url("/validate"),
            &server.ca_bundle,
            &selector,
            "Fail",
        )],
    );
    let _mutating = Configuration::apply(
        "MutatingWebhookConfiguration",
        &unique_name("e2e-label"),
        vec![webhook(
            "label.e2e.example.com",
            &server.url("/mutate"),
            &server.ca_bundle,
            &selector,
            "Fail",
        )],
    );

    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        &configmap("allowed", json!({"app": "x"})),
    );
    expect_ok(&out);
    assert!(
        out.stderr.contains("Warning: checked by the e2e webhook"),
        "kubectl prints the webhook's warning:\n{out}"
    );
    let out = ns.kubectl(&[
        "get",
        "configmap",
        "allowed",
        "-o",
        "jsonpath={.metadata.labels.mutated-by}",
    ]);
    assert_eq!(expect_ok(&out), "webhook", "the mutating webhook's label");

    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        &configmap("denied", json!({"deny": "true"})),
    );
    expect_err_contains(
        &out,
        "Error from server (Forbidden): error when creating \"STDIN\": admission webhook \"deny.e2e.example.com\" denied the request: configmaps labelled deny=true are not allowed",
    );
    let out = ns.kubectl(&["get", "configmap", "denied"]);
    expect_err_contains(&out, "NotFound");

    // Labelling an allowed ConfigMap deny=true is an UPDATE the webhook refuses.
    let out = ns.kubectl(&["label", "configmap", "allowed", "deny=true"]);
    expect_err_contains(
        &out,
        "admission webhook \"deny.e2e.example.com\" denied the request: configmaps labelled deny=true are not allowed",
    );

    // Outside the selected namespace the webhooks are not called.
    let other = Namespace::new("webhooks-other");
    other.create(&configmap("free", json!({"deny": "true"})));
    let out = other.kubectl(&[
        "get",
        "configmap",
        "free",
        "-o",
        "jsonpath={.metadata.labels.mutated-by}",
    ]);
    assert_eq!(expect_ok(&out), "");
}

#[test]
fn failure_policy_when_the_webhook_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A CA is still needed for the configuration to be callable at all.
    let server = WebhookServer::start();
    let url = format!("https://127.0.0.1:{port}/validate");
    let (ns, selector) = labelled_namespace("webhook-down");
    let name = unique_name("e2e-down");
    let config = Configuration::apply(
        "ValidatingWebhookConfiguration",
        &name,
        vec![webhook(
            "down.e2e.example.com",
            &url,
            &server.ca_bundle,
            &selector,
            "Fail",
        )],
    );
    let out = ns.kubectl_stdin(&["create", "-f", "-"], &configmap("blocked", json!({})));
    expect_err_contains(
        &out,
        &format!(
            "Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"down.e2e.example.com\": failed to call webhook: Post \"https://127.0.0.1:{port}/validate?timeout=5s\": dial tcp 127.0.0.1:{port}:"
        ),
    );

    let _ignore = Configuration::apply(
        "ValidatingWebhookConfiguration",
        &config.name,
        vec![webhook(
            "down.e2e.example.com",
            &url,
            &server.ca_bundle,
            &selector,
            "Ignore",
        )],
    );
    expect_ok(&ns.kubectl_stdin(&["create", "-f", "-"], &configmap("let-through", json!({}))));
}

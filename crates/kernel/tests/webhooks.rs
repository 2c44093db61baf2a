//! Admission webhooks against an in-process kernel and a real HTTPS webhook
//! server: matching, denials, patches, dry run, failure policies and timeouts.

mod common;
mod webhook_server;

use common::TestKernel;
use serde_json::{Value, json};
use std::sync::Arc;
use webhook_server::{HookServer, add_label};

const VWC: &str = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
const MWC: &str = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str, labels: Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})
        .to_string()
}

/// A webhook entry calling `url` for configmaps, with `extra` merged in.
fn hook(name: &str, url: &str, ca_bundle: Option<&str>, extra: Value) -> Value {
    let mut h = json!({
        "name": name,
        "clientConfig": {"url": url},
        "rules": [{"operations": ["CREATE", "UPDATE", "DELETE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    });
    if let Some(ca) = ca_bundle {
        h["clientConfig"]["caBundle"] = json!(ca);
    }
    if let (Some(m), Value::Object(e)) = (h.as_object_mut(), extra) {
        m.extend(e);
    }
    h
}

async fn configure(t: &TestKernel, path: &str, name: &str, hooks: Vec<Value>) {
    let kind = if path == VWC {
        "ValidatingWebhookConfiguration"
    } else {
        "MutatingWebhookConfiguration"
    };
    let body = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": hooks});
    let (s, v) = t.json("POST", path, &body.to_string()).await;
    assert_eq!(s, 201, "{v}");
}

fn deny_labelled() -> webhook_server::Handler {
    Arc::new(|_, review: &Value| {
        let req = &review["request"];
        let obj = if req["operation"] == "DELETE" {
            &req["oldObject"]
        } else {
            &req["object"]
        };
        if obj.pointer("/metadata/labels/deny") == Some(&json!("true")) {
            json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "configmaps labelled deny=true are not allowed"}})
        } else {
            json!({"allowed": true, "warnings": ["checked by deny.example.com"]})
        }
    })
}

#[tokio::test]
async fn validating_webhook_denies_with_its_status_and_warns() {
    let t = TestKernel::start().await;
    let server = HookServer::start(&[], deny_labelled()).await;
    let ca = server.ca_bundle();
    configure(
        &t,
        VWC,
        "deny",
        vec![hook(
            "deny.example.com",
            &server.url("/validate"),
            Some(&ca),
            json!({}),
        )],
    )
    .await;

    let (s, headers, _) = t
        .call("POST", CMS, Some("application/json"), &cm("ok", json!({})))
        .await;
    assert_eq!(s, 201);
    let warning = headers
        .get("warning")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(warning, "299 - \"checked by deny.example.com\"");

    let (s, v) = t
        .json("POST", CMS, &cm("bad", json!({"deny": "true"})))
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(
        v["message"],
        "admission webhook \"deny.example.com\" denied the request: configmaps labelled deny=true are not allowed"
    );
    assert_eq!(v["reason"], "Forbidden");
    let (s, _) = t.json("GET", &format!("{CMS}/bad"), "").await;
    assert_eq!(s, 404, "a denied create stores nothing");

    let reviews = server.reviews("/validate");
    let req = &reviews[0]["request"];
    assert_eq!(reviews[0]["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(req["operation"], "CREATE");
    assert_eq!(
        req["kind"],
        json!({"group": "", "version": "v1", "kind": "ConfigMap"})
    );
    assert_eq!(
        req["resource"],
        json!({"group": "", "version": "v1", "resource": "configmaps"})
    );
    assert_eq!(req["requestKind"], req["kind"]);
    assert_eq!(req["namespace"], "default");
    assert_eq!(req["name"], "ok");
    assert_eq!(req["userInfo"]["username"], "admin");
    assert_eq!(req["dryRun"], false);
    assert_eq!(req["options"]["kind"], "CreateOptions");
    assert_eq!(req["object"]["data"], json!({"k": "v"}));
    assert_eq!(req["oldObject"], Value::Null);

    // An update that adds the label is denied too, and carries the old object.
    let (s, v) = t
        .json(
            "PATCH",
            &format!("{CMS}/ok"),
            r#"{"metadata":{"labels":{"deny":"true"}}}"#,
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let last = server.reviews("/validate").pop().expect("a review");
    assert_eq!(last["request"]["operation"], "UPDATE");
    assert_eq!(last["request"]["options"]["kind"], "PatchOptions");
    assert_eq!(last["request"]["oldObject"]["metadata"]["name"], "ok");

    // DELETE is offered with the old object only.
    let (s, _) = t.json("DELETE", &format!("{CMS}/ok"), "").await;
    assert_eq!(s, 200);
    let last = server.reviews("/validate").pop().expect("a review");
    assert_eq!(last["request"]["operation"], "DELETE");
    assert_eq!(last["request"]["object"], Value::Null);
    assert_eq!(last["request"]["options"]["kind"], "DeleteOptions");
}

#[tokio::test]
async fn mutating_webhooks_patch_in_order_and_reinvoke_if_needed() {
    let t = TestKernel::start().await;
    let server = HookServer::start(
        &[],
        Arc::new(|path, review: &Value| match path {
            "/label" => {
                if review
                    .pointer("/request/object/metadata/labels/mutated")
                    .is_some()
                {
                    json!({"allowed": true})
                } else {
                    add_label(review, "mutated", "yes")
                }
            }
            _ => json!({"allowed": true}),
        }),
    )
    .await;
    let ca = server.ca_bundle();
    // "a-observer" runs first and asks to be called again if a later webhook
    // changes the object; "b-labeller" adds the label.
    configure(
        &t,
        MWC,
        "a-observer",
        vec![hook(
            "observer.example.com",
            &server.url("/observe"),
            Some(&ca),
            json!({"reinvocationPolicy": "IfNeeded"}),
        )],
    )
    .await;
    configure(
        &t,
        MWC,
        "b-labeller",
        vec![hook(
            "labeller.example.com",
            &server.url("/label"),
            Some(&ca),
            json!({}),
        )],
    )
    .await;
    let (s, v) = t.json("POST", CMS, &cm("m", json!({"app": "x"}))).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v["metadata"]["labels"],
        json!({"app": "x", "mutated": "yes"})
    );
    let (_, stored) = t.json("GET", &format!("{CMS}/m"), "").await;
    assert_eq!(stored["metadata"]["labels"]["mutated"], "yes");
    let observed = server.reviews("/observe");
    assert_eq!(
        observed.len(),
        2,
        "reinvoked once after the label was added"
    );
    assert_eq!(
        observed[1]
            .pointer("/request/object/metadata/labels/mutated")
            .cloned(),
        Some(json!("yes"))
    );
    assert_eq!(server.reviews("/label").len(), 1);
}

#[tokio::test]
async fn rules_namespace_selector_and_object_selector_pick_the_requests() {
    let t = TestKernel::start().await;
    let server = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    let ca = server.ca_bundle();
    configure(
        &t,
        VWC,
        "selective",
        vec![
            hook(
                "prod-only.example.com",
                &server.url("/prod"),
                Some(&ca),
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
            ),
            hook(
                "labelled-only.example.com",
                &server.url("/labelled"),
                Some(&ca),
                json!({"objectSelector": {"matchExpressions": [{"key": "watch", "operator": "Exists"}]}}),
            ),
            hook(
                "cluster-scope.example.com",
                &server.url("/cluster"),
                Some(&ca),
                json!({"rules": [{"operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "scope": "Cluster"}]}),
            ),
        ],
    )
    .await;
    for (ns, env) in [("prod", "prod"), ("dev", "dev")] {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"env": env}}});
        let (s, _) = t
            .json("POST", "/api/v1/namespaces", &body.to_string())
            .await;
        assert_eq!(s, 201);
    }
    for ns in ["prod", "dev"] {
        let (s, _) = t
            .json(
                "POST",
                &format!("/api/v1/namespaces/{ns}/configmaps"),
                &cm("c", json!({})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let prod = server.reviews("/prod");
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0]["request"]["namespace"], "prod");

    let (s, _) = t.json("POST", CMS, &cm("w", json!({"watch": "1"}))).await;
    assert_eq!(s, 201);
    let labelled = server.reviews("/labelled");
    assert_eq!(labelled.len(), 1);
    assert_eq!(labelled[0]["request"]["name"], "w");

    // Secrets match no rule of the configmap webhooks.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let (s, _) = t
        .json(
            "POST",
            "/api/v1/namespaces/default/secrets",
            &secret.to_string(),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(server.reviews("/prod").len(), 1);
    assert_eq!(server.reviews("/labelled").len(), 1);

    // The Cluster-scope webhook saw the two namespaces (cluster-scoped) and
    // nothing namespaced.
    let cluster: Vec<String> = server
        .reviews("/cluster")
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["request"]["resource"]["resource"].as_str().unwrap_or(""),
                r["request"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(cluster, vec!["namespaces/prod", "namespaces/dev"]);
}

#[tokio::test]
async fn dry_run_needs_side_effect_free_webhooks() {
    let t = TestKernel::start().await;
    let server = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    let ca = server.ca_bundle();
    configure(
        &t,
        VWC,
        "side-effects",
        vec![hook(
            "effects.example.com",
            &server.url("/v"),
            Some(&ca),
            json!({"sideEffects": "Some"}),
        )],
    )
    .await;
    let (s, v) = t
        .json("POST", &format!("{CMS}?dryRun=All"), &cm("d", json!({})))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["message"],
        "admission webhook \"effects.example.com\" does not support dry run"
    );
    assert!(
        server.reviews("/v").is_empty(),
        "the webhook was not called"
    );

    let (s, _) = t.json("DELETE", &format!("{VWC}/side-effects"), "").await;
    assert_eq!(s, 200);
    configure(
        &t,
        VWC,
        "dry-run-safe",
        vec![hook(
            "safe.example.com",
            &server.url("/safe"),
            Some(&ca),
            json!({"sideEffects": "NoneOnDryRun"}),
        )],
    )
    .await;
    let (s, v) = t
        .json("POST", &format!("{CMS}?dryRun=All"), &cm("d", json!({})))
        .await;
    assert_eq!(s, 201, "{v}");
    let seen = server.reviews("/safe");
    assert_eq!(seen[0]["request"]["dryRun"], true);
    assert_eq!(seen[0]["request"]["options"]["dryRun"], json!(["All"]));
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test]
async fn failure_policy_fail_refuses_and_ignore_lets_through() {
    let t = TestKernel::start().await;
    let port = closed_port().await;
    let server = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    let url = format!("https://127.0.0.1:{port}/down");
    configure(
        &t,
        VWC,
        "down",
        vec![hook(
            "down.example.com",
            &url,
            Some(&server.ca_bundle()),
            json!({"failurePolicy": "Fail"}),
        )],
    )
    .await;
    let (s, v) = t.json("POST", CMS, &cm("f", json!({}))).await;
    assert_eq!(s, 500, "{v}");
    let msg = v["message"].as_str().unwrap_or("");
    let prefix = format!(
        "Internal error occurred: failed calling webhook \"down.example.com\": failed to call webhook: Post \"https://127.0.0.1:{port}/down?timeout=10s\": dial tcp 127.0.0.1:{port}: "
    );
    assert!(msg.starts_with(&prefix), "{msg}");
    assert_eq!(v["reason"], "InternalError");

    // The configurations themselves are exempt, so a broken webhook can be fixed.
    let patch = json!({"webhooks": [hook("down.example.com", &url, Some(&server.ca_bundle()), json!({"failurePolicy": "Ignore"}))]});
    let (s, _, v) = t
        .call(
            "PATCH",
            &format!("{VWC}/down"),
            Some("application/merge-patch+json"),
            &patch.to_string(),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&v));
    let (s, v) = t.json("POST", CMS, &cm("f", json!({}))).await;
    assert_eq!(s, 201, "failurePolicy Ignore lets the request through: {v}");
}

#[tokio::test]
async fn certificates_are_verified_against_the_ca_bundle() {
    let t = TestKernel::start().await;
    let server = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    let other = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    configure(
        &t,
        VWC,
        "wrong-ca",
        vec![hook(
            "wrong-ca.example.com",
            &server.url("/v"),
            Some(&other.ca_bundle()),
            json!({}),
        )],
    )
    .await;
    let (s, v) = t.json("POST", CMS, &cm("c", json!({}))).await;
    assert_eq!(s, 500, "{v}");
    assert!(v["message"].as_str().unwrap_or("").contains("tls:"), "{v}");
    assert!(server.reviews("/v").is_empty());
    let (s, _) = t.json("DELETE", &format!("{VWC}/wrong-ca"), "").await;
    assert_eq!(s, 200);

    configure(
        &t,
        VWC,
        "no-ca",
        vec![hook(
            "no-ca.example.com",
            &server.url("/v"),
            None,
            json!({}),
        )],
    )
    .await;
    let (s, v) = t.json("POST", CMS, &cm("c", json!({}))).await;
    assert_eq!(s, 500, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("caBundle"),
        "fails closed without a CA bundle: {v}"
    );
}

#[tokio::test]
async fn a_stalling_webhook_times_out() {
    let t = TestKernel::start().await;
    let server = HookServer::start(&[], Arc::new(|_, _: &Value| json!({"allowed": true}))).await;
    // Accepts connections and never answers, not even the TLS handshake.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            open.push(s);
        }
    });
    configure(
        &t,
        VWC,
        "stall",
        vec![hook(
            "stall.example.com",
            &format!("https://127.0.0.1:{port}/v"),
            Some(&server.ca_bundle()),
            json!({}),
        )],
    )
    .await;
    // The default 10 s timeout elapses on the paused clock, not in real time.
    tokio::time::pause();
    let (s, v) = t.json("POST", CMS, &cm("slow", json!({}))).await;
    tokio::time::resume();
    assert_eq!(s, 500, "{v}");
    assert_eq!(
        v["message"],
        format!(
            "Internal error occurred: failed calling webhook \"stall.example.com\": failed to call webhook: Post \"https://127.0.0.1:{port}/v?timeout=10s\": context deadline exceeded"
        )
    );
    held.abort();
}

#[tokio::test]
async fn a_service_reference_resolves_through_endpoints() {
    let t = TestKernel::start().await;
    let server = HookServer::start(
        &["hook.webhooks.svc"],
        Arc::new(|_, review: &Value| add_label(review, "via", "service")),
    )
    .await;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "webhooks"}});
    assert_eq!(
        t.json("POST", "/api/v1/namespaces", &ns.to_string())
            .await
            .0,
        201
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hook"},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": server.addr.port()}]}});
    let (s, v) = t
        .json(
            "POST",
            "/api/v1/namespaces/webhooks/services",
            &svc.to_string(),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "hook"},
        "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": server.addr.port()}]}]});
    let (s, v) = t
        .json(
            "POST",
            "/api/v1/namespaces/webhooks/endpoints",
            &ep.to_string(),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let mut h = hook("svc.example.com", "", Some(&server.ca_bundle()), json!({}));
    h["clientConfig"] = json!({
        "service": {"namespace": "webhooks", "name": "hook", "path": "/mutate"},
        "caBundle": server.ca_bundle(),
    });
    configure(&t, MWC, "svc", vec![h]).await;
    let (s, v) = t.json("POST", CMS, &cm("s", json!({}))).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["metadata"]["labels"]["via"], "service");
    assert_eq!(server.reviews("/mutate").len(), 1);

    // Without endpoints the call fails, naming the service URL.
    let (s, _) = t
        .json("DELETE", "/api/v1/namespaces/webhooks/endpoints/hook", "")
        .await;
    assert_eq!(s, 200);
    let (s, v) = t.json("POST", CMS, &cm("s2", json!({}))).await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(
        v["message"],
        "Internal error occurred: failed calling webhook \"svc.example.com\": failed to call webhook: Post \"https://hook.webhooks.svc:443/mutate?timeout=10s\": no endpoints available for service \"hook\""
    );
}

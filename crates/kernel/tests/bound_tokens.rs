//! ServiceAccount tokens bound to a Pod or Secret (TokenRequest `boundObjectRef`):
//! the claim they carry, and that they stop authenticating once the object is
//! deleted or replaced.

mod common;

use base64::Engine;
use common::TestKernel;
use kernel::tokens::ISSUER;
use serde_json::{Value, json};

const NS: &str = "/api/v1/namespaces/default";

async fn default_sa(k: &TestKernel) {
    for _ in 0..100 {
        if k.json("GET", &format!("{NS}/serviceaccounts/default"), "")
            .await
            .0
            == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the default ServiceAccount never appeared");
}

async fn create(k: &TestKernel, plural: &str, obj: Value) -> Value {
    let (s, v) = k
        .json("POST", &format!("{NS}/{plural}"), &obj.to_string())
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

async fn token_request(k: &TestKernel, bound: Value) -> (u16, Value) {
    let req = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"boundObjectRef": bound}});
    k.json(
        "POST",
        &format!("{NS}/serviceaccounts/default/token"),
        &req.to_string(),
    )
    .await
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

fn authenticates(k: &TestKernel, token: &str) -> Option<apimachinery::UserInfo> {
    k.kernel
        .inner()
        .authenticate_token(token, &[ISSUER.to_string()])
}

#[tokio::test]
async fn a_pod_bound_token_dies_with_its_pod() {
    let k = TestKernel::start().await;
    default_sa(&k).await;
    let p = create(&k, "pods", pod("runner")).await;
    let uid = p["metadata"]["uid"].as_str().expect("uid").to_string();
    let (s, v) = token_request(
        &k,
        json!({"kind": "Pod", "apiVersion": "v1", "name": "runner"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["spec"]["boundObjectRef"]["uid"], json!(uid));
    let token = v["status"]["token"].as_str().expect("token").to_string();
    assert_eq!(
        payload(&token)["kubernetes.io"]["pod"],
        json!({"name": "runner", "uid": uid})
    );
    let user = authenticates(&k, &token).expect("valid while the pod lives");
    assert_eq!(user.name, "system:serviceaccount:default:default");
    assert_eq!(
        user.extra.get("authentication.kubernetes.io/pod-name"),
        Some(&vec!["runner".to_string()])
    );
    assert_eq!(
        user.extra.get("authentication.kubernetes.io/pod-uid"),
        Some(&vec![uid.clone()])
    );

    let (s, _) = k.json("DELETE", &format!("{NS}/pods/runner"), "").await;
    assert_eq!(s, 200);
    assert!(authenticates(&k, &token).is_none(), "the pod is gone");
    create(&k, "pods", pod("runner")).await;
    assert!(
        authenticates(&k, &token).is_none(),
        "a new pod with the same name does not revive the token"
    );

    // A reference with a stale uid is refused, as is a kind that cannot be bound.
    let (s, v) = token_request(
        &k,
        json!({"kind": "Pod", "apiVersion": "v1", "name": "runner", "uid": uid}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let (s, v) = token_request(
        &k,
        json!({"kind": "ConfigMap", "apiVersion": "v1", "name": "x"}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = token_request(
        &k,
        json!({"kind": "Pod", "apiVersion": "v1", "name": "nope"}),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_secret_bound_token_dies_with_its_secret() {
    let k = TestKernel::start().await;
    default_sa(&k).await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "anchor"}});
    let sec = create(&k, "secrets", secret).await;
    let (s, v) = token_request(
        &k,
        json!({"kind": "Secret", "apiVersion": "v1", "name": "anchor", "uid": sec["metadata"]["uid"]}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let token = v["status"]["token"].as_str().expect("token").to_string();
    assert_eq!(payload(&token)["kubernetes.io"]["secret"]["name"], "anchor");
    assert!(authenticates(&k, &token).is_some());
    let (s, _) = k.json("DELETE", &format!("{NS}/secrets/anchor"), "").await;
    assert_eq!(s, 200);
    assert!(authenticates(&k, &token).is_none());
}

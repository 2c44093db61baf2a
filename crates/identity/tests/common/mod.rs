//! Shared fixtures: an in-process kernel with the identity CRDs, users, and requests to the router.
#![allow(dead_code, clippy::unwrap_used)]

use apimachinery::UserInfo;
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use identity::clock::ManualClock;
use identity::{Identity, OAuthOptions, User, UserSpec};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use std::sync::Arc;
use tower::ServiceExt;

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub kernel: kernel::Kernel,
    pub client: kube::Client,
}

fn grb_crd() -> CustomResourceDefinition {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "globalrolebindings.iam.kubesphere.io"},
        "spec": {"group": "iam.kubesphere.io", "scope": "Cluster",
            "names": {"kind": "GlobalRoleBinding", "plural": "globalrolebindings", "singular": "globalrolebinding"},
            "versions": [{"name": "v1beta1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap()
}

pub async fn cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let kernel = kernel::Kernel::start(cfg).await.unwrap();
    let client = kubeclient::in_process(kernel.router(), UserInfo::system());
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut all = identity::crds();
    all.push(grb_crd());
    for crd in all {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let users: Api<User> = Api::all(client.clone());
    for _ in 0..200 {
        if users.list(&Default::default()).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Cluster {
        dir,
        kernel,
        client,
    }
}

pub async fn replica(c: &Cluster, clock: &ManualClock, opts: OAuthOptions) -> Identity {
    let id = Identity::with_clock(c.client.clone(), opts, Arc::new(clock.clone()))
        .await
        .unwrap();
    tokio::spawn(identity::run_controllers(id.clone()));
    id
}

pub async fn create_user(c: &Cluster, name: &str, hash: &str) -> User {
    let users: Api<User> = Api::all(c.client.clone());
    let u = User {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: UserSpec {
            email: format!("{name}@example.com"),
            password: Some(hash.into()),
            groups: vec!["team-a".into()],
            ..Default::default()
        },
        status: None,
    };
    users.create(&PostParams::default(), &u).await.unwrap()
}

pub async fn user(c: &Cluster, name: &str) -> User {
    Api::<User>::all(c.client.clone()).get(name).await.unwrap()
}

pub async fn call(router: &axum::Router, req: Request<Body>) -> (u16, serde_json::Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, v)
}

pub fn token_req(form: &str) -> Request<Body> {
    Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

pub async fn login(router: &axum::Router, user: &str, pw: &str) -> (u16, serde_json::Value) {
    call(
        router,
        token_req(&format!(
            "grant_type=password&username={user}&password={pw}&client_id=kubesphere&client_secret=kubesphere"
        )),
    )
    .await
}

pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Polls `f` until it is true, for changes that reach another replica through its watch.
pub async fn eventually<F: FnMut() -> bool>(mut f: F) -> bool {
    for _ in 0..250 {
        if f() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

//! Handler tests driven in-process with `tower::ServiceExt::oneshot`.

use crate::filter::FilterRegistry;
use crate::http::{ResourcesState, router};
use crate::store::{ResourceType, Store, WORKSPACE_LABEL};
use crate::visibility::{AllowAllForTests, Scope, Visibility};
use crate::watch::Readiness;
use apimachinery::UserInfo;
use axum::body::Body;
use axum::{Extension, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

fn kind(plural: &str, group: &str, namespaced: bool) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: "v1".into(),
        kind: plural.into(),
        plural: plural.into(),
        namespaced,
    }
}

struct OnlyNamespaceA;
impl Visibility for OnlyNamespaceA {
    fn namespaces(&self, _: &UserInfo, resource: &str, _: &str) -> Scope {
        if resource == "nodes" {
            Scope::None
        } else {
            Scope::Namespaces(["a".to_string()].into())
        }
    }
}

fn setup(visibility: Arc<dyn Visibility>, discovered: bool) -> (Arc<Store>, Router) {
    let store = Arc::new(Store::new());
    store.register(kind("pods", "", true));
    store.register(kind("namespaces", "", false));
    store.register(kind("nodes", "", false));
    store.register(kind("secrets", "", true));
    let pods: Vec<Value> = ["a", "b", "c"]
        .iter()
        .flat_map(|ns| {
            (0..3).map(move |i| {
                json!({"metadata": {"name": format!("web-{i}"), "namespace": ns,
                "creationTimestamp": format!("2024-01-0{}T00:00:00Z", i + 1),
                "labels": {"app": if i == 0 { "db" } else { "web" }}},
                "status": {"phase": "Running"}})
            })
        })
        .collect();
    store.replace("pods", &pods);
    store.replace(
        "namespaces",
        &[
            json!({"metadata": {"name": "a", "labels": {WORKSPACE_LABEL: "w1"}}}),
            json!({"metadata": {"name": "b", "labels": {WORKSPACE_LABEL: "w1"}}}),
            json!({"metadata": {"name": "c", "labels": {WORKSPACE_LABEL: "w2"}}}),
        ],
    );
    store.replace("nodes", &[json!({"metadata": {"name": "n1"}})]);
    let readiness = Arc::new(Readiness::default());
    if discovered {
        readiness.set_discovered();
    }
    let state = Arc::new(ResourcesState {
        store: store.clone(),
        readiness,
        visibility,
        filters: Arc::new(FilterRegistry::new()),
        client: None,
    });
    let app = router(state).layer(Extension(UserInfo::new("alice", vec![])));
    (store, app)
}

async fn call(app: &Router, uri: &str) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

const API: &str = "/kapis/resources.kubesphere.io/v1alpha3";

#[tokio::test]
async fn lists_with_kubesphere_parameters() {
    let (_, app) = setup(Arc::new(AllowAllForTests), true);
    let (code, body) = call(&app, &format!("{API}/pods?limit=2&sortBy=createTime")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["totalItems"], 9);
    assert_eq!(names(&body), ["c/web-2", "b/web-2"]);
    let (_, body) = call(
        &app,
        &format!("{API}/namespaces/b/pods?labelSelector=app%3Dweb&ascending=true"),
    )
    .await;
    assert_eq!(names(&body), ["b/web-1", "b/web-2"]);
    let (_, body) = call(&app, &format!("{API}/workspaces/w1/pods?name=web-0")).await;
    assert_eq!(names(&body), ["b/web-0", "a/web-0"]);
    let (_, body) = call(
        &app,
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/w2/namespaces/c/pods?sortBy=name&limit=1",
    )
    .await;
    assert_eq!(
        (body["totalItems"].clone(), names(&body)),
        (json!(3), vec!["c/web-2".to_string()])
    );
    let (_, body) = call(
        &app,
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/w2/namespaces/a/pods",
    )
    .await;
    assert_eq!(
        body["totalItems"], 0,
        "a namespace outside the workspace shows nothing"
    );
    let (code, body) = call(&app, &format!("{API}/namespaces/b/pods/web-1")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["metadata"]["name"], "web-1");
    let (code, body) = call(&app, &format!("{API}/namespaces/a")).await;
    assert_eq!(
        (code, body["metadata"]["name"].clone()),
        (StatusCode::OK, json!("a"))
    );
}

#[tokio::test]
async fn errors_are_statuses() {
    let (_, app) = setup(Arc::new(AllowAllForTests), true);
    let (code, body) = call(&app, &format!("{API}/widgets")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        (body["kind"].clone(), body["code"].clone()),
        (json!("Status"), json!(404))
    );
    let (code, body) = call(&app, &format!("{API}/pods?labelSelector=a%20in%20(")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["reason"], "BadRequest");
    assert!(body["message"].as_str().unwrap().contains("labelSelector"));
    let (code, _) = call(&app, &format!("{API}/pods?sortBy=color")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = call(&app, &format!("{API}/namespaces/a/pods/missing")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = call(&app, &format!("{API}/namespaces/a/nodes")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, body) = call(&app, &format!("{API}/secrets")).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("secrets"));
}

#[tokio::test]
async fn unavailable_until_discovered() {
    let (_, app) = setup(Arc::new(AllowAllForTests), false);
    let (code, body) = call(&app, &format!("{API}/pods")).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], 503);
}

#[tokio::test]
async fn visibility_narrows_lists_and_gets() {
    let (store, app) = setup(Arc::new(OnlyNamespaceA), true);
    let (_, body) = call(&app, &format!("{API}/pods")).await;
    assert_eq!(body["totalItems"], 3);
    assert!(names(&body).iter().all(|n| n.starts_with("a/")));
    let (_, body) = call(&app, &format!("{API}/namespaces/b/pods")).await;
    assert_eq!(body["totalItems"], 0);
    let (_, body) = call(&app, &format!("{API}/workspaces/w1/pods")).await;
    assert_eq!(body["totalItems"], 3);
    let (_, body) = call(&app, &format!("{API}/nodes")).await;
    assert_eq!(body, json!({"items": [], "totalItems": 0}));
    let (code, _) = call(&app, &format!("{API}/namespaces/b/pods/web-1")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    store.apply(
        "pods",
        &json!({"metadata": {"name": "late", "namespace": "a", "creationTimestamp": "2025-01-01T00:00:00Z"}}),
    );
    let (_, body) = call(&app, &format!("{API}/pods?limit=1")).await;
    assert_eq!(names(&body), ["a/late"]);
}

#[tokio::test]
async fn abnormal_workloads_count_what_is_not_running() {
    let (store, app) = setup(Arc::new(OnlyNamespaceA), true);
    store.register(kind("deployments", "apps", true));
    store.register(kind("jobs", "batch", true));
    let deploy = |ns: &str, name: &str, ready: i64| {
        json!({"metadata": {"name": name, "namespace": ns},
            "status": {"replicas": 2, "readyReplicas": ready}})
    };
    store.replace(
        "deployments",
        &[
            deploy("a", "ok", 2),
            deploy("a", "rolling", 1),
            deploy("b", "hidden", 0),
        ],
    );
    store.replace(
        "jobs",
        &[json!({"metadata": {"name": "j", "namespace": "a"},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]}})],
    );
    let (code, body) = call(
        &app,
        "/kapis/resources.kubesphere.io/v1alpha2/abnormalworkloads",
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body,
        json!({"namespace": "", "data": {"deployments": 1, "statefulsets": 0, "daemonsets": 0,
            "jobs": 1, "persistentvolumeclaims": 0}})
    );
    let (_, body) = call(
        &app,
        "/kapis/resources.kubesphere.io/v1alpha2/namespaces/b/abnormalworkloads",
    )
    .await;
    assert_eq!(body["data"]["deployments"], 0, "namespace b is not visible");
    assert_eq!(body["namespace"], "b");
    let (code, _) = call(
        &app,
        "/kapis/resources.kubesphere.io/v1alpha2/namespaces/a/statefulsets/s/revisions/x",
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cluster_scoped_kinds_belong_to_workspaces_by_label() {
    let (store, app) = setup(Arc::new(AllowAllForTests), true);
    store.register(kind("workspaceroles", "iam.kubesphere.io", false));
    store.replace(
        "workspaceroles",
        &[
            json!({"metadata": {"name": "w1-admin", "labels": {WORKSPACE_LABEL: "w1", "x": "y"}}}),
            json!({"metadata": {"name": "w2-admin", "labels": {WORKSPACE_LABEL: "w2"}}}),
        ],
    );
    let (_, body) = call(&app, &format!("{API}/workspaces/w1/workspaceroles")).await;
    assert_eq!(names(&body), ["/w1-admin"]);
    let (_, body) = call(
        &app,
        &format!("{API}/workspaces/w1/workspaceroles?labelSelector=x%3Dz"),
    )
    .await;
    assert_eq!(body["totalItems"], 0);
}

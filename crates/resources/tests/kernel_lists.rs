//! The caches fed by real watches, listed through the router: against an in-process
//! kernel here; `exercise` takes any admin `kube::Client`, so the same scenario can run
//! against `sphere kernel` or a real cluster.

#![allow(clippy::unwrap_used)]

use apimachinery::UserInfo;
use axum::body::Body;
use axum::{Extension, Router};
use http::Request;
use http_body_util::BodyExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use resources::watch::{self, Readiness};
use resources::{AllowAllForTests, FilterRegistry, ResourcesState, Store, router};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const API: &str = "/kapis/resources.kubesphere.io/v1alpha3";

async fn get(app: &Router, uri: &str) -> (u16, Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let code = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Polls a list until `done` holds: the caches follow the server asynchronously.
async fn eventually(app: &Router, uri: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    for _ in 0..200 {
        let (code, body) = get(app, uri).await;
        if done(code, &body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, body) = get(app, uri).await;
    panic!("{uri} never reached the expected state: {code} {body}");
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn create(
    client: &kube::Client,
    api_version: &str,
    plural: &str,
    ns: Option<&str>,
    body: Value,
) {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, body["kind"].as_str().unwrap());
    let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let object: DynamicObject = serde_json::from_value(body).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

/// Creates projects, config maps and a custom resource, and checks what the API lists.
pub async fn exercise(client: kube::Client) {
    let store = Arc::new(Store::new());
    let readiness = Arc::new(Readiness::default());
    let caches = tokio::spawn(watch::run(client.clone(), store.clone(), readiness.clone()));
    let state = Arc::new(ResourcesState {
        store,
        readiness,
        visibility: Arc::new(AllowAllForTests),
        filters: Arc::new(FilterRegistry::new()),
        client: Some(client.clone()),
    });
    let app = router(state.clone()).layer(Extension(UserInfo::new(
        "rs-admin",
        vec!["system:masters".to_string()],
    )));
    let stranger = router(state).layer(Extension(UserInfo::new("rs-stranger", vec![])));

    for (ns, ws) in [("rs-p1", "rs-w1"), ("rs-p2", "rs-w1"), ("rs-p3", "rs-w2")] {
        let body = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubesphere.io/workspace": ws}}});
        create(&client, "v1", "namespaces", None, body).await;
    }
    for (ns, name) in [
        ("rs-p1", "app-a"),
        ("rs-p1", "app-b"),
        ("rs-p2", "app-c"),
        ("rs-p3", "app-d"),
    ] {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": {"tier": "web"},
                "annotations": {"kubesphere.io/alias-name": format!("Alias {name}")}},
            "data": {"password": "hunter2"}});
        create(&client, "v1", "configmaps", Some(ns), body).await;
    }

    let body = eventually(
        &app,
        &format!("{API}/configmaps?labelSelector=tier%3Dweb&sortBy=name&ascending=true"),
        |c, b| c == 200 && b["totalItems"] == 4,
    )
    .await;
    assert_eq!(names(&body), ["app-a", "app-b", "app-c", "app-d"]);
    assert_eq!(
        body["items"][0]["data"],
        json!({"password": ""}),
        "data values stay out of lists"
    );

    let body = eventually(
        &app,
        &format!("{API}/workspaces/rs-w1/configmaps?name=Alias&limit=2"),
        |c, b| c == 200 && b["totalItems"] == 3,
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);

    let (code, one) = get(&app, &format!("{API}/namespaces/rs-p1/configmaps/app-a")).await;
    assert_eq!(code, 200);
    assert_eq!(
        one["data"]["password"], "hunter2",
        "a single GET is the full object, read as the caller"
    );
    let (code, denied) = get(
        &stranger,
        &format!("{API}/namespaces/rs-p1/configmaps/app-a"),
    )
    .await;
    assert_eq!(
        (code, denied["reason"].clone()),
        (403, json!("Forbidden")),
        "RBAC decides single GETs"
    );

    // Revisions: the ReplicaSet or ControllerRevision selected by the template labels.
    let template = json!({"metadata": {"labels": {"app": "rev"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    create(
        &client,
        "apps/v1",
        "deployments",
        Some("rs-p1"),
        json!({"apiVersion": "apps/v1",
        "kind": "Deployment", "metadata": {"name": "rev", "namespace": "rs-p1"},
        "spec": {"selector": {"matchLabels": {"app": "rev"}}, "template": template}}),
    )
    .await;
    create(
        &client,
        "apps/v1",
        "replicasets",
        Some("rs-p1"),
        json!({"apiVersion": "apps/v1",
        "kind": "ReplicaSet", "metadata": {"name": "rev-1", "namespace": "rs-p1",
            "labels": {"app": "rev"}, "annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {"selector": {"matchLabels": {"app": "rev"}}, "template": template}}),
    )
    .await;
    create(&client, "apps/v1", "statefulsets", Some("rs-p1"), json!({"apiVersion": "apps/v1",
        "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "rs-p1"},
        "spec": {"selector": {"matchLabels": {"app": "rev"}}, "serviceName": "db", "template": template}})).await;
    create(
        &client,
        "apps/v1",
        "controllerrevisions",
        Some("rs-p1"),
        json!({"apiVersion": "apps/v1",
        "kind": "ControllerRevision", "metadata": {"name": "db-5", "namespace": "rs-p1",
            "labels": {"app": "rev"}}, "revision": 5, "data": {}}),
    )
    .await;
    let v2 = "/kapis/resources.kubesphere.io/v1alpha2/namespaces/rs-p1";
    let (code, rs) = get(&app, &format!("{v2}/deployments/rev/revisions/3")).await;
    assert_eq!(
        (code, rs["metadata"]["name"].clone()),
        (200, json!("rev-1")),
        "{rs}"
    );
    let (code, _) = get(&app, &format!("{v2}/deployments/rev/revisions/4")).await;
    assert_eq!(code, 404);
    let (code, cr) = get(&app, &format!("{v2}/statefulsets/db/revisions/5")).await;
    assert_eq!(
        (code, cr["metadata"]["name"].clone()),
        (200, json!("db-5")),
        "{cr}"
    );
    let (code, _) = get(&stranger, &format!("{v2}/statefulsets/db/revisions/5")).await;
    assert_eq!(code, 403);

    // Moving a project to another workspace moves its objects in workspace lists.
    let ns_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("", "v1", "Namespace"),
            "namespaces",
        ),
    );
    ns_api
        .patch(
            "rs-p3",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"kubesphere.io/workspace": "rs-w1"}}})),
        )
        .await
        .unwrap();
    eventually(
        &app,
        &format!("{API}/workspaces/rs-w1/configmaps?labelSelector=tier%3Dweb"),
        |c, b| c == 200 && b["totalItems"] == 4,
    )
    .await;

    // A CRD created after start is cached generically.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.rs.example.com"},
        "spec": {"group": "rs.example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    create(
        &client,
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        None,
        crd,
    )
    .await;
    eventually(&app, &format!("{API}/gadgets"), |c, _| c == 200).await;
    let mut created = false;
    for _ in 0..100 {
        let gadget = json!({"apiVersion": "rs.example.com/v1", "kind": "Gadget",
            "metadata": {"name": "g1", "namespace": "rs-p2"}, "spec": {"size": 3}});
        let (group, version) = ("rs.example.com", "v1");
        let ar = kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(group, version, "Gadget"),
            "gadgets",
        );
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "rs-p2", &ar);
        if api
            .create(
                &PostParams::default(),
                &serde_json::from_value(gadget).unwrap(),
            )
            .await
            .is_ok()
        {
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(created, "the custom resource could not be created");
    let body = eventually(&app, &format!("{API}/namespaces/rs-p2/gadgets"), |c, b| {
        c == 200 && b["totalItems"] == 1
    })
    .await;
    assert_eq!(names(&body), ["g1"]);

    // Deleting the CRD removes the resource type.
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
            ),
            "customresourcedefinitions",
        ),
    );
    crds.delete("gadgets.rs.example.com", &Default::default())
        .await
        .unwrap();
    eventually(&app, &format!("{API}/gadgets"), |c, _| c == 404).await;
    caches.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_objects_of_an_in_process_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = kernel::Kernel::start(kernel::KernelConfig::new(dir.path()))
        .await
        .unwrap();
    let client = kubeclient::in_process(kernel.router(), UserInfo::system());
    exercise(client).await;
}

//! The authorization matrix and escalation attempts, in-process: scope authorizer + router + kernel + controllers.
#![allow(clippy::unwrap_used)]

mod support;

use apimachinery::UserInfo;
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tenancy::matrix::{self, Transport};
use tower::ServiceExt;

struct InProcess {
    app: axum::Router,
}

impl Transport for InProcess {
    fn send<'a>(
        &'a self,
        user: &'a str,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> BoxFuture<'a, (u16, Value)> {
        Box::pin(async move {
            let mut req = http::Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json");
            if method == "PATCH" {
                req = req.header("content-type", "application/merge-patch+json");
            }
            let bytes = body
                .map(|b| serde_json::to_vec(&b).unwrap())
                .unwrap_or_default();
            let mut req = req.body(axum::body::Body::from(bytes)).unwrap();
            req.extensions_mut()
                .insert(UserInfo::new(user, vec!["system:authenticated".into()]));
            let resp = self.app.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }
}

fn app(env: &support::Env) -> axum::Router {
    let authz = env.authz.clone();
    tenancy::router(tenancy::State::new(env.admin.clone(), env.authz.clone()))
        .fallback_service(env.kernel.router())
        .layer(axum::middleware::from_fn(move |req, next| {
            tenancy::api::authorize(authz.clone(), req, next)
        }))
}

async fn fixture() -> (support::Env, InProcess) {
    let env = support::start().await;
    let t = InProcess { app: app(&env) };
    for (method, path, body) in matrix::setup() {
        // Controllers derive workspaces and their roles asynchronously: retry each step.
        let t = &t;
        let (path, body) = (&path, &body);
        support::eventually(&format!("setup {method} {path}"), || async move {
            let (status, _) = t.send("admin", method, path, Some(body.clone())).await;
            (200..300).contains(&status).then_some(())
        })
        .await;
    }
    // Everything the matrix relies on has reached the index and Kubernetes RBAC.
    for (who, path) in [
        ("projview", "/api/v1/namespaces/pa/configmaps"),
        ("wsviewer", "/api/v1/namespaces/pa/pods"),
        ("wsadmin", "/api/v1/namespaces/pa/pods"),
        ("badmin", "/api/v1/namespaces/pb/pods"),
        ("padmin", "/api/v1/nodes"),
    ] {
        let t = &t;
        support::eventually(&format!("{who} reads {path}"), || async move {
            (t.send(who, "GET", path, None).await.0 == 200).then_some(())
        })
        .await;
    }
    (env, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let (env, t) = fixture().await;
    let failures = matrix::run(&t, &matrix::cases()).await;
    for f in &failures {
        eprintln!(
            "{:<10} {:<6} {:<70} expected {} got {} {}",
            f.subject,
            f.method,
            f.path,
            if f.expected_allowed { "allow" } else { "deny" },
            f.status,
            f.message
        );
    }
    assert!(
        failures.is_empty(),
        "{} matrix cells differ",
        failures.len()
    );
    env.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_attempts_are_refused() {
    let (env, t) = fixture().await;
    let iam = "/kapis/iam.kubesphere.io/v1beta1";
    // A user manager (KubeSphere #2989) cannot make themself or anyone platform-admin.
    let (s, r) = t
        .send("admin", "POST", &format!("{iam}/globalroles"), Some(json!({
            "metadata": {"name": "users-manager"},
            "aggregationRoleTemplates": {"templateNames": ["global-view-users", "global-manage-users"]},
        })))
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = t.send("admin", "POST", &format!("{iam}/users"), Some(json!({
        "metadata": {"name": "usermgr", "annotations": {"iam.kubesphere.io/globalrole": "users-manager"}},
        "spec": {"email": "m@example.com", "password": "Passw0rd!x"},
    }))).await;
    assert_eq!(s, 200, "{r}");
    support::eventually("usermgr may list users", || async {
        (t.send("usermgr", "GET", &format!("{iam}/users"), None)
            .await
            .0
            == 200)
            .then_some(())
    })
    .await;
    let (s, r) = t.send("usermgr", "PUT", &format!("{iam}/users/usermgr"), Some(json!({
        "metadata": {"name": "usermgr", "annotations": {"iam.kubesphere.io/globalrole": "platform-admin"}},
        "spec": {"email": "m@example.com"},
    }))).await;
    assert_eq!(s, 403, "self promotion: {r}");
    assert!(r["message"].as_str().unwrap().contains("own roles"), "{r}");
    let (s, r) = t.send("usermgr", "POST", &format!("{iam}/users"), Some(json!({
        "metadata": {"name": "sock", "annotations": {"iam.kubesphere.io/globalrole": "platform-admin"}},
        "spec": {"email": "s@example.com", "password": "Passw0rd!x"},
    }))).await;
    assert_eq!(s, 403, "granting platform-admin: {r}");
    assert!(
        r["message"].as_str().unwrap().contains("cannot grant"),
        "{r}"
    );
    let (s, _) = t
        .send("admin", "GET", &format!("{iam}/users/sock"), None)
        .await;
    assert_eq!(s, 404, "a refused grant leaves no user behind");
    let (s, r) = t.send("usermgr", "POST", &format!("{iam}/users"), Some(json!({
        "metadata": {"name": "plain", "annotations": {"iam.kubesphere.io/globalrole": "platform-regular"}},
        "spec": {"email": "p@example.com", "password": "Passw0rd!x"},
    }))).await;
    assert_eq!(s, 200, "granting a role one covers is fine: {r}");
    assert!(
        r["spec"].get("password").is_none(),
        "password never returned: {r}"
    );
    let (s, r) = t.send("usermgr", "POST", &format!("{iam}/users"), Some(json!({
        "metadata": {"name": "weak"}, "spec": {"email": "w@example.com", "password": "short"},
    }))).await;
    assert_eq!(s, 400, "password policy: {r}");

    // A workspace admin cannot bind themself, nor grant in another workspace.
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &format!("{iam}/workspaces/ws-a/workspacemembers"),
            Some(json!([{"username": "wsadmin", "roleRef": "ws-a-viewer"}])),
        )
        .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &format!("{iam}/workspaces/ws-a/workspacemembers"),
            Some(json!([{"username": "target", "roleRef": "ws-b-admin"}])),
        )
        .await;
    assert_eq!(s, 400, "another workspace's role: {r}");

    // A role manager cannot create a role with more rights than they hold.
    let (s, r) = t.send("admin", "POST", &format!("{iam}/workspaces/ws-a/workspaceroles"), Some(json!({
        "metadata": {"name": "ws-a-rolemgr"},
        "aggregationRoleTemplates": {"templateNames": ["workspace-manage-roles", "workspace-view-settings"]},
    }))).await;
    assert_eq!(s, 200, "{r}");
    // The new role reaches the authorizer's index through a watch.
    support::eventually("target bound to the new role", || async {
        let (s, _) = t
            .send(
                "admin",
                "POST",
                &format!("{iam}/workspaces/ws-a/workspacemembers"),
                Some(json!([{"username": "target", "roleRef": "ws-a-rolemgr"}])),
            )
            .await;
        (s == 200).then_some(())
    })
    .await;
    support::eventually("target may list workspace roles", || async {
        (t.send(
            "target",
            "GET",
            &format!("{iam}/workspaces/ws-a/workspaceroles"),
            None,
        )
        .await
        .0 == 200)
            .then_some(())
    })
    .await;
    let (s, r) = t
        .send(
            "target",
            "POST",
            &format!("{iam}/workspaces/ws-a/workspaceroles"),
            Some(json!({
                "metadata": {"name": "ws-a-more"},
                "aggregationRoleTemplates": {"templateNames": ["workspace-manage-members"]},
            })),
        )
        .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = t
        .send(
            "target",
            "POST",
            &format!("{iam}/workspaces/ws-a/workspaceroles"),
            Some(json!({
                "metadata": {"name": "ws-a-less"},
                "aggregationRoleTemplates": {"templateNames": ["workspace-view-settings"]},
            })),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(
        r["rules"].as_array().is_some_and(|a| !a.is_empty()),
        "aggregated rules written: {r}"
    );
    // Editing one's own binding through the raw bindings API is refused too.
    let (s, r) = t.send("target", "POST", &format!("{iam}/workspaces/ws-a/workspacerolebindings"), Some(json!({
        "metadata": {"name": "target-self"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "target"}],
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "WorkspaceRole", "name": "ws-a-admin"},
    }))).await;
    assert_eq!(s, 403, "{r}");

    // Role templates reflect the scope.
    let (s, r) = t
        .send(
            "wsviewer",
            "GET",
            &format!("{iam}/users/wsviewer/roletemplates?scope=workspace&workspace=ws-a"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"workspace-view-members") && !names.contains(&"workspace-manage-members"),
        "{names:?}"
    );
    let (_, r) = t
        .send(
            "padmin",
            "GET",
            &format!("{iam}/users/padmin/roletemplates?scope=global"),
            None,
        )
        .await;
    assert_eq!(r["totalItems"], 9, "{r}");
    env.cancel.cancel();
}

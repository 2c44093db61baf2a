//! Merge-patching roles and role bindings: the patched result passes the same escalation checks as an update.
#![allow(clippy::unwrap_used)]

mod support;

use apimachinery::UserInfo;
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";

async fn send(
    app: &axum::Router,
    user: &str,
    method: &str,
    path: &str,
    ct: &str,
    body: Value,
) -> (u16, Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", ct)
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    req.extensions_mut()
        .insert(UserInfo::new(user, vec!["system:authenticated".into()]));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const MERGE: &str = "application/merge-patch+json";

async fn patch(app: &axum::Router, user: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, user, "PATCH", path, MERGE, body).await
}

async fn ok(app: &axum::Router, method: &str, path: &str, body: Value) -> Value {
    support::eventually(&format!("{method} {path}"), || {
        let body = body.clone();
        async move {
            let (s, r) = send(app, "admin", method, path, "application/json", body).await;
            (200..300).contains(&s).then_some(r)
        }
    })
    .await
}

fn everything() -> Value {
    json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_cannot_escalate() {
    let env = support::start().await;
    let authz = env.authz.clone();
    let app = tenancy::router(tenancy::State::new(env.admin.clone(), env.authz.clone())).layer(
        axum::middleware::from_fn(move |req, next| {
            tenancy::api::authorize(authz.clone(), req, next)
        }),
    );

    // A role manager: may manage global roles and bindings, nothing else.
    ok(&app, "POST", &format!("{IAM}/globalroles"), json!({
        "metadata": {"name": "roles-manager"},
        "aggregationRoleTemplates": {"templateNames": ["global-view-roles", "global-manage-roles"]},
    }))
    .await;
    for (name, role) in [("rolemgr", "roles-manager"), ("target", "platform-regular")] {
        ok(
            &app,
            "POST",
            &format!("{IAM}/users"),
            json!({
                "metadata": {"name": name, "annotations": {"iam.kubesphere.io/globalrole": role}},
                "spec": {"email": format!("{name}@example.com"), "password": "Passw0rd!x"},
            }),
        )
        .await;
    }
    let small = format!("{IAM}/globalroles/small");
    support::eventually("rolemgr creates a role it covers", || async {
        let (s, _) = send(&app, "rolemgr", "POST", &format!("{IAM}/globalroles"), "application/json", json!({
            "metadata": {"name": "small"},
            "rules": [{"apiGroups": ["iam.kubesphere.io"], "resources": ["globalroles"], "verbs": ["get", "list"]}],
        }))
        .await;
        (s == 200 || s == 409).then_some(())
    })
    .await;

    // Harmless patches go through and keep the rest of the object.
    let (s, r) = patch(
        &app,
        "rolemgr",
        &small,
        json!({"metadata": {"annotations": {"kubesphere.io/description": "read roles"}}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["metadata"]["annotations"]["kubesphere.io/description"],
        "read roles"
    );
    assert_eq!(r["rules"][0]["resources"], json!(["globalroles"]), "{r}");

    // Patching in rights one does not hold is refused, whichever field carries them.
    for body in [
        json!({"rules": everything()}),
        json!({"aggregationRoleTemplates": {"templateNames": ["global-manage-users"]}}),
    ] {
        let (s, r) = patch(&app, "rolemgr", &small, body.clone()).await;
        assert_eq!(s, 403, "{body}: {r}");
        assert!(
            r["message"].as_str().unwrap().contains("cannot grant"),
            "{r}"
        );
    }
    let (s, r) = patch(&app, "rolemgr", &format!("{IAM}/globalroles/roles-manager"),
        json!({"aggregationRoleTemplates": {"templateNames": ["global-view-roles", "global-manage-roles", "global-manage-users"]}})).await;
    assert_eq!(s, 403, "widening one's own role: {r}");
    let (_, r) = send(
        &app,
        "admin",
        "GET",
        &small,
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(
        r["rules"][0]["verbs"],
        json!(["get", "list"]),
        "unchanged: {r}"
    );

    // Bindings: re-pointing a binding at platform-admin, or at oneself, is refused.
    ok(&app, "POST", &format!("{IAM}/globalrolebindings"), json!({
        "metadata": {"name": "target-small"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "target"}],
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "small"},
    }))
    .await;
    let b = format!("{IAM}/globalrolebindings/target-small");
    let (s, r) = patch(
        &app,
        "rolemgr",
        &b,
        json!({"roleRef": {"name": "platform-admin"}}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = patch(&app, "rolemgr", &b, json!({"subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "rolemgr"}]})).await;
    assert_eq!(s, 403, "{r}");
    assert!(r["message"].as_str().unwrap().contains("own roles"), "{r}");
    let (s, r) = patch(
        &app,
        "rolemgr",
        &b,
        json!({"metadata": {"labels": {"team": "a"}}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["roleRef"]["name"], "small");

    // Only merge patches: a JSON patch is refused as unsupported, not misapplied.
    let (s, r) = send(
        &app,
        "rolemgr",
        "PATCH",
        &small,
        "application/json-patch+json",
        json!([{"op": "add", "path": "/rules/-", "value": everything()[0]}]),
    )
    .await;
    assert_eq!(s, 415, "{r}");

    // Workspace and project roles: the same rule at their level.
    ok(
        &app,
        "POST",
        &format!("{TENANT}/workspacetemplates"),
        json!({"metadata": {"name": "ws-a"}, "spec": {"template": {"spec": {}}}}),
    )
    .await;
    ok(
        &app,
        "POST",
        &format!("{TENANT}/workspaces/ws-a/namespaces"),
        json!({"metadata": {"name": "pa"}}),
    )
    .await;
    ok(
        &app,
        "POST",
        &format!("{IAM}/workspaces/ws-a/workspacemembers"),
        json!([{"username": "target", "roleRef": "ws-a-viewer"}]),
    )
    .await;
    ok(&app, "POST", &format!("{IAM}/workspaces/ws-a/workspaceroles"), json!({
        "metadata": {"name": "ws-a-rolemgr"},
        "aggregationRoleTemplates": {"templateNames": ["workspace-manage-roles", "workspace-view-settings"]},
    }))
    .await;
    ok(&app, "POST", &format!("{IAM}/users"), json!({
        "metadata": {"name": "wsrolemgr", "annotations": {"iam.kubesphere.io/globalrole": "platform-regular"}},
        "spec": {"email": "w@example.com", "password": "Passw0rd!x"},
    }))
    .await;
    ok(
        &app,
        "POST",
        &format!("{IAM}/workspaces/ws-a/workspacemembers"),
        json!([{"username": "wsrolemgr", "roleRef": "ws-a-rolemgr"}]),
    )
    .await;
    ok(
        &app,
        "POST",
        &format!("{IAM}/workspaces/ws-a/workspaceroles"),
        json!({
            "metadata": {"name": "ws-a-settings"},
            "aggregationRoleTemplates": {"templateNames": ["workspace-view-settings"]},
        }),
    )
    .await;
    let settings = format!("{IAM}/workspaces/ws-a/workspaceroles/ws-a-settings");
    support::eventually("wsrolemgr may patch a role it covers", || async {
        let (s, _) = patch(
            &app,
            "wsrolemgr",
            &settings,
            json!({"metadata": {"annotations": {"kubesphere.io/description": "v"}}}),
        )
        .await;
        (s == 200).then_some(())
    })
    .await;
    let (s, r) = patch(&app, "wsrolemgr", &settings,
        json!({"aggregationRoleTemplates": {"templateNames": ["workspace-view-settings", "workspace-manage-members"]}})).await;
    assert_eq!(s, 403, "{r}");
    // Even a harmless edit of a role that grants more than the editor holds is refused,
    // as Kubernetes RBAC refuses it.
    let (s, r) = patch(
        &app,
        "wsrolemgr",
        &format!("{IAM}/workspaces/ws-a/workspaceroles/ws-a-viewer"),
        json!({"metadata": {"annotations": {"kubesphere.io/description": "v"}}}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = patch(&app, "wsrolemgr", &format!("{IAM}/workspaces/ws-a/workspaceroles/ws-a-rolemgr"),
        json!({"aggregationRoleTemplates": {"templateNames": ["workspace-manage-roles", "workspace-view-settings", "workspace-manage-members"]}})).await;
    assert_eq!(s, 403, "widening one's own workspace role: {r}");
    let (s, r) = patch(
        &app,
        "target",
        &format!("{IAM}/namespaces/pa/roles/viewer"),
        json!({"rules": everything()}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = patch(
        &app,
        "admin",
        &format!("{IAM}/namespaces/pa/roles/viewer"),
        json!({"metadata": {"annotations": {"kubesphere.io/description": "read only"}}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert!(r["rules"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    env.cancel.cancel();
}

/// KubeSphere v3's console names a role's templates only in the
/// `iam.kubesphere.io/aggregation-roles` annotation; such a role grants them, and the
/// escalation check sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_named_in_the_annotation_are_aggregated_and_checked() {
    let env = support::start().await;
    let authz = env.authz.clone();
    let app = tenancy::router(tenancy::State::new(env.admin.clone(), env.authz.clone())).layer(
        axum::middleware::from_fn(move |req, next| {
            tenancy::api::authorize(authz.clone(), req, next)
        }),
    );
    let role = |name: &str, templates: &str| json!({"metadata": {"name": name, "annotations": {"iam.kubesphere.io/aggregation-roles": templates}}});
    let r = ok(
        &app,
        "POST",
        &format!("{IAM}/globalroles"),
        role("user-viewer", r#"["global-view-users"]"#),
    )
    .await;
    assert_eq!(
        r["aggregationRoleTemplates"]["templateNames"],
        json!(["global-view-users"]),
        "{r}"
    );
    let rules = r["rules"].as_array().cloned().unwrap_or_default();
    assert!(
        rules.iter().any(|rule| rule["resources"]
            .as_array()
            .is_some_and(|res| res.contains(&json!("users")))),
        "the annotated template's rules are granted: {r}"
    );

    let (s, r) = send(
        &app,
        "admin",
        "POST",
        &format!("{IAM}/globalroles"),
        "application/json",
        role("broken", "global-view-users"),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    assert!(r["message"].as_str().unwrap().contains("JSON array"), "{r}");

    // A user who may manage roles but not users cannot grant user management this way.
    ok(&app, "POST", &format!("{IAM}/globalroles"), json!({
        "metadata": {"name": "roles-manager"},
        "aggregationRoleTemplates": {"templateNames": ["global-view-roles", "global-manage-roles"]},
    }))
    .await;
    ok(
        &app,
        "POST",
        &format!("{IAM}/users"),
        json!({
            "metadata": {"name": "rolemgr", "annotations": {"iam.kubesphere.io/globalrole": "roles-manager"}},
            "spec": {"email": "rolemgr@example.com", "password": "Passw0rd!x"},
        }),
    )
    .await;
    support::eventually("the annotation cannot smuggle in more rights", || async {
        let (s, r) = send(
            &app,
            "rolemgr",
            "POST",
            &format!("{IAM}/globalroles"),
            "application/json",
            role("sneaky", r#"["global-manage-users"]"#),
        )
        .await;
        (s == 403).then_some(r)
    })
    .await;
}

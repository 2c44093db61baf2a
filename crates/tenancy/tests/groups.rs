//! Workspace groups in-process: CRUD, members, and a group's role bindings effective in the scope authorizer and in Kubernetes RBAC.
#![allow(clippy::unwrap_used)]

mod support;

use apimachinery::UserInfo;
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";

struct App(axum::Router);

impl App {
    async fn send(
        &self,
        user: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(Body::from(
                body.map(|b| serde_json::to_vec(&b).unwrap())
                    .unwrap_or_default(),
            ))
            .unwrap();
        req.extensions_mut()
            .insert(UserInfo::new(user, vec!["system:authenticated".into()]));
        let resp = self.0.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Retries a setup request until it answers 2xx (controllers settle asynchronously).
    async fn setup(&self, method: &str, path: &str, body: Value) -> Value {
        support::eventually(&format!("{method} {path}"), || {
            let body = body.clone();
            async move {
                let (s, r) = self.send("admin", method, path, Some(body)).await;
                (200..300).contains(&s).then_some(r)
            }
        })
        .await
    }
}

/// The platform's routes, authorized by the scope authorizer, with the kernel behind
/// them for /api; identities are completed with GroupBinding groups as the gateway does.
fn app(env: &support::Env) -> App {
    let authz = env.authz.clone();
    let groups = env.authz.clone();
    App(
        tenancy::router(tenancy::State::new(env.admin.clone(), env.authz.clone()))
            .fallback_service(env.kernel.router())
            .layer(axum::middleware::from_fn(move |req, next| {
                tenancy::api::authorize(authz.clone(), req, next)
            }))
            .layer(axum::middleware::from_fn(
                move |mut req: axum::extract::Request, next: axum::middleware::Next| {
                    let groups = groups.clone();
                    async move {
                        if let Some(u) = req.extensions().get::<UserInfo>().cloned() {
                            let mut u2 = u.clone();
                            u2.groups = groups.groups_of(&u);
                            req.extensions_mut().insert(u2);
                        }
                        next.run(req).await
                    }
                },
            )),
    )
}

fn user(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "annotations": {"iam.kubesphere.io/globalrole": "platform-regular"}},
        "spec": {"email": format!("{name}@example.com"), "password": "Passw0rd!x"},
    })
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_crud_members_and_role_bindings() {
    let env = support::start().await;
    let t = app(&env);
    for u in ["wsadmin", "alice", "bob"] {
        t.setup("POST", &format!("{IAM}/users"), user(u)).await;
    }
    for ws in ["ws-a", "ws-b"] {
        t.setup(
            "POST",
            &format!("{TENANT}/workspacetemplates"),
            json!({"metadata": {"name": ws}, "spec": {"template": {"spec": {}}}}),
        )
        .await;
    }
    t.setup(
        "POST",
        &format!("{TENANT}/workspaces/ws-a/namespaces"),
        json!({"metadata": {"name": "pa"}}),
    )
    .await;
    t.setup(
        "POST",
        &format!("{IAM}/workspaces/ws-a/workspacemembers"),
        json!([{"username": "wsadmin", "roleRef": "ws-a-admin"}]),
    )
    .await;
    support::eventually("wsadmin lists ws-a's groups", || async {
        (t.send(
            "wsadmin",
            "GET",
            &format!("{IAM}/workspaces/ws-a/groups"),
            None,
        )
        .await
        .0 == 200)
            .then_some(())
    })
    .await;

    // Create: generateName is the display name and unique in the workspace.
    let groups = format!("{IAM}/workspaces/ws-a/groups");
    let (s, g) = t
        .send(
            "wsadmin",
            "POST",
            &groups,
            Some(json!({"metadata": {"generateName": "devs"}})),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let gname = g["metadata"]["name"].as_str().unwrap().to_string();
    assert!(gname.starts_with("devs"), "{g}");
    assert_eq!(g["metadata"]["labels"]["kubesphere.io/workspace"], "ws-a");
    assert_eq!(
        g["metadata"]["ownerReferences"][0]["kind"], "Workspace",
        "{g}"
    );
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &groups,
            Some(json!({"metadata": {"generateName": "devs"}})),
        )
        .await;
    assert_eq!(s, 409, "a second group called devs: {r}");
    let (s, r) = t.send("wsadmin", "GET", &groups, None).await;
    assert_eq!((s, r["totalItems"].as_u64()), (200, Some(1)), "{r}");
    let (s, r) = t
        .send(
            "wsadmin",
            "PATCH",
            &format!("{groups}/{gname}"),
            Some(json!({"metadata": {"annotations": {"kubesphere.io/description": "the developers"}}})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["metadata"]["annotations"]["kubesphere.io/description"],
        "the developers"
    );
    assert_eq!(
        r["metadata"]["labels"]["kubesphere.io/workspace"], "ws-a",
        "{r}"
    );

    // The group's roles: viewer of the workspace, operator in its project (KubeSphere
    // posts these as lists; the subject is the group's name).
    let subject =
        json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": gname}]);
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &format!("{IAM}/workspaces/ws-a/workspacerolebindings"),
            Some(json!([{
                "metadata": {"name": format!("{gname}-ws-a-viewer")},
                "subjects": subject,
                "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "WorkspaceRole", "name": "ws-a-viewer"},
            }])),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r[0]["metadata"]["labels"]["iam.kubesphere.io/group-ref"],
        gname.as_str(),
        "{r}"
    );
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &format!("{IAM}/namespaces/pa/rolebindings"),
            Some(json!([{
                "metadata": {"name": format!("{gname}-operator")},
                "subjects": subject,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "operator"},
            }])),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    // Not a member yet: nothing.
    let ws_a = format!("{TENANT}/workspaces/ws-a");
    assert_eq!(t.send("alice", "GET", &ws_a, None).await.0, 403);
    let cms = "/api/v1/namespaces/pa/configmaps";
    assert_eq!(t.send("alice", "POST", cms, Some(cm("early"))).await.0, 403);

    // Members: wsadmin may add alice, not themself, and not to another workspace's group.
    let bindings = format!("{IAM}/workspaces/ws-a/groupbindings");
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &bindings,
            Some(json!([{"userName": "wsadmin", "groupName": gname}])),
        )
        .await;
    assert_eq!(s, 403, "adding oneself: {r}");
    let (s, gb) = t
        .send(
            "admin",
            "POST",
            &format!("{IAM}/workspaces/ws-b/groups"),
            Some(json!({"metadata": {"name": "ops"}})),
        )
        .await;
    assert_eq!(s, 200, "{gb}");
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &bindings,
            Some(json!([{"userName": "alice", "groupName": "ops"}])),
        )
        .await;
    assert_eq!(s, 404, "ws-b's group through ws-a: {r}");
    let (s, r) = t
        .send(
            "wsadmin",
            "GET",
            &format!("{IAM}/workspaces/ws-b/groups"),
            None,
        )
        .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = t
        .send(
            "wsadmin",
            "POST",
            &bindings,
            Some(json!([{"userName": "alice", "groupName": gname}])),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r[0]["users"], json!(["alice"]), "{r}");
    assert_eq!(r[0]["groupRef"]["name"], gname.as_str(), "{r}");
    assert_eq!(
        r[0]["metadata"]["ownerReferences"][0]["name"],
        gname.as_str(),
        "{r}"
    );
    let (_, r) = t
        .send(
            "wsadmin",
            "GET",
            &format!("{bindings}?labelSelector=iam.kubesphere.io/group-ref={gname}"),
            None,
        )
        .await;
    assert_eq!(r["totalItems"], 1, "{r}");

    // The group's bindings now count for alice: in the scope authorizer and, through the
    // impersonated group, in Kubernetes RBAC.
    support::eventually("alice reads ws-a through her group", || async {
        (t.send("alice", "GET", &ws_a, None).await.0 == 200).then_some(())
    })
    .await;
    support::eventually("alice writes in pa through her group", || async {
        (t.send("alice", "POST", cms, Some(cm("by-group"))).await.0 == 201).then_some(())
    })
    .await;
    assert_eq!(t.send("bob", "POST", cms, Some(cm("by-bob"))).await.0, 403);
    let kube_alice = kubeclient::as_user(
        &env.admin,
        &UserInfo::new(
            "alice",
            env.authz.groups_of(&UserInfo::new("alice", vec![])),
        ),
    );
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(kube_alice, "pa");
    assert!(
        api.get("by-group").await.is_ok(),
        "Kubernetes RBAC sees the group binding"
    );

    // Deleting the group removes its memberships and role bindings.
    let (s, r) = t
        .send("wsadmin", "DELETE", &format!("{groups}/{gname}"), None)
        .await;
    assert_eq!(s, 200, "{r}");
    let (_, r) = t.send("wsadmin", "GET", &bindings, None).await;
    assert_eq!(r["totalItems"], 0, "{r}");
    let (s, _) = t
        .send(
            "admin",
            "GET",
            &format!("{IAM}/namespaces/pa/rolebindings/{gname}-operator"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    support::eventually("alice loses the group's rights", || async {
        (t.send("alice", "POST", cms, Some(cm("late"))).await.0 == 403).then_some(())
    })
    .await;
    env.cancel.cancel();
}

//! RBAC through the kernel's HTTP API: bindings take effect at once, roles grant
//! exactly what they say, and nobody grants more than they hold.

mod common;
use apimachinery::UserInfo;
use common::TestKernel;
use serde_json::{Value, json};

fn user(name: &str) -> Option<UserInfo> {
    Some(UserInfo::new(name, vec!["system:authenticated".into()]))
}

async fn as_user(k: &TestKernel, who: &str, method: &str, uri: &str, body: &str) -> (u16, Value) {
    let (s, _, b) = k
        .call_as(user(who), method, uri, Some("application/json"), body, None)
        .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn binding(name: &str, ns: &str, role_kind: &str, role: &str, subject: &str) -> String {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": subject}],
    })
    .to_string()
}

#[tokio::test]
async fn view_binding_grants_reads_in_its_namespace_only() {
    let k = TestKernel::start().await;
    let (s, e) = as_user(
        &k,
        "alice",
        "GET",
        "/api/v1/namespaces/default/configmaps",
        "",
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        e["message"],
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let (s, b) = k
        .json(
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
            &binding("alice-view", "default", "ClusterRole", "view", "alice"),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // The binding applies to the very next request.
    let (s, _) = as_user(
        &k,
        "alice",
        "GET",
        "/api/v1/namespaces/default/configmaps",
        "",
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = as_user(
        &k,
        "alice",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps",
        "",
    )
    .await;
    assert_eq!(s, 403, "a RoleBinding grants in its namespace only");
    let (s, _) = as_user(&k, "alice", "GET", "/api/v1/namespaces/default/secrets", "").await;
    assert_eq!(s, 403, "view does not include secrets");
    let cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}).to_string();
    let (s, _) = as_user(
        &k,
        "alice",
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm,
    )
    .await;
    assert_eq!(s, 403, "view is read-only");
    let ssar = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "resource": "configmaps"}}})
    .to_string();
    let (s, r) = as_user(
        &k,
        "alice",
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        &ssar,
    )
    .await;
    assert_eq!((s, &r["status"]["allowed"]), (201, &json!(true)), "{r}");

    k.json(
        "DELETE",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/alice-view",
        "",
    )
    .await;
    let (s, _) = as_user(
        &k,
        "alice",
        "GET",
        "/api/v1/namespaces/default/configmaps",
        "",
    )
    .await;
    assert_eq!(s, 403, "removing the binding takes the access away at once");
}

#[tokio::test]
async fn nobody_grants_more_than_they_hold() {
    let k = TestKernel::start().await;
    // bob may manage roles and bindings in `default`, and read configmaps there.
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "binder", "namespace": "default"},
        "rules": [
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "list", "update"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}
        ]
    })
    .to_string();
    let (s, b) = k
        .json(
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
            &role,
        )
        .await;
    assert_eq!(s, 201, "{b}");
    k.json(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        &binding("bob-binder", "default", "Role", "binder", "bob"),
    )
    .await;

    // Binding himself to cluster-admin is an escalation.
    let (s, e) = as_user(
        &k,
        "bob",
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        &binding(
            "bob-admin",
            "default",
            "ClusterRole",
            "cluster-admin",
            "bob",
        ),
    )
    .await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["message"].as_str().unwrap_or("").contains("is forbidden"),
        "{e}"
    );
    // A role with rights he lacks (secrets) is refused; one within his rights is fine.
    let more = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "more", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})
    .to_string();
    let (s, _) = as_user(
        &k,
        "bob",
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        &more,
    )
    .await;
    assert_eq!(s, 403);
    let same = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    .to_string();
    let (s, b) = as_user(
        &k,
        "bob",
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        &same,
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = as_user(
        &k,
        "bob",
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/bob-admin",
        "",
    )
    .await;
    assert_eq!(s, 404, "the refused binding was not stored");
}

#[tokio::test]
async fn default_roles_exist_and_are_aggregated() {
    let k = TestKernel::start().await;
    for name in [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:discovery",
        "system:basic-user",
    ] {
        let (s, r) = k
            .json(
                "GET",
                &format!("/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"),
                "",
            )
            .await;
        assert_eq!(s, 200, "{name}");
        assert!(
            r["rules"].as_array().is_some_and(|a| !a.is_empty()),
            "{name} has rules"
        );
    }
    // Any authenticated user may read discovery, as on a real cluster.
    let (s, _) = as_user(&k, "carol", "GET", "/api/v1", "").await;
    assert_eq!(s, 200);
}

async fn call_with(
    k: &TestKernel,
    who: apimachinery::UserInfo,
    uri: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    use tower::ServiceExt;
    let mut b = http::Request::builder().method("GET").uri(uri);
    for (h, v) in headers {
        b = b.header(*h, *v);
    }
    let mut req = b.body(axum::body::Body::empty()).expect("request");
    req.extensions_mut().insert(who);
    let resp = k
        .kernel
        .router()
        .oneshot(req)
        .await
        .expect("router answers");
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn impersonation_needs_the_impersonate_verb() {
    let k = TestKernel::start().await;
    let whoami = "/api/v1/namespaces/default/configmaps";
    // The admin acting as alice gets alice's (empty) rights.
    let (s, e) = call_with(
        &k,
        common::admin(),
        whoami,
        &[("Impersonate-User", "alice")],
    )
    .await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("User \"alice\""),
        "{e}"
    );
    k.json(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        &binding("alice-view", "default", "ClusterRole", "view", "alice"),
    )
    .await;
    let (s, _) = call_with(
        &k,
        common::admin(),
        whoami,
        &[("Impersonate-User", "alice")],
    )
    .await;
    assert_eq!(s, 200);
    // alice may not impersonate anyone.
    let alice = apimachinery::UserInfo::new("alice", vec!["system:authenticated".into()]);
    let (s, e) = call_with(
        &k,
        alice,
        whoami,
        &[
            ("Impersonate-User", "bob"),
            ("Impersonate-Group", "system:masters"),
        ],
    )
    .await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot impersonate"),
        "{e}"
    );
    // Acting as a member of system:masters needs impersonate on that group, which the admin has.
    let (s, _) = call_with(
        &k,
        common::admin(),
        "/api/v1/namespaces/kube-system/secrets",
        &[
            ("Impersonate-User", "carol"),
            ("Impersonate-Group", "system:masters"),
        ],
    )
    .await;
    assert_eq!(s, 200);
}

async fn bearer(k: &TestKernel, token: &str, uri: &str) -> u16 {
    use tower::ServiceExt;
    let req = http::Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    k.kernel
        .router()
        .oneshot(req)
        .await
        .expect("router answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn service_account_tokens_authenticate_while_the_account_exists() {
    let k = TestKernel::start().await;
    let (s, _) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/serviceaccounts",
            r#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"}}"#,
        )
        .await;
    assert_eq!(s, 201);
    let (s, tr) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/serviceaccounts/robot/token",
            r#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}"#,
        )
        .await;
    assert_eq!(s, 201, "{tr}");
    let token = tr["status"]["token"].as_str().expect("token").to_string();
    assert!(tr["status"]["expirationTimestamp"].as_str().is_some());
    let (s, _) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/serviceaccounts/robot/token",
            r#"{"spec":{"expirationSeconds":60}}"#,
        )
        .await;
    assert_eq!(s, 422, "tokens live at least 10 minutes");

    // The token authenticates as the ServiceAccount, which RBAC then judges.
    assert_eq!(
        bearer(&k, &token, "/api/v1/namespaces/default/configmaps").await,
        403
    );
    let rb = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "robot-view", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "default"}],
    });
    k.json(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        &rb.to_string(),
    )
    .await;
    assert_eq!(
        bearer(&k, &token, "/api/v1/namespaces/default/configmaps").await,
        200
    );

    // TokenReview agrees; a forged token and a wrong audience do not authenticate.
    let review = |t: &str, aud: &str| {
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": t, "audiences": [aud]}}).to_string()
    };
    let (_, r) = k
        .json(
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &review(&token, "https://kubernetes.default.svc.cluster.local"),
        )
        .await;
    assert_eq!(r["status"]["authenticated"], true, "{r}");
    assert_eq!(
        r["status"]["user"]["username"],
        "system:serviceaccount:default:robot"
    );
    let (_, r) = k
        .json(
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &review(&token, "vault"),
        )
        .await;
    assert_eq!(r["status"]["authenticated"], false);
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        bearer(&k, &forged, "/api/v1/namespaces/default/configmaps").await,
        401
    );
    assert_eq!(
        bearer(&k, "not-a-jwt", "/api/v1/namespaces/default/configmaps").await,
        401
    );

    // Deleting the account kills its tokens; a new account of the same name has another uid.
    k.json(
        "DELETE",
        "/api/v1/namespaces/default/serviceaccounts/robot",
        "",
    )
    .await;
    assert_eq!(
        bearer(&k, &token, "/api/v1/namespaces/default/configmaps").await,
        401
    );
    k.json(
        "POST",
        "/api/v1/namespaces/default/serviceaccounts",
        r#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"}}"#,
    )
    .await;
    assert_eq!(
        bearer(&k, &token, "/api/v1/namespaces/default/configmaps").await,
        401
    );
}

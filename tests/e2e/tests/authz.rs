//! Authorization as a non-admin user (through `--as` impersonation): RBAC bindings,
//! `kubectl auth can-i`, and escalation refused.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use e2e::{Namespace, expect_err_contains, expect_ok, kubectl, unique_name};

#[test]
fn a_user_gets_exactly_what_their_bindings_grant() {
    let ns = Namespace::new("authz");
    let user = unique_name("alice");
    let as_user = format!("--as={user}");
    let out = ns.kubectl(&["get", "configmaps", &as_user]);
    expect_err_contains(&out, "is forbidden");
    expect_err_contains(
        &out,
        &format!("User \"{user}\" cannot list resource \"configmaps\""),
    );
    let out = ns.kubectl(&["auth", "can-i", "list", "configmaps", &as_user]);
    assert_eq!(out.stdout.trim(), "no", "{out}");

    expect_ok(&ns.kubectl(&[
        "create",
        "rolebinding",
        "viewer",
        "--clusterrole=view",
        &format!("--user={user}"),
    ]));
    expect_ok(&ns.kubectl(&["get", "configmaps", &as_user]));
    let out = ns.kubectl(&["auth", "can-i", "list", "configmaps", &as_user]);
    assert_eq!(out.stdout.trim(), "yes", "{out}");
    let out = ns.kubectl(&["auth", "can-i", "create", "configmaps", &as_user]);
    assert_eq!(out.stdout.trim(), "no", "view is read-only: {out}");
    let out = ns.kubectl(&["auth", "can-i", "get", "secrets", &as_user]);
    assert_eq!(out.stdout.trim(), "no", "view excludes secrets: {out}");
    let out = ns.kubectl(&["auth", "can-i", "--list", &as_user]);
    expect_ok(&out);
    assert!(out.stdout.contains("configmaps"), "{out}");
    // Outside the binding's namespace nothing is granted.
    let out = kubectl(&["get", "configmaps", "-n", "kube-system", &as_user]);
    expect_err_contains(&out, "is forbidden");
}

#[test]
fn binding_oneself_to_cluster_admin_is_refused() {
    let ns = Namespace::new("escalate");
    let user = unique_name("bob");
    let as_user = format!("--as={user}");
    // bob may manage RoleBindings in this namespace, but holds little else.
    expect_ok(&ns.kubectl(&[
        "create",
        "role",
        "binder",
        "--verb=create,get,list",
        "--resource=rolebindings",
    ]));
    expect_ok(&ns.kubectl(&[
        "create",
        "rolebinding",
        "bob-binder",
        "--role=binder",
        &format!("--user={user}"),
    ]));
    let out = ns.kubectl(&[
        "create",
        "rolebinding",
        "bob-admin",
        "--clusterrole=cluster-admin",
        &format!("--user={user}"),
        &as_user,
    ]);
    expect_err_contains(&out, "is forbidden");
    let out = ns.kubectl(&["get", "rolebinding", "bob-admin"]);
    expect_err_contains(&out, "not found");
}

#[test]
fn a_service_account_token_from_kubectl_create_token_authenticates() {
    let ns = Namespace::new("satoken");
    expect_ok(&ns.kubectl(&["create", "serviceaccount", "robot"]));
    let out = ns.kubectl(&["create", "token", "robot", "--duration=15m"]);
    let token = expect_ok(&out).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    // A kubeconfig with only the cluster CA and the token: no client certificate.
    let raw = kubectl(&["config", "view", "--raw", "--minify", "-o", "json"]);
    let v: serde_json::Value = raw.json();
    let server = v["clusters"][0]["cluster"]["server"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = v["clusters"][0]["cluster"]["certificate-authority-data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.kubeconfig");
    let cfg = serde_json::json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "t", "context": {"cluster": "c", "user": "u", "namespace": ns.name()}}],
    });
    std::fs::write(&path, cfg.to_string()).unwrap();
    let kc = path.to_str().unwrap();
    let out = kubectl(&[
        "--kubeconfig",
        kc,
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(
        expect_ok(&out),
        format!("system:serviceaccount:{}:robot", ns.name())
    );
    let out = kubectl(&["--kubeconfig", kc, "get", "configmaps"]);
    expect_err_contains(&out, "is forbidden");
    expect_ok(&ns.kubectl(&[
        "create",
        "rolebinding",
        "robot-view",
        "--clusterrole=view",
        &format!("--serviceaccount={}:robot", ns.name()),
    ]));
    expect_ok(&kubectl(&["--kubeconfig", kc, "get", "configmaps"]));
    // A token the server did not sign is refused.
    let mut bad = cfg.clone();
    bad["users"][0]["user"]["token"] = serde_json::json!(format!("{token}x"));
    std::fs::write(&path, bad.to_string()).unwrap();
    let out = kubectl(&["--kubeconfig", kc, "get", "configmaps"]);
    expect_err_contains(&out, "Unauthorized");
}

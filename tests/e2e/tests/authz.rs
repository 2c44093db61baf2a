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

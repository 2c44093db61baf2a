//! Decision matrix: every verb against namespaced and cluster resources,
//! subresources, resourceNames and URLs for users, groups and ServiceAccounts.
#![allow(clippy::unwrap_used)]

use apimachinery::UserInfo;
use rbac::{Attributes, Decision, Index, Kind, bootstrap_objects};
use serde_json::{Value, json};

const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "escalate",
    "bind",
];
const READ: &[&str] = &["get", "list", "watch"];

fn cluster_role(name: &str, rules: Value) -> Value {
    json!({"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
}

fn role(ns: &str, name: &str, rules: Value) -> Value {
    json!({"kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules})
}

fn binding(ns: Option<&str>, name: &str, role_kind: &str, role: &str, subjects: Value) -> Value {
    let (kind, meta) = match ns {
        Some(ns) => ("RoleBinding", json!({"name": name, "namespace": ns})),
        None => ("ClusterRoleBinding", json!({"name": name})),
    };
    json!({
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": subjects,
    })
}

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo::new(name, groups.iter().map(|g| g.to_string()).collect())
}

fn sa(ns: &str, name: &str) -> UserInfo {
    user(
        &format!("system:serviceaccount:{ns}:{name}"),
        &[
            "system:serviceaccounts",
            &format!("system:serviceaccounts:{ns}"),
            "system:authenticated",
        ],
    )
}

fn fixture() -> Index {
    let mut idx = Index::new();
    let objects = [
        cluster_role(
            "pod-reader",
            json!([{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "pods/log"]}]),
        ),
        cluster_role(
            "node-admin",
            json!([{"verbs": ["*"], "apiGroups": [""], "resources": ["nodes", "nodes/status"]}]),
        ),
        cluster_role(
            "status-reader",
            json!([{"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/status"]}]),
        ),
        cluster_role(
            "health",
            json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/logs/*"]}]),
        ),
        role(
            "alpha",
            "secret-one",
            json!([{"verbs": ["get", "update"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["one"]}]),
        ),
        role(
            "beta",
            "deploy-scaler",
            json!([
                {"verbs": ["update", "patch"], "apiGroups": ["apps"], "resources": ["deployments/scale"]},
                {"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments"]}
            ]),
        ),
        binding(
            Some("alpha"),
            "alice-pods",
            "ClusterRole",
            "pod-reader",
            json!([{"kind": "User", "name": "alice"}]),
        ),
        binding(
            Some("alpha"),
            "alice-secret",
            "Role",
            "secret-one",
            json!([{"kind": "User", "name": "alice"}]),
        ),
        binding(
            None,
            "ops-nodes",
            "ClusterRole",
            "node-admin",
            json!([{"kind": "Group", "name": "ops"}]),
        ),
        binding(
            Some("beta"),
            "sa-deploy",
            "Role",
            "deploy-scaler",
            json!([{"kind": "ServiceAccount", "name": "builder"}]),
        ),
        binding(
            None,
            "status",
            "ClusterRole",
            "status-reader",
            json!([{"kind": "ServiceAccount", "name": "watcher", "namespace": "alpha"}]),
        ),
        binding(
            None,
            "health",
            "ClusterRole",
            "health",
            json!([{"kind": "Group", "name": "system:authenticated"}]),
        ),
        binding(
            None,
            "sa-no-ns",
            "ClusterRole",
            "pod-reader",
            json!([{"kind": "ServiceAccount", "name": "orphan"}]),
        ),
        binding(
            Some("alpha"),
            "dangling",
            "Role",
            "missing",
            json!([{"kind": "User", "name": "carol"}]),
        ),
    ];
    for o in &objects {
        idx.apply(o).unwrap();
    }
    idx
}

/// One row: who asks for what, and exactly which verbs of VERBS are allowed.
struct Row {
    who: UserInfo,
    group: &'static str,
    resource: &'static str,
    sub: &'static str,
    ns: &'static str,
    name: &'static str,
    path: Option<&'static str>,
    allowed: &'static [&'static str],
}

fn row(
    who: &UserInfo,
    target: (&'static str, &'static str, &'static str),
    ns: &'static str,
    name: &'static str,
    allowed: &'static [&'static str],
) -> Row {
    Row {
        who: who.clone(),
        group: target.0,
        resource: target.1,
        sub: target.2,
        ns,
        name,
        path: None,
        allowed,
    }
}

fn url(who: &UserInfo, path: &'static str, allowed: &'static [&'static str]) -> Row {
    Row {
        who: who.clone(),
        group: "",
        resource: "",
        sub: "",
        ns: "",
        name: "",
        path: Some(path),
        allowed,
    }
}

fn check(idx: &Index, rows: &[Row]) {
    for (i, r) in rows.iter().enumerate() {
        for verb in VERBS {
            let a = Attributes {
                user: &r.who,
                verb,
                api_group: r.group,
                resource: r.resource,
                subresource: r.sub,
                namespace: r.ns,
                name: r.name,
                path: r.path,
            };
            let got = idx.authorize(&a) == Decision::Allow;
            assert_eq!(
                got,
                r.allowed.contains(verb),
                "row {i}: {} {verb} {}/{}/{} ns={:?} name={:?} path={:?}",
                r.who.name,
                r.group,
                r.resource,
                r.sub,
                r.ns,
                r.name,
                r.path
            );
        }
    }
}

const PODS: (&str, &str, &str) = ("", "pods", "");
const POD_LOG: (&str, &str, &str) = ("", "pods", "log");
const POD_EXEC: (&str, &str, &str) = ("", "pods", "exec");
const SECRETS: (&str, &str, &str) = ("", "secrets", "");
const NODES: (&str, &str, &str) = ("", "nodes", "");
const NODE_STATUS: (&str, &str, &str) = ("", "nodes", "status");
const NODE_PROXY: (&str, &str, &str) = ("", "nodes", "proxy");
const DEPLOYS: (&str, &str, &str) = ("apps", "deployments", "");
const DEPLOY_SCALE: (&str, &str, &str) = ("apps", "deployments", "scale");
const DEPLOY_STATUS: (&str, &str, &str) = ("apps", "deployments", "status");
const EXT_DEPLOYS: (&str, &str, &str) = ("extensions", "deployments", "");

#[test]
fn users_groups_and_service_accounts() {
    let idx = fixture();
    let alice = user("alice", &["system:authenticated"]);
    let bob = user("bob", &["ops", "system:authenticated"]);
    let builder = sa("beta", "builder");
    let watcher = sa("alpha", "watcher");
    let orphan = sa("default", "orphan");
    let root = user("root", &["system:masters"]);
    let anon = user("system:anonymous", &["system:unauthenticated"]);
    let none: &[&str] = &[];
    check(
        &idx,
        &[
            // A ClusterRole bound by a RoleBinding grants only in that namespace.
            row(&alice, PODS, "alpha", "", READ),
            row(&alice, PODS, "alpha", "web", READ),
            row(&alice, POD_LOG, "alpha", "web", READ),
            row(&alice, POD_EXEC, "alpha", "web", none),
            row(&alice, PODS, "beta", "web", none),
            row(&alice, PODS, "", "", none),
            // resourceNames: only the named object, never list/create without a name.
            row(&alice, SECRETS, "alpha", "one", &["get", "update"]),
            row(&alice, SECRETS, "alpha", "two", none),
            row(&alice, SECRETS, "alpha", "", none),
            row(&alice, SECRETS, "beta", "one", none),
            // A ClusterRoleBinding grants everywhere, verbs "*" included.
            row(&bob, NODES, "", "", VERBS),
            row(&bob, NODES, "", "n1", VERBS),
            row(&bob, NODE_STATUS, "", "n1", VERBS),
            row(&bob, NODE_PROXY, "", "n1", none),
            row(&bob, PODS, "alpha", "", none),
            // ServiceAccount subject without namespace takes the RoleBinding's.
            row(&builder, DEPLOY_SCALE, "beta", "web", &["update", "patch"]),
            row(&builder, DEPLOYS, "beta", "web", &["get"]),
            row(&builder, EXT_DEPLOYS, "beta", "web", none),
            row(&builder, DEPLOY_SCALE, "alpha", "web", none),
            // "*/status" matches any resource's status subresource, never the resource.
            row(&watcher, DEPLOY_STATUS, "beta", "web", &["get"]),
            row(&watcher, NODE_STATUS, "", "n1", &["get"]),
            row(&watcher, NODES, "", "n1", none),
            // A ServiceAccount subject without namespace in a ClusterRoleBinding matches nobody.
            row(&orphan, PODS, "default", "", none),
            // RBAC gives system:masters nothing by itself.
            row(&root, PODS, "alpha", "", none),
            row(&anon, PODS, "alpha", "", none),
            // Non-resource URLs: exact, and trailing "*" as a prefix.
            url(&alice, "/healthz", &["get"]),
            url(&alice, "/healthz/etcd", none),
            url(&bob, "/logs/kube.log", &["get"]),
            url(&bob, "/logs", none),
            url(&anon, "/healthz", none),
        ],
    );
}

#[test]
fn dangling_reference_is_reported_in_the_reason() {
    let idx = fixture();
    let carol = user("carol", &[]);
    let a = Attributes {
        user: &carol,
        verb: "get",
        api_group: "",
        resource: "pods",
        subresource: "",
        namespace: "alpha",
        name: "",
        path: None,
    };
    assert_eq!(
        idx.authorize(&a),
        Decision::NoOpinion("RBAC: role.rbac.authorization.k8s.io \"missing\" not found".into())
    );
    let (_, _, incomplete) = idx.rules_for(&carol, "alpha");
    assert!(incomplete);
    let (_, _, incomplete) = idx.rules_for(&carol, "beta");
    assert!(!incomplete);
}

#[test]
fn delete_and_reapply_update_the_subject_indexes() {
    let mut idx = fixture();
    let alice = user("alice", &[]);
    let get_pods = |idx: &Index| {
        idx.authorize(&Attributes {
            user: &alice,
            verb: "get",
            api_group: "",
            resource: "pods",
            subresource: "",
            namespace: "alpha",
            name: "p",
            path: None,
        }) == Decision::Allow
    };
    assert!(get_pods(&idx));
    // Re-applying with another subject moves the grant.
    idx.apply(&binding(
        Some("alpha"),
        "alice-pods",
        "ClusterRole",
        "pod-reader",
        json!([{"kind": "User", "name": "dave"}]),
    ))
    .unwrap();
    assert!(!get_pods(&idx));
    idx.apply(&binding(
        Some("alpha"),
        "alice-pods",
        "ClusterRole",
        "pod-reader",
        json!([{"kind": "User", "name": "alice"}]),
    ))
    .unwrap();
    assert!(get_pods(&idx));
    // Deleting the role leaves a dangling binding.
    assert!(idx.delete(Kind::ClusterRole, "", "pod-reader"));
    assert!(!get_pods(&idx));
    assert!(!idx.delete(Kind::ClusterRole, "", "pod-reader"));
    assert!(idx.delete(Kind::RoleBinding, "alpha", "alice-pods"));
    assert!(!idx.delete(Kind::RoleBinding, "alpha", "alice-pods"));
    assert!(
        idx.apply(&json!({"kind": "Role", "metadata": {"name": "x"}}))
            .is_err()
    );
    assert!(
        idx.apply(&json!({"kind": "Pod", "metadata": {"name": "x"}}))
            .is_err()
    );
}

#[test]
fn rules_review_lists_cluster_then_namespace_rules() {
    let idx = fixture();
    let alice = user("alice", &["system:authenticated"]);
    let (resource, non_resource, incomplete) = idx.rules_for(&alice, "alpha");
    assert!(!incomplete);
    assert_eq!(
        resource,
        vec![
            json!({"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "pods/log"]}),
            json!({"verbs": ["get", "update"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["one"]}),
        ]
    );
    assert_eq!(
        non_resource,
        vec![json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/logs/*"]})]
    );
    let (resource, _, _) = idx.rules_for(&alice, "");
    assert!(resource.is_empty());
}

#[test]
fn bootstrap_policy_grants_what_kube_apiserver_grants() {
    let mut idx = Index::new();
    for o in bootstrap_objects() {
        idx.apply(&o).unwrap();
    }
    let root = user("root", &["system:masters", "system:authenticated"]);
    let alice = user("alice", &["system:authenticated"]);
    let anon = user("system:anonymous", &["system:unauthenticated"]);
    let viewer = user("viewer", &["system:authenticated"]);
    let editor = user("editor", &["system:authenticated"]);
    let admin = user("nsadmin", &["system:authenticated"]);
    for (name, role, subject) in [
        ("v", "view", "viewer"),
        ("e", "edit", "editor"),
        ("a", "admin", "nsadmin"),
    ] {
        idx.apply(&binding(
            Some("team"),
            name,
            "ClusterRole",
            role,
            json!([{"kind": "User", "name": subject}]),
        ))
        .unwrap();
    }
    const SSAR: (&str, &str, &str) = ("authorization.k8s.io", "selfsubjectaccessreviews", "");
    const ROLES: (&str, &str, &str) = ("rbac.authorization.k8s.io", "roles", "");
    const RW: &[&str] = &[
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    check(
        &idx,
        &[
            row(&root, NODES, "", "", VERBS),
            row(&root, SECRETS, "kube-system", "x", VERBS),
            url(&root, "/anything", VERBS),
            row(&alice, SSAR, "", "", &["create"]),
            row(&alice, PODS, "default", "", &[]),
            url(&alice, "/apis/apps/v1", &["get"]),
            url(&alice, "/version", &["get"]),
            url(&anon, "/version", &["get"]),
            url(&anon, "/livez", &["get"]),
            url(&anon, "/apis", &[]),
            url(&anon, "/metrics", &[]),
            row(&viewer, PODS, "team", "p", READ),
            row(&viewer, SECRETS, "team", "s", &[]),
            row(&viewer, PODS, "other", "p", &[]),
            row(&editor, SECRETS, "team", "s", RW),
            row(&editor, DEPLOY_SCALE, "team", "d", RW),
            row(
                &editor,
                ("coordination.k8s.io", "leases", ""),
                "team",
                "l",
                RW,
            ),
            row(&editor, ("", "resourcequotas", ""), "team", "q", READ),
            row(&editor, ROLES, "team", "r", &[]),
            row(&admin, ROLES, "team", "r", RW),
            row(&admin, ("", "pods", "eviction"), "team", "p", &["create"]),
            row(&admin, ("", "serviceaccounts", ""), "team", "sa", RW),
            row(&admin, PODS, "team", "p", RW),
            row(&admin, ("", "pods", "exec"), "team", "p", RW),
        ],
    );
}

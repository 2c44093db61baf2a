//! Escalation attempts: roles granting more than held, binding oneself to
//! cluster-admin, `bind` and `escalate` on specific role names.
#![allow(clippy::unwrap_used)]

use apimachinery::UserInfo;
use rbac::{
    EscalationError, Index, PolicyRule, RoleKind, RoleRefError, bootstrap_objects,
    confirm_no_escalation,
};
use serde_json::{Value, json};

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo::new(name, groups.iter().map(|g| g.to_string()).collect())
}

fn rb(ns: &str, name: &str, kind: &str, role: &str, subject: &str) -> Value {
    json!({
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": subject}],
    })
}

fn crb(name: &str, role: &str, subject: &str) -> Value {
    json!({
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": subject}],
    })
}

fn role(ns: &str, name: &str, rules: Value) -> Value {
    json!({"kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules})
}

/// Bootstrap policy, alice bound to `edit` in "team", and a ClusterRole letting
/// its holders bind only `view`.
fn fixture() -> Index {
    let mut idx = Index::new();
    for o in bootstrap_objects() {
        idx.apply(&o).unwrap();
    }
    idx.apply(&json!({
        "kind": "ClusterRole",
        "metadata": {"name": "bind-view"},
        "rules": [{"verbs": ["bind"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "resourceNames": ["view"]}]
    }))
    .unwrap();
    idx.apply(&json!({
        "kind": "ClusterRole",
        "metadata": {"name": "role-escalator"},
        "rules": [{"verbs": ["escalate"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"]}]
    }))
    .unwrap();
    idx.apply(&rb("team", "alice-edit", "ClusterRole", "edit", "alice"))
        .unwrap();
    idx.apply(&rb("team", "bob-bind", "ClusterRole", "bind-view", "bob"))
        .unwrap();
    idx.apply(&rb(
        "team",
        "erin-esc",
        "ClusterRole",
        "role-escalator",
        "erin",
    ))
    .unwrap();
    idx
}

#[test]
fn role_with_more_rights_than_held_is_refused_with_kubernetes_message() {
    let idx = fixture();
    let alice = user("alice", &["system:authenticated"]);
    let within = role(
        "team",
        "r",
        json!([{"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["secrets", "configmaps"]}]),
    );
    assert_eq!(idx.check_role_write(&alice, &within, None), Ok(()));
    let more = role(
        "team",
        "r",
        json!([{"verbs": ["get", "delete"], "apiGroups": ["", "apps"], "resources": ["secrets", "nodes"]}]),
    );
    let err = idx.check_role_write(&alice, &more, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\" \"delete\"]}\n\
         {APIGroups:[\"apps\"], Resources:[\"nodes\"], Verbs:[\"get\" \"delete\"]}\n\
         {APIGroups:[\"apps\"], Resources:[\"secrets\"], Verbs:[\"get\" \"delete\"]}"
    );
    assert!(
        err.forbidden_message("roles", "r")
            .starts_with("roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"alice\"")
    );
    // The same rules in a namespace where alice holds nothing.
    let elsewhere = role(
        "other",
        "r",
        json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]),
    );
    assert!(idx.check_role_write(&alice, &elsewhere, None).is_err());
}

#[test]
fn escalate_verb_and_system_masters_skip_the_check() {
    let idx = fixture();
    let erin = user("erin", &["system:authenticated"]);
    let everything = role(
        "team",
        "r",
        json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
    );
    assert_eq!(idx.check_role_write(&erin, &everything, None), Ok(()));
    // escalate on roles in "team" does not reach another namespace.
    let other = role(
        "other",
        "r",
        json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
    );
    assert!(idx.check_role_write(&erin, &other, None).is_err());
    let root = user("root", &["system:masters"]);
    assert_eq!(idx.check_role_write(&root, &other, None), Ok(()));
    assert_eq!(
        idx.check_binding_write(&root, &crb("x", "cluster-admin", "root"), None),
        Ok(())
    );
}

#[test]
fn escalate_on_a_role_name_applies_to_updates_only() {
    let mut idx = fixture();
    idx.apply(&json!({
        "kind": "ClusterRole",
        "metadata": {"name": "escalate-r"},
        "rules": [{"verbs": ["escalate"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "resourceNames": ["r"]}]
    }))
    .unwrap();
    idx.apply(&rb(
        "team",
        "frank-esc",
        "ClusterRole",
        "escalate-r",
        "frank",
    ))
    .unwrap();
    let frank = user("frank", &[]);
    let old = role("team", "r", json!([]));
    let new = role(
        "team",
        "r",
        json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
    );
    assert_eq!(idx.check_role_write(&frank, &new, Some(&old)), Ok(()));
    // A create request has no name in its URL, so a resourceNames rule cannot match.
    assert!(idx.check_role_write(&frank, &new, None).is_err());
    let other = role(
        "team",
        "s",
        json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
    );
    assert!(
        idx.check_role_write(&frank, &other, Some(&role("team", "s", json!([]))))
            .is_err()
    );
}

#[test]
fn binding_oneself_to_cluster_admin_is_refused() {
    let idx = fixture();
    let alice = user("alice", &["system:authenticated"]);
    let err = idx
        .check_binding_write(&alice, &crb("me", "cluster-admin", "alice"), None)
        .unwrap_err();
    assert!(matches!(err, EscalationError::NotHeld(_)));
    let err = idx
        .check_binding_write(
            &alice,
            &rb("team", "me", "ClusterRole", "cluster-admin", "alice"),
            None,
        )
        .unwrap_err();
    assert!(matches!(err, EscalationError::NotHeld(_)));
    // Binding a role whose rules alice holds in the namespace is fine.
    assert_eq!(
        idx.check_binding_write(
            &alice,
            &rb("team", "v", "ClusterRole", "view", "carol"),
            None
        ),
        Ok(())
    );
    // ...but not outside it.
    assert!(
        idx.check_binding_write(
            &alice,
            &rb("other", "v", "ClusterRole", "view", "carol"),
            None
        )
        .is_err()
    );
    assert_eq!(
        idx.check_binding_write(&alice, &rb("team", "x", "Role", "nope", "carol"), None),
        Err(EscalationError::RoleRef(RoleRefError::NotFound {
            kind: RoleKind::Role,
            name: "nope".into()
        }))
    );
    assert_eq!(
        idx.check_binding_write(&alice, &rb("team", "x", "Role", "nope", "carol"), None)
            .unwrap_err()
            .to_string(),
        "roles.rbac.authorization.k8s.io \"nope\" not found"
    );
}

#[test]
fn bind_permission_honours_resource_names() {
    let idx = fixture();
    let bob = user("bob", &["system:authenticated"]);
    assert_eq!(
        idx.check_binding_write(&bob, &rb("team", "v", "ClusterRole", "view", "carol"), None),
        Ok(())
    );
    assert!(
        idx.check_binding_write(&bob, &rb("team", "e", "ClusterRole", "edit", "carol"), None)
            .is_err()
    );
    // bind is granted by a RoleBinding, so it holds in "team" only.
    assert!(
        idx.check_binding_write(
            &bob,
            &rb("other", "v", "ClusterRole", "view", "carol"),
            None
        )
        .is_err()
    );
    assert!(
        idx.check_binding_write(&bob, &crb("v", "view", "carol"), None)
            .is_err()
    );
}

#[test]
fn aggregation_rule_needs_full_authority() {
    let mut idx = fixture();
    let alice = user("alice", &[]);
    idx.apply(&crb("alice-pods", "view", "alice")).unwrap();
    let aggregated = json!({
        "kind": "ClusterRole",
        "metadata": {"name": "agg"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]},
        "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]
    });
    assert_eq!(
        idx.check_role_write(&alice, &aggregated, None),
        Err(EscalationError::AggregationRule)
    );
    idx.apply(&crb("alice-admin", "cluster-admin", "alice"))
        .unwrap();
    assert_eq!(idx.check_role_write(&alice, &aggregated, None), Ok(()));
}

#[test]
fn garbage_collector_updates_pass() {
    let idx = fixture();
    let gc = user(
        "system:serviceaccount:kube-system:generic-garbage-collector",
        &[],
    );
    let old = role(
        "team",
        "r",
        json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
    );
    let mut new = old.clone();
    new["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
    assert_eq!(idx.check_role_write(&gc, &new, Some(&old)), Ok(()));
    new["rules"] = json!([]);
    assert!(idx.check_role_write(&gc, &new, Some(&old)).is_ok());
    new["rules"] = json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]);
    assert!(idx.check_role_write(&gc, &new, Some(&old)).is_err());
}

#[test]
fn pure_confirm_no_escalation_returns_uncovered_rules() {
    let owner = [PolicyRule::resource(&["get"], &["*"], &["pods"])];
    let requested = [PolicyRule::resource(
        &["get", "list"],
        &["", "apps"],
        &["pods"],
    )];
    let missing = confirm_no_escalation(&owner, &requested).unwrap_err();
    assert_eq!(
        missing,
        vec![
            PolicyRule::resource(&["list"], &[""], &["pods"]),
            PolicyRule::resource(&["list"], &["apps"], &["pods"]),
        ]
    );
}

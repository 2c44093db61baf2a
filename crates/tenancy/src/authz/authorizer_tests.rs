//! Decisions from an index fed directly with apply/delete (no server).

use super::*;
use crate::bootstrap::{
    global_role_binding, global_roles, project_roles, role_templates, workspace_roles,
};
use crate::children::{project_role_binding, workspace_role_binding};
use crate::kinds::{GroupBinding, GroupBindingFields, GroupRef};
use k8s_openapi::api::core::v1::Namespace;
use std::collections::BTreeMap;

fn ns(name: &str, ws: &str) -> Namespace {
    let mut n = Namespace::default();
    n.metadata.name = Some(name.into());
    n.metadata.labels = Some(BTreeMap::from([(
        "kubesphere.io/workspace".to_string(),
        ws.to_string(),
    )]));
    n
}

fn setup() -> Authorizer {
    let a = Authorizer::new();
    let mut idx = a.write();
    for t in role_templates() {
        idx.apply_template(&t);
    }
    for r in global_roles() {
        idx.apply_global_role(&r);
    }
    for ws in ["a", "b"] {
        for r in workspace_roles(ws) {
            idx.apply_workspace_role(&r);
        }
        idx.apply_namespace(&ns(&format!("{ws}-p"), ws));
        for r in project_roles(&format!("{ws}-p")) {
            idx.apply_role(&r);
        }
    }
    idx.apply_global_role_binding(&global_role_binding("root", "platform-admin"));
    idx.apply_workspace_role_binding(&workspace_role_binding("a", "ann", "a-viewer", None, None));
    idx.apply_role_binding(&project_role_binding("a-p", "pat", "operator", None));
    drop(idx);
    a
}

fn can(a: &Authorizer, who: &str, method: &str, path: &str) -> bool {
    a.authorize(
        &UserInfo::new(who, vec!["system:authenticated".into()]),
        &RequestInfo::parse(method, path, ""),
    )
    .allowed
}

#[test]
fn scopes_resolve_from_platform_to_project() {
    let a = setup();
    assert!(can(&a, "root", "DELETE", "/api/v1/nodes/n1"));
    // A project inherits its workspace's bindings; another workspace's projects do not.
    assert!(can(&a, "ann", "GET", "/api/v1/namespaces/a-p/pods"));
    assert!(!can(&a, "ann", "POST", "/api/v1/namespaces/a-p/pods"));
    assert!(!can(&a, "ann", "GET", "/api/v1/namespaces/b-p/pods"));
    assert!(can(
        &a,
        "ann",
        "GET",
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/a"
    ));
    assert!(!can(
        &a,
        "ann",
        "GET",
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/b"
    ));
    assert!(can(&a, "pat", "POST", "/api/v1/namespaces/a-p/configmaps"));
    assert!(!can(
        &a,
        "pat",
        "GET",
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/a"
    ));
    assert!(!can(&a, "pat", "GET", "/api/v1/nodes"));
    // A workspace path naming a project of another workspace gets no workspace rules.
    assert!(!can(
        &a,
        "ann",
        "GET",
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/a/namespaces/b-p"
    ));
}

#[test]
fn self_service_is_limited_to_oneself() {
    let a = setup();
    assert!(can(
        &a,
        "pat",
        "GET",
        "/kapis/iam.kubesphere.io/v1beta1/users/pat"
    ));
    assert!(can(
        &a,
        "pat",
        "PUT",
        "/kapis/iam.kubesphere.io/v1beta1/users/pat/password"
    ));
    assert!(!can(
        &a,
        "pat",
        "GET",
        "/kapis/iam.kubesphere.io/v1beta1/users/ann"
    ));
    assert!(!can(
        &a,
        "pat",
        "DELETE",
        "/kapis/iam.kubesphere.io/v1beta1/users/pat"
    ));
    assert!(!can(
        &a,
        "pat",
        "POST",
        "/kapis/iam.kubesphere.io/v1beta1/workspaces/a/workspacemembers"
    ));
    assert!(can(
        &a,
        "pat",
        "GET",
        "/kapis/iam.kubesphere.io/v1beta1/workspaces/a/workspacemembers/pat"
    ));
    assert!(!can(
        &a,
        "pat",
        "PUT",
        "/kapis/iam.kubesphere.io/v1beta1/workspaces/a/workspacemembers/pat"
    ));
}

#[test]
fn deletes_and_groups_change_decisions() {
    let a = setup();
    a.write().delete_workspace_role_binding("ann-a-viewer");
    assert!(!can(&a, "ann", "GET", "/api/v1/namespaces/a-p/pods"));
    let mut gb = GroupBinding::new(
        "devs-ann",
        GroupBindingFields {
            group_ref: GroupRef {
                api_group: "iam.kubesphere.io".into(),
                kind: "Group".into(),
                name: "devs".into(),
            },
            users: vec!["ann".into()],
        },
    );
    gb.metadata.labels = None;
    a.write().apply_group_binding(&gb);
    let mut b = workspace_role_binding("b", "x", "b-admin", None, None);
    b.spec.subjects[0].kind = "Group".into();
    b.spec.subjects[0].name = "devs".into();
    a.write().apply_workspace_role_binding(&b);
    assert!(can(&a, "ann", "DELETE", "/api/v1/namespaces/b-p/pods/x"));
    assert_eq!(a.groups_of(&UserInfo::new("ann", vec![])), ["devs"]);
    a.write().delete_group_binding("devs-ann");
    assert!(!can(&a, "ann", "DELETE", "/api/v1/namespaces/b-p/pods/x"));
    // A project moved out of its workspace loses the workspace's rules.
    a.write().apply_namespace(&ns("a-p", "b"));
    assert!(!can(
        &a,
        "pat",
        "GET",
        "/kapis/tenant.kubesphere.io/v1beta1/workspaces/a/namespaces"
    ));
}

#[test]
fn a_group_binding_cannot_name_a_kubernetes_system_group() {
    let a = setup();
    for group in ["system:masters", "system:authenticated", "Devs", ""] {
        let gb = GroupBinding::new(
            "sneaky",
            GroupBindingFields {
                group_ref: GroupRef {
                    api_group: "iam.kubesphere.io".into(),
                    kind: "Group".into(),
                    name: group.into(),
                },
                users: vec!["ann".into()],
            },
        );
        a.write().apply_group_binding(&gb);
        assert!(
            a.groups_of(&UserInfo::new("ann", vec![])).is_empty(),
            "{group:?} became one of ann's groups"
        );
    }
}

#[test]
fn visibility_without_scanning_namespaces() {
    let a = setup();
    let ann = UserInfo::new("ann", vec![]);
    assert_eq!(
        a.visible_namespaces(&ann)
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["a-p"]
    );
    assert_eq!(
        a.visible_workspaces(&ann)
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert!(
        a.visible_namespaces(&UserInfo::new("root", vec![]))
            .is_none()
    );
    assert!(
        a.visible_namespaces(&UserInfo::new("nobody", vec![]))
            .unwrap()
            .is_empty()
    );
    assert!(!a.may_list_cluster_scoped(&ann, "", "nodes"));
    assert!(a.may_list_cluster_scoped(&UserInfo::new("root", vec![]), "", "nodes"));
}

#[test]
fn anyone_signed_in_reads_the_public_configuration_and_nothing_else_there() {
    let a = setup();
    let cfg = "/kapis/config.kubesphere.io/v1alpha2/configs";
    for who in ["nobody", "ann", "root"] {
        assert!(can(&a, who, "GET", &format!("{cfg}/configz")), "{who}");
        assert!(can(&a, who, "GET", &format!("{cfg}/oauth")), "{who}");
    }
    assert!(!can(&a, "nobody", "PUT", &format!("{cfg}/oauth")));
    assert!(!can(&a, "nobody", "GET", &format!("{cfg}/theme")));
    assert!(!can(&a, "nobody", "GET", cfg));
    assert!(
        !a.authorize(
            &UserInfo::new("system:anonymous", vec![]),
            &RequestInfo::parse("GET", &format!("{cfg}/configz"), ""),
        )
        .allowed
    );
}

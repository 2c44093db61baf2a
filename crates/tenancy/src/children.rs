//! Pure "desired children" functions: every object a tenancy source object implies, computed without a server.

use crate::authz::{Index, rule_to_k8s};
use crate::bootstrap::{project_roles, user_subject, workspace_roles};
use crate::kinds::{
    GlobalRole, GlobalRoleBinding, Workspace, WorkspaceRole, WorkspaceRoleBinding,
    WorkspaceRoleBindingFields, WorkspaceTemplate,
};
use crate::names;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;

/// A label value naming the source of derived objects (hashed when too long for a label).
pub fn source_label(kind: &str, name: &str) -> String {
    let v = format!("{kind}.{name}");
    if v.len() <= 63 {
        return v;
    }
    // FNV-1a: stable across builds, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in v.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{kind}.h{h:016x}")
}

/// The owner reference that makes a child go with `owner` (None until `owner` has a uid).
pub fn owner<K: Resource<DynamicType = ()>>(owner: &K) -> Option<OwnerReference> {
    owner.controller_owner_ref(&())
}

fn meta(
    name: &str,
    source: &str,
    owner_ref: Option<OwnerReference>,
    extra: &[(&str, &str)],
) -> ObjectMeta {
    let mut labels = BTreeMap::from([
        (
            names::MANAGED_BY_LABEL.to_string(),
            names::MANAGED_BY.to_string(),
        ),
        (names::SOURCE_LABEL.to_string(), source.to_string()),
    ]);
    for (k, v) in extra {
        if !v.is_empty() {
            labels.insert(k.to_string(), v.to_string());
        }
    }
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels),
        owner_references: owner_ref.map(|o| vec![o]),
        ..Default::default()
    }
}

/// The Workspace a WorkspaceTemplate declares.
pub fn workspace_of_template(t: &WorkspaceTemplate) -> Workspace {
    let name = t.name_any();
    let mut m = t.spec.template.metadata.to_object_meta(&name);
    m.owner_references = owner(t).map(|o| vec![o]);
    Workspace {
        metadata: m,
        spec: t.spec.template.spec.clone(),
        status: None,
    }
}

/// A workspace's built-in roles and, if it names a manager, the manager's admin binding.
pub fn workspace_children(ws: &Workspace) -> (Vec<WorkspaceRole>, Vec<WorkspaceRoleBinding>) {
    let name = ws.name_any();
    let source = source_label("workspace", &name);
    let roles = workspace_roles(&name)
        .into_iter()
        .map(|mut r| {
            let labels = r.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.insert(names::MANAGED_BY_LABEL.into(), names::MANAGED_BY.into());
            labels.insert(names::SOURCE_LABEL.into(), source.clone());
            r.metadata.owner_references = owner(ws).map(|o| vec![o]);
            r
        })
        .collect();
    let mut bindings = Vec::new();
    if let Some(manager) = ws.spec.manager.as_deref().filter(|m| !m.is_empty()) {
        bindings.push(workspace_role_binding(
            &name,
            manager,
            &names::workspace_role(&name, "admin"),
            owner(ws),
            Some(&source),
        ));
    }
    (roles, bindings)
}

/// The WorkspaceRoleBinding the members API writes for `user` holding `role` in `ws`.
pub fn workspace_role_binding(
    ws: &str,
    user: &str,
    role: &str,
    owner_ref: Option<OwnerReference>,
    source: Option<&str>,
) -> WorkspaceRoleBinding {
    let mut labels = BTreeMap::from([
        (names::WORKSPACE_LABEL.to_string(), ws.to_string()),
        (names::USER_REF_LABEL.to_string(), user.to_string()),
        (names::ROLE_REF_LABEL.to_string(), role.to_string()),
    ]);
    if let Some(s) = source {
        labels.insert(names::MANAGED_BY_LABEL.into(), names::MANAGED_BY.into());
        labels.insert(names::SOURCE_LABEL.into(), s.into());
    }
    WorkspaceRoleBinding {
        metadata: ObjectMeta {
            name: Some(names::binding(user, role)),
            labels: Some(labels),
            owner_references: owner_ref.map(|o| vec![o]),
            ..Default::default()
        },
        spec: WorkspaceRoleBindingFields {
            subjects: vec![user_subject(user)],
            role_ref: RoleRef {
                api_group: Some(names::IAM_GROUP.into()),
                kind: "WorkspaceRole".into(),
                name: role.into(),
            },
        },
    }
}

/// A project's Roles (`admin`, `operator`, `viewer`) and its creator's `<creator>-admin` binding.
pub fn project_children(ns: &Namespace) -> (Vec<Role>, Vec<RoleBinding>) {
    let name = ns.name_any();
    let source = source_label("project", &name);
    let roles = project_roles(&name)
        .into_iter()
        .map(|mut r| {
            let labels = r.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.insert(names::MANAGED_BY_LABEL.into(), names::MANAGED_BY.into());
            labels.insert(names::SOURCE_LABEL.into(), source.clone());
            r
        })
        .collect();
    let mut bindings = Vec::new();
    if let Some(creator) = ns
        .annotations()
        .get(names::CREATOR)
        .filter(|c| !c.is_empty())
    {
        bindings.push(project_role_binding(&name, creator, "admin", Some(&source)));
    }
    (roles, bindings)
}

/// The RoleBinding the members API writes for `user` holding project role `role` in `ns`.
pub fn project_role_binding(ns: &str, user: &str, role: &str, source: Option<&str>) -> RoleBinding {
    let mut m = meta(
        &names::binding(user, role),
        source.unwrap_or(""),
        None,
        &[(names::USER_REF_LABEL, user), (names::ROLE_REF_LABEL, role)],
    );
    if source.is_none()
        && let Some(l) = m.labels.as_mut()
    {
        l.remove(names::SOURCE_LABEL);
        l.remove(names::MANAGED_BY_LABEL);
    }
    m.namespace = Some(ns.to_string());
    RoleBinding {
        metadata: m,
        role_ref: RoleRef {
            api_group: Some(names::RBAC_GROUP.into()),
            kind: "Role".into(),
            name: role.into(),
        },
        subjects: Some(vec![user_subject(user)]),
    }
}

/// The workspace owner reference a project carries so it is deleted with its workspace
/// (KubeSphere's behaviour; removing the label first detaches the project).
pub fn project_owner(ws: &Workspace) -> Option<OwnerReference> {
    owner(ws).map(|mut o| {
        o.controller = Some(false);
        o.block_owner_deletion = Some(true);
        o
    })
}

fn k8s_rules(rules: &[rbac::PolicyRule]) -> Vec<PolicyRule> {
    rules.iter().map(rule_to_k8s).collect()
}

/// The Kubernetes ClusterRole carrying a GlobalRole's effective rules.
pub fn global_role_cluster_role(role: &GlobalRole, idx: &Index) -> ClusterRole {
    let name = role.name_any();
    let rules = idx
        .global_roles
        .get(&name)
        .map(|def| idx.effective_rules(def))
        .unwrap_or_else(|| {
            role.spec
                .rules
                .iter()
                .map(crate::authz::rule_from_k8s)
                .collect()
        });
    ClusterRole {
        metadata: meta(
            &names::global_cluster_role(&name),
            &source_label("globalrole", &name),
            owner(role),
            &[],
        ),
        rules: Some(k8s_rules(&rules)),
        aggregation_rule: None,
    }
}

fn k8s_subjects(subjects: &[Subject]) -> Vec<Subject> {
    subjects
        .iter()
        .filter(|s| s.kind == "User" || s.kind == "Group")
        .cloned()
        .collect()
}

/// The ClusterRoleBinding a GlobalRoleBinding maps to.
pub fn global_binding_cluster_binding(b: &GlobalRoleBinding) -> ClusterRoleBinding {
    let name = b.name_any();
    ClusterRoleBinding {
        metadata: meta(
            &names::global_cluster_role_binding(&name),
            &source_label("globalrolebinding", &name),
            owner(b),
            &[(
                names::USER_REF_LABEL,
                b.labels()
                    .get(names::USER_REF_LABEL)
                    .map(String::as_str)
                    .unwrap_or(""),
            )],
        ),
        role_ref: RoleRef {
            api_group: Some(names::RBAC_GROUP.into()),
            kind: "ClusterRole".into(),
            name: names::global_cluster_role(&b.spec.role_ref.name),
        },
        subjects: Some(k8s_subjects(&b.spec.subjects)),
    }
}

fn allows(rules: &[rbac::PolicyRule], verb: &str, group: &str, resource: &str) -> bool {
    rules
        .iter()
        .any(|r| r.allows_resource(verb, group, resource, "", ""))
}

/// The two ClusterRoles a WorkspaceRole maps to: its rules (bound by RoleBindings in
/// each project of the workspace) and the cluster-scoped part Kubernetes RBAC can only
/// grant cluster-wide (its own Workspace object by name, creating namespaces).
pub fn workspace_role_cluster_roles(role: &WorkspaceRole, idx: &Index) -> Vec<ClusterRole> {
    let name = role.name_any();
    let ws = role
        .labels()
        .get(names::WORKSPACE_LABEL)
        .cloned()
        .unwrap_or_default();
    let rules = idx
        .workspace_roles
        .get(&name)
        .map(|(_, def)| idx.effective_rules(def))
        .unwrap_or_else(|| {
            role.spec
                .rules
                .iter()
                .map(crate::authz::rule_from_k8s)
                .collect()
        });
    let source = source_label("workspacerole", &name);
    let mut cluster_rules = Vec::new();
    if !ws.is_empty() {
        let verbs: Vec<String> = ["get", "update", "patch", "delete"]
            .iter()
            .filter(|v| allows(&rules, v, names::TENANT_GROUP, "workspaces"))
            .map(|v| v.to_string())
            .collect();
        if !verbs.is_empty() {
            cluster_rules.push(PolicyRule {
                verbs,
                api_groups: Some(vec![names::TENANT_GROUP.into()]),
                resources: Some(vec!["workspaces".into(), "workspacetemplates".into()]),
                resource_names: Some(vec![ws.clone()]),
                ..Default::default()
            });
        }
    }
    // Creating a project is creating a Namespace, which only a cluster-wide grant allows;
    // the gateway's scope authorizer keeps the raw /api path to holders of cluster rules.
    if allows(&rules, "create", "", "namespaces") {
        cluster_rules.push(PolicyRule {
            verbs: vec!["create".into()],
            api_groups: Some(vec!["".into()]),
            resources: Some(vec!["namespaces".into()]),
            ..Default::default()
        });
    }
    vec![
        ClusterRole {
            metadata: meta(
                &names::workspace_cluster_role(&name),
                &source,
                owner(role),
                &[(names::WORKSPACE_LABEL, &ws)],
            ),
            rules: Some(k8s_rules(&rules)),
            aggregation_rule: None,
        },
        ClusterRole {
            metadata: meta(
                &names::workspace_scope_cluster_role(&name),
                &source,
                owner(role),
                &[(names::WORKSPACE_LABEL, &ws)],
            ),
            rules: Some(cluster_rules),
            aggregation_rule: None,
        },
    ]
}

/// The RoleBindings (one per project of the workspace) and the ClusterRoleBinding a
/// WorkspaceRoleBinding maps to.
pub fn workspace_binding_k8s(
    b: &WorkspaceRoleBinding,
    projects: &[String],
) -> (Vec<RoleBinding>, ClusterRoleBinding) {
    let name = b.name_any();
    let source = source_label("workspacerolebinding", &name);
    let ws = b
        .labels()
        .get(names::WORKSPACE_LABEL)
        .cloned()
        .unwrap_or_default();
    let user = b
        .labels()
        .get(names::USER_REF_LABEL)
        .cloned()
        .unwrap_or_default();
    let extra = [
        (names::WORKSPACE_LABEL, ws.as_str()),
        (names::USER_REF_LABEL, user.as_str()),
    ];
    let k8s_name = names::workspace_role_binding_k8s(&name);
    let subjects = k8s_subjects(&b.spec.subjects);
    let rbs = projects
        .iter()
        .map(|ns| {
            let mut m = meta(&k8s_name, &source, owner(b), &extra);
            m.namespace = Some(ns.clone());
            RoleBinding {
                metadata: m,
                role_ref: RoleRef {
                    api_group: Some(names::RBAC_GROUP.into()),
                    kind: "ClusterRole".into(),
                    name: names::workspace_cluster_role(&b.spec.role_ref.name),
                },
                subjects: Some(subjects.clone()),
            }
        })
        .collect();
    let crb = ClusterRoleBinding {
        metadata: meta(&k8s_name, &source, owner(b), &extra),
        role_ref: RoleRef {
            api_group: Some(names::RBAC_GROUP.into()),
            kind: "ClusterRole".into(),
            name: names::workspace_scope_cluster_role(&b.spec.role_ref.name),
        },
        subjects: Some(subjects),
    };
    (rbs, crb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{WorkspaceSpec, WorkspaceTemplateSpec};

    fn ws(name: &str, manager: Option<&str>) -> Workspace {
        let mut w = Workspace::new(
            name,
            WorkspaceSpec {
                manager: manager.map(String::from),
                network_isolation: None,
            },
        );
        w.metadata.uid = Some("uid-1".into());
        w
    }

    #[test]
    fn workspace_gets_four_roles_and_a_manager_binding() {
        let (roles, bindings) = workspace_children(&ws("ws1", Some("alice")));
        let names: Vec<String> = roles.iter().map(|r| r.name_any()).collect();
        assert_eq!(
            names,
            [
                "ws1-admin",
                "ws1-regular",
                "ws1-viewer",
                "ws1-self-provisioner"
            ]
        );
        for r in &roles {
            assert_eq!(r.labels()[names::WORKSPACE_LABEL], "ws1");
            assert_eq!(r.owner_references()[0].name, "ws1");
        }
        assert_eq!(bindings.len(), 1);
        assert_eq!(bindings[0].name_any(), "alice-ws1-admin");
        assert_eq!(bindings[0].spec.role_ref.name, "ws1-admin");
        assert_eq!(bindings[0].spec.subjects[0].name, "alice");
        assert!(workspace_children(&ws("ws2", None)).1.is_empty());
    }

    #[test]
    fn template_produces_its_workspace_owned_by_it() {
        let mut t = WorkspaceTemplate::new("ws1", WorkspaceTemplateSpec::default());
        t.metadata.uid = Some("t-uid".into());
        t.spec.template.spec.manager = Some("bob".into());
        let w = workspace_of_template(&t);
        assert_eq!(w.spec.manager.as_deref(), Some("bob"));
        assert_eq!(w.owner_references()[0].kind, "WorkspaceTemplate");
    }

    #[test]
    fn project_gets_three_roles_and_creator_binding() {
        let mut ns = Namespace::default();
        ns.metadata.name = Some("p1".into());
        ns.metadata.annotations = Some(BTreeMap::from([(
            names::CREATOR.to_string(),
            "carol".to_string(),
        )]));
        let (roles, bindings) = project_children(&ns);
        let names: Vec<String> = roles.iter().map(|r| r.name_any()).collect();
        assert_eq!(names, ["admin", "operator", "viewer"]);
        assert!(roles.iter().all(|r| r.namespace().as_deref() == Some("p1")));
        let viewer = &roles[2];
        assert!(viewer.rules.as_ref().unwrap().iter().all(|r| {
            r.verbs
                .iter()
                .all(|v| ["get", "list", "watch"].contains(&v.as_str()))
        }));
        assert_eq!(bindings[0].name_any(), "carol-admin");
        assert_eq!(bindings[0].role_ref.name, "admin");
    }

    #[test]
    fn workspace_binding_maps_to_each_project_and_the_workspace_object() {
        let b = workspace_role_binding("ws1", "dave", "ws1-viewer", None, None);
        let (rbs, crb) = workspace_binding_k8s(&b, &["p1".into(), "p2".into()]);
        assert_eq!(rbs.len(), 2);
        assert_eq!(rbs[1].metadata.namespace.as_deref(), Some("p2"));
        assert_eq!(rbs[0].role_ref.name, "kubesphere:workspacerole:ws1-viewer");
        assert_eq!(
            crb.role_ref.name,
            "kubesphere:workspacerole-cluster:ws1-viewer"
        );
        assert_eq!(crb.subjects.as_ref().unwrap()[0].name, "dave");
    }

    #[test]
    fn workspace_role_cluster_part_is_limited_to_its_workspace() {
        let mut idx = Index::new();
        for t in crate::bootstrap::role_templates() {
            idx.apply_template(&t);
        }
        let roles = workspace_roles("ws1");
        for r in &roles {
            idx.apply_workspace_role(r);
        }
        let viewer = roles.iter().find(|r| r.name_any() == "ws1-viewer").unwrap();
        let crs = workspace_role_cluster_roles(viewer, &idx);
        let cluster_part = crs[1].rules.as_ref().unwrap();
        assert_eq!(cluster_part.len(), 1);
        assert_eq!(
            cluster_part[0].resource_names.as_deref(),
            Some(&["ws1".to_string()][..])
        );
        assert_eq!(cluster_part[0].verbs, ["get"]);
        let sp = roles
            .iter()
            .find(|r| r.name_any() == "ws1-self-provisioner")
            .unwrap();
        let crs = workspace_role_cluster_roles(sp, &idx);
        assert!(
            crs[1]
                .rules
                .as_ref()
                .unwrap()
                .iter()
                .any(|r| r.verbs == ["create"]
                    && r.resources.as_deref() == Some(&["namespaces".to_string()][..]))
        );
    }

    #[test]
    fn long_sources_are_hashed_into_a_label_value() {
        let long = "x".repeat(100);
        let v = source_label("workspacerolebinding", &long);
        assert!(v.len() <= 63);
        assert_eq!(v, source_label("workspacerolebinding", &long));
    }
}

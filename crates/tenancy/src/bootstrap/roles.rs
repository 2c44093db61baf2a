//! The built-in roles: global roles, the cluster viewer, and the per-workspace and per-project role sets.

use super::templates::{rules_of, template_names};
use crate::kinds::{
    AggregationRoleTemplates, GlobalRole, GlobalRoleBinding, GlobalRoleBindingFields,
    GlobalRoleFields, WorkspaceRole, WorkspaceRoleFields,
};
use crate::names;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

fn everything() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            verbs: vec!["*".into()],
            api_groups: Some(vec!["*".into()]),
            resources: Some(vec!["*".into()]),
            ..Default::default()
        },
        PolicyRule {
            verbs: vec!["*".into()],
            non_resource_urls: Some(vec!["*".into()]),
            ..Default::default()
        },
    ]
}

fn meta(name: &str, scope: &str, extra: &[(&str, &str)]) -> ObjectMeta {
    let mut labels = BTreeMap::from([(names::SCOPE_LABEL.to_string(), scope.to_string())]);
    for (k, v) in extra {
        labels.insert(k.to_string(), v.to_string());
    }
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels),
        ..Default::default()
    }
}

fn aggregation(templates: &[&str]) -> Option<AggregationRoleTemplates> {
    Some(AggregationRoleTemplates {
        template_names: templates.iter().map(|s| s.to_string()).collect(),
        role_selector: None,
    })
}

fn global_role(name: &str, templates: &[&str], rules: Vec<PolicyRule>) -> GlobalRole {
    let mut rules = rules;
    rules.extend(rules_of(templates));
    GlobalRole {
        metadata: meta(name, "global", &[]),
        spec: GlobalRoleFields {
            aggregation_role_templates: if templates.is_empty() {
                None
            } else {
                aggregation(templates)
            },
            rules,
        },
    }
}

/// platform-admin, platform-regular, platform-self-provisioner and the internal
/// authenticated and anonymous roles. `authenticated`'s self-service rules depend on the
/// caller's name, so the authorizer applies them; the role carries no static rules.
pub fn global_roles() -> Vec<GlobalRole> {
    vec![
        global_role(names::PLATFORM_ADMIN, &[], everything()),
        global_role(names::PLATFORM_REGULAR, &[], Vec::new()),
        global_role(
            names::PLATFORM_SELF_PROVISIONER,
            &["global-create-workspaces"],
            Vec::new(),
        ),
        global_role(names::AUTHENTICATED, &[], Vec::new()),
        global_role(names::ANONYMOUS, &[], Vec::new()),
    ]
}

/// The GlobalRoleBinding that makes `user` hold `role`, named and labelled as the users API does.
pub fn global_role_binding(user: &str, role: &str) -> GlobalRoleBinding {
    let name = if user == "admin" && role == names::PLATFORM_ADMIN {
        "admin".to_string()
    } else {
        names::binding(user, role)
    };
    let mut m = meta(
        &name,
        "global",
        &[(names::USER_REF_LABEL, user), (names::ROLE_REF_LABEL, role)],
    );
    if let Some(l) = m.labels.as_mut() {
        l.remove(names::SCOPE_LABEL);
    }
    GlobalRoleBinding {
        metadata: m,
        spec: GlobalRoleBindingFields {
            subjects: vec![user_subject(user)],
            role_ref: RoleRef {
                api_group: Some(names::IAM_GROUP.into()),
                kind: "GlobalRole".into(),
                name: role.into(),
            },
        },
    }
}

/// A User subject as KubeSphere writes it.
pub fn user_subject(user: &str) -> Subject {
    Subject {
        api_group: Some(names::RBAC_GROUP.into()),
        kind: "User".into(),
        name: user.into(),
        namespace: None,
    }
}

/// Kubernetes ClusterRoles for the cluster level: `cluster-viewer` (cluster-admin is Kubernetes' own).
pub fn cluster_roles() -> Vec<ClusterRole> {
    let mut m = meta(names::CLUSTER_VIEWER, "cluster", &[]);
    m.annotations = Some(BTreeMap::from([(
        names::DISPLAY_NAME_EN.to_string(),
        "Cluster Viewer".to_string(),
    )]));
    vec![ClusterRole {
        metadata: m,
        rules: Some(vec![PolicyRule {
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            api_groups: Some(vec!["*".into()]),
            resources: Some(vec!["*".into()]),
            ..Default::default()
        }]),
        aggregation_rule: None,
    }]
}

/// The templates each built-in workspace role aggregates.
fn workspace_role_templates(role: &str) -> Vec<String> {
    match role {
        "admin" => template_names("workspace"),
        "regular" => vec![
            "workspace-view-members".into(),
            "workspace-view-settings".into(),
        ],
        "viewer" => vec![
            "workspace-view-projects".into(),
            "workspace-view-members".into(),
            "workspace-view-roles".into(),
            "workspace-view-settings".into(),
        ],
        "self-provisioner" => vec![
            "workspace-create-projects".into(),
            "workspace-view-settings".into(),
        ],
        _ => Vec::new(),
    }
}

/// `<ws>-admin|regular|viewer|self-provisioner`, each with its templates' rules written out
/// (admin holds everything in the workspace, as in KubeSphere).
pub fn workspace_roles(ws: &str) -> Vec<WorkspaceRole> {
    names::WORKSPACE_ROLES
        .iter()
        .map(|role| {
            let templates = workspace_role_templates(role);
            let refs: Vec<&str> = templates.iter().map(String::as_str).collect();
            let rules = if *role == "admin" {
                everything_in_scope()
            } else {
                rules_of(&refs)
            };
            let mut m = meta(
                &names::workspace_role(ws, role),
                "workspace",
                &[(names::WORKSPACE_LABEL, ws)],
            );
            m.annotations = Some(BTreeMap::from([(
                names::DISPLAY_NAME_EN.to_string(),
                role.to_string(),
            )]));
            WorkspaceRole {
                metadata: m,
                spec: WorkspaceRoleFields {
                    aggregation_role_templates: aggregation(&refs),
                    rules,
                },
            }
        })
        .collect()
}

fn everything_in_scope() -> Vec<PolicyRule> {
    vec![PolicyRule {
        verbs: vec!["*".into()],
        api_groups: Some(vec!["*".into()]),
        resources: Some(vec!["*".into()]),
        ..Default::default()
    }]
}

/// The templates each built-in project role aggregates.
pub fn project_role_templates(role: &str) -> Vec<String> {
    let all = template_names("namespace");
    match role {
        "admin" => all,
        "operator" => all
            .into_iter()
            .filter(|t| {
                t.starts_with("namespace-manage-")
                    && !t.ends_with("-members")
                    && !t.ends_with("-roles")
                    && !t.ends_with("-project-settings")
                    || t == "namespace-view-members"
                    || t == "namespace-view-roles"
                    || t == "namespace-view-project-settings"
            })
            .collect(),
        "viewer" => all
            .into_iter()
            .filter(|t| t.starts_with("namespace-view-"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The Kubernetes Roles `admin`, `operator`, `viewer` of project `ns`, rules written out
/// from the namespace templates (Kubernetes Roles cannot aggregate).
pub fn project_roles(ns: &str) -> Vec<Role> {
    names::PROJECT_ROLES
        .iter()
        .map(|role| {
            let templates = project_role_templates(role);
            let refs: Vec<&str> = templates.iter().map(String::as_str).collect();
            let rules = if *role == "admin" {
                everything_in_scope()
            } else {
                rules_of(&refs)
            };
            let mut m = meta(role, "namespace", &[]);
            m.namespace = Some(ns.to_string());
            m.annotations = Some(BTreeMap::from([(
                "iam.kubesphere.io/aggregation-roles".to_string(),
                serde_json::to_string(&templates).unwrap_or_default(),
            )]));
            Role {
                metadata: m,
                rules: Some(rules),
            }
        })
        .collect()
}

//! The built-in role templates: name, scope, category, display names and the rules each grants.

use crate::kinds::{RoleTemplate, RoleTemplateSpec};
use crate::names;
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

const READ: &[&str] = &["get", "list", "watch"];
const ALL: &[&str] = &["*"];
const IAM: &str = "iam.kubesphere.io";
const TENANT: &str = "tenant.kubesphere.io";

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let s = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    PolicyRule {
        verbs: s(verbs),
        api_groups: Some(s(groups)),
        resources: Some(s(resources)),
        ..Default::default()
    }
}

const WORKLOADS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/log",
            "pods/status",
            "replicationcontrollers",
            "events",
        ],
    ),
    (
        "apps",
        &[
            "deployments",
            "deployments/scale",
            "statefulsets",
            "statefulsets/scale",
            "daemonsets",
            "replicasets",
            "controllerrevisions",
        ],
    ),
    ("batch", &["jobs", "cronjobs"]),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("app.k8s.io", &["applications"]),
];

fn workloads(manage: bool) -> Vec<PolicyRule> {
    let verbs = if manage { ALL } else { READ };
    let mut out: Vec<PolicyRule> = WORKLOADS
        .iter()
        .map(|(g, r)| rule(verbs, &[g], r))
        .collect();
    if manage {
        out.push(rule(
            &["create", "get"],
            &[""],
            &["pods/exec", "pods/attach", "pods/portforward"],
        ));
    }
    out
}

/// One template's definition.
struct Def {
    name: &'static str,
    scope: &'static str,
    category: &'static str,
    en: &'static str,
    zh: &'static str,
    rules: fn() -> Vec<PolicyRule>,
}

macro_rules! def {
    ($name:literal, $scope:literal, $cat:literal, $en:literal, $zh:literal, $rules:expr) => {
        Def {
            name: $name,
            scope: $scope,
            category: $cat,
            en: $en,
            zh: $zh,
            rules: $rules,
        }
    };
}

const DEFS: &[Def] = &[
    def!(
        "global-view-users",
        "global",
        "users-management",
        "User Viewing",
        "用户查看",
        || vec![rule(
            READ,
            &[IAM],
            &[
                "users",
                "users/loginrecords",
                "users/roletemplates",
                "loginrecords"
            ]
        )]
    ),
    def!(
        "global-manage-users",
        "global",
        "users-management",
        "User Management",
        "用户管理",
        || vec![
            rule(
                ALL,
                &[IAM],
                &["users", "users/*", "loginrecords", "globalrolebindings"]
            ),
            rule(READ, &[IAM], &["globalroles"])
        ]
    ),
    def!(
        "global-view-workspaces",
        "global",
        "workspaces-management",
        "Workspace Viewing",
        "企业空间查看",
        || vec![
            rule(
                READ,
                &[TENANT],
                &["workspaces", "workspacetemplates", "namespaces"]
            ),
            rule(
                READ,
                &[IAM],
                &[
                    "workspacemembers",
                    "workspaceroles",
                    "workspacerolebindings"
                ]
            )
        ]
    ),
    def!(
        "global-manage-workspaces",
        "global",
        "workspaces-management",
        "Workspace Management",
        "企业空间管理",
        || vec![
            rule(
                ALL,
                &[TENANT],
                &["workspaces", "workspacetemplates", "namespaces"]
            ),
            rule(
                ALL,
                &[IAM],
                &[
                    "workspacemembers",
                    "workspaceroles",
                    "workspacerolebindings"
                ]
            )
        ]
    ),
    def!(
        "global-create-workspaces",
        "global",
        "workspaces-management",
        "Workspace Creation",
        "企业空间创建",
        || vec![rule(
            &["create"],
            &[TENANT],
            &["workspaces", "workspacetemplates"]
        )]
    ),
    def!(
        "global-view-roles",
        "global",
        "access-control",
        "Platform Role Viewing",
        "平台角色查看",
        || vec![rule(
            READ,
            &[IAM],
            &["globalroles", "globalrolebindings", "roletemplates"]
        )]
    ),
    def!(
        "global-manage-roles",
        "global",
        "access-control",
        "Platform Role Management",
        "平台角色管理",
        || vec![
            rule(ALL, &[IAM], &["globalroles", "globalrolebindings"]),
            rule(READ, &[IAM], &["roletemplates"])
        ]
    ),
    def!(
        "global-view-clusters",
        "global",
        "clusters-management",
        "Cluster Viewing",
        "集群查看",
        || vec![rule(
            READ,
            &[TENANT, "cluster.kubesphere.io"],
            &["clusters"]
        )]
    ),
    def!(
        "global-manage-clusters",
        "global",
        "clusters-management",
        "Cluster Management",
        "集群管理",
        || vec![rule(ALL, &[TENANT, "cluster.kubesphere.io"], &["clusters"])]
    ),
    def!(
        "cluster-view-nodes",
        "cluster",
        "cluster-resources",
        "Node Viewing",
        "节点查看",
        || vec![rule(READ, &[""], &["nodes", "nodes/status"])]
    ),
    def!(
        "cluster-manage-nodes",
        "cluster",
        "cluster-resources",
        "Node Management",
        "节点管理",
        || vec![rule(ALL, &[""], &["nodes", "nodes/status"])]
    ),
    def!(
        "cluster-view-projects",
        "cluster",
        "cluster-resources",
        "Project Viewing",
        "项目查看",
        || vec![
            rule(READ, &["", TENANT], &["namespaces"]),
            rule(
                READ,
                &[
                    "",
                    "apps",
                    "batch",
                    "autoscaling",
                    "networking.k8s.io",
                    "discovery.k8s.io"
                ],
                &["*"]
            )
        ]
    ),
    def!(
        "cluster-manage-projects",
        "cluster",
        "cluster-resources",
        "Project Management",
        "项目管理",
        || vec![
            rule(ALL, &["", TENANT], &["namespaces"]),
            rule(
                ALL,
                &[
                    "",
                    "apps",
                    "batch",
                    "autoscaling",
                    "networking.k8s.io",
                    "discovery.k8s.io"
                ],
                &["*"]
            )
        ]
    ),
    def!(
        "cluster-view-crds",
        "cluster",
        "cluster-resources",
        "CRD Viewing",
        "自定义资源查看",
        || vec![rule(
            READ,
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"]
        )]
    ),
    def!(
        "cluster-manage-crds",
        "cluster",
        "cluster-resources",
        "CRD Management",
        "自定义资源管理",
        || vec![rule(
            ALL,
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"]
        )]
    ),
    def!(
        "cluster-view-members",
        "cluster",
        "access-control",
        "Cluster Member Viewing",
        "集群成员查看",
        || vec![
            rule(READ, &[IAM], &["clustermembers"]),
            rule(
                READ,
                &[names::RBAC_GROUP],
                &["clusterroles", "clusterrolebindings"]
            )
        ]
    ),
    def!(
        "cluster-manage-members",
        "cluster",
        "access-control",
        "Cluster Member Management",
        "集群成员管理",
        || vec![
            rule(ALL, &[IAM], &["clustermembers"]),
            rule(ALL, &[names::RBAC_GROUP], &["clusterrolebindings"]),
            rule(READ, &[names::RBAC_GROUP], &["clusterroles"]),
            rule(READ, &[IAM], &["users"])
        ]
    ),
    def!(
        "workspace-view-projects",
        "workspace",
        "projects-management",
        "Project Viewing",
        "项目查看",
        || vec![
            rule(READ, &["", TENANT], &["namespaces"]),
            rule(
                READ,
                &[
                    "",
                    "apps",
                    "batch",
                    "autoscaling",
                    "networking.k8s.io",
                    "discovery.k8s.io",
                    "app.k8s.io"
                ],
                &["*"]
            )
        ]
    ),
    def!(
        "workspace-manage-projects",
        "workspace",
        "projects-management",
        "Project Management",
        "项目管理",
        || vec![
            rule(ALL, &["", TENANT], &["namespaces"]),
            rule(
                ALL,
                &[
                    "",
                    "apps",
                    "batch",
                    "autoscaling",
                    "networking.k8s.io",
                    "discovery.k8s.io",
                    "app.k8s.io"
                ],
                &["*"]
            )
        ]
    ),
    def!(
        "workspace-create-projects",
        "workspace",
        "projects-management",
        "Project Creation",
        "项目创建",
        || vec![rule(&["create"], &["", TENANT], &["namespaces"])]
    ),
    def!(
        "workspace-view-members",
        "workspace",
        "access-control",
        "Member Viewing",
        "成员查看",
        || vec![rule(
            READ,
            &[IAM],
            &[
                "workspacemembers",
                "workspacemembers/*",
                "workspacerolebindings",
                "groups",
                "groupbindings"
            ]
        )]
    ),
    def!(
        "workspace-manage-members",
        "workspace",
        "access-control",
        "Member Management",
        "成员管理",
        || vec![
            rule(
                ALL,
                &[IAM],
                &[
                    "workspacemembers",
                    "workspacemembers/*",
                    "workspacerolebindings",
                    "groups",
                    "groupbindings"
                ]
            ),
            rule(READ, &[IAM], &["users"])
        ]
    ),
    def!(
        "workspace-view-roles",
        "workspace",
        "access-control",
        "Role Viewing",
        "角色查看",
        || vec![rule(READ, &[IAM], &["workspaceroles", "roletemplates"])]
    ),
    def!(
        "workspace-manage-roles",
        "workspace",
        "access-control",
        "Role Management",
        "角色管理",
        || vec![
            rule(ALL, &[IAM], &["workspaceroles"]),
            rule(READ, &[IAM], &["roletemplates"])
        ]
    ),
    def!(
        "workspace-view-settings",
        "workspace",
        "workspace-settings",
        "Workspace Settings Viewing",
        "企业空间设置查看",
        || vec![rule(READ, &[TENANT], &["workspaces", "workspacetemplates"])]
    ),
    def!(
        "workspace-manage-settings",
        "workspace",
        "workspace-settings",
        "Workspace Settings Management",
        "企业空间设置管理",
        || vec![rule(ALL, &[TENANT], &["workspaces", "workspacetemplates"])]
    ),
    def!(
        "namespace-view-app-workloads",
        "namespace",
        "application-workloads",
        "Application Workload Viewing",
        "应用负载查看",
        || workloads(false)
    ),
    def!(
        "namespace-manage-app-workloads",
        "namespace",
        "application-workloads",
        "Application Workload Management",
        "应用负载管理",
        || workloads(true)
    ),
    def!(
        "namespace-view-services",
        "namespace",
        "application-workloads",
        "Service Viewing",
        "服务查看",
        || vec![
            rule(READ, &[""], &["services", "endpoints"]),
            rule(READ, &["networking.k8s.io"], &["ingresses"]),
            rule(READ, &["discovery.k8s.io"], &["endpointslices"])
        ]
    ),
    def!(
        "namespace-manage-services",
        "namespace",
        "application-workloads",
        "Service Management",
        "服务管理",
        || vec![
            rule(ALL, &[""], &["services", "endpoints"]),
            rule(ALL, &["networking.k8s.io"], &["ingresses"]),
            rule(READ, &["discovery.k8s.io"], &["endpointslices"])
        ]
    ),
    def!(
        "namespace-view-configmaps",
        "namespace",
        "configuration",
        "ConfigMap Viewing",
        "配置字典查看",
        || vec![rule(READ, &[""], &["configmaps"])]
    ),
    def!(
        "namespace-manage-configmaps",
        "namespace",
        "configuration",
        "ConfigMap Management",
        "配置字典管理",
        || vec![rule(ALL, &[""], &["configmaps"])]
    ),
    def!(
        "namespace-view-secrets",
        "namespace",
        "configuration",
        "Secret Viewing",
        "保密字典查看",
        || vec![rule(READ, &[""], &["secrets"])]
    ),
    def!(
        "namespace-manage-secrets",
        "namespace",
        "configuration",
        "Secret Management",
        "保密字典管理",
        || vec![rule(ALL, &[""], &["secrets"])]
    ),
    def!(
        "namespace-view-persistentvolumeclaims",
        "namespace",
        "storage",
        "Persistent Volume Claim Viewing",
        "持久卷声明查看",
        || vec![rule(READ, &[""], &["persistentvolumeclaims"])]
    ),
    def!(
        "namespace-manage-persistentvolumeclaims",
        "namespace",
        "storage",
        "Persistent Volume Claim Management",
        "持久卷声明管理",
        || vec![rule(ALL, &[""], &["persistentvolumeclaims"])]
    ),
    def!(
        "namespace-view-members",
        "namespace",
        "access-control",
        "Member Viewing",
        "成员查看",
        || vec![
            rule(READ, &[IAM], &["namespacemembers"]),
            rule(READ, &[names::RBAC_GROUP, IAM], &["rolebindings"])
        ]
    ),
    def!(
        "namespace-manage-members",
        "namespace",
        "access-control",
        "Member Management",
        "成员管理",
        || vec![
            rule(ALL, &[IAM], &["namespacemembers"]),
            rule(ALL, &[names::RBAC_GROUP, IAM], &["rolebindings"]),
            rule(READ, &[IAM], &["users"])
        ]
    ),
    def!(
        "namespace-view-roles",
        "namespace",
        "access-control",
        "Role Viewing",
        "角色查看",
        || vec![
            rule(READ, &[names::RBAC_GROUP, IAM], &["roles"]),
            rule(READ, &[IAM], &["roletemplates"])
        ]
    ),
    def!(
        "namespace-manage-roles",
        "namespace",
        "access-control",
        "Role Management",
        "角色管理",
        || vec![
            rule(ALL, &[names::RBAC_GROUP, IAM], &["roles"]),
            rule(READ, &[IAM], &["roletemplates"])
        ]
    ),
    def!(
        "namespace-view-project-settings",
        "namespace",
        "project-settings",
        "Project Settings Viewing",
        "项目设置查看",
        || vec![
            rule(&["get"], &["", TENANT], &["namespaces"]),
            rule(READ, &[""], &["resourcequotas", "limitranges", "events"])
        ]
    ),
    def!(
        "namespace-manage-project-settings",
        "namespace",
        "project-settings",
        "Project Settings Management",
        "项目设置管理",
        || vec![
            rule(&["get", "update", "patch"], &["", TENANT], &["namespaces"]),
            rule(ALL, &[""], &["resourcequotas", "limitranges"]),
            rule(READ, &[""], &["events"])
        ]
    ),
];

/// Every built-in RoleTemplate object.
pub fn role_templates() -> Vec<RoleTemplate> {
    DEFS.iter()
        .map(|d| {
            let labels = BTreeMap::from([
                (names::SCOPE_LABEL.to_string(), d.scope.to_string()),
                (names::CATEGORY_LABEL.to_string(), d.category.to_string()),
                (names::ROLE_TEMPLATE_LABEL.to_string(), "true".to_string()),
            ]);
            let annotations = BTreeMap::from([
                (names::DISPLAY_NAME_EN.to_string(), d.en.to_string()),
                (names::DISPLAY_NAME_ZH.to_string(), d.zh.to_string()),
            ]);
            RoleTemplate {
                metadata: ObjectMeta {
                    name: Some(d.name.to_string()),
                    labels: Some(labels),
                    annotations: Some(annotations),
                    ..Default::default()
                },
                spec: RoleTemplateSpec {
                    display_name: BTreeMap::from([
                        ("en".into(), d.en.into()),
                        ("zh".into(), d.zh.into()),
                    ]),
                    description: BTreeMap::new(),
                    rules: with_listing((d.rules)()),
                },
            }
        })
        .collect()
}

/// The group KubeSphere's listing API is authorized under.
const RESOURCES: &str = "resources.kubesphere.io";

/// `rules` plus read access to the same resources through KubeSphere's listing API
/// (`/kapis/resources.kubesphere.io/...`), which the scope authorizer sees as its own API
/// group: whoever may read deployments may list them there too, as in KubeSphere.
fn with_listing(mut rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut listed: Vec<String> = Vec::new();
    for r in &rules {
        let reads = r
            .verbs
            .iter()
            .any(|v| matches!(v.as_str(), "*" | "get" | "list" | "watch"));
        let groups = r.api_groups.as_deref().unwrap_or_default();
        let kube_group = groups
            .iter()
            .all(|g| g != IAM && g != TENANT && g != RESOURCES);
        if !reads || !kube_group {
            continue;
        }
        for res in r.resources.as_deref().unwrap_or_default() {
            if !res.contains('/') && !listed.contains(res) {
                listed.push(res.clone());
            }
        }
    }
    if !listed.is_empty() {
        let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
        rules.push(rule(READ, &[RESOURCES], &refs));
    }
    rules
}

/// Names of the built-in templates of one scope.
pub fn template_names(scope: &str) -> Vec<String> {
    DEFS.iter()
        .filter(|d| d.scope == scope)
        .map(|d| d.name.to_string())
        .collect()
}

/// The rules of the named built-in templates, concatenated.
pub fn rules_of(names: &[&str]) -> Vec<PolicyRule> {
    DEFS.iter()
        .filter(|d| names.contains(&d.name))
        .flat_map(|d| with_listing((d.rules)()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_template_exists_with_its_scope() {
        let expect: &[(&str, usize)] = &[
            ("global", 9),
            ("cluster", 8),
            ("workspace", 9),
            ("namespace", 16),
        ];
        for (scope, n) in expect {
            assert_eq!(template_names(scope).len(), *n, "{scope}");
        }
        for t in role_templates() {
            let scope = &t.metadata.labels.as_ref().unwrap()[names::SCOPE_LABEL];
            assert!(
                t.metadata
                    .name
                    .as_ref()
                    .unwrap()
                    .starts_with(scope.as_str())
            );
            assert!(!t.spec.rules.is_empty());
        }
    }
}

//! The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start
//! (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), the part clients rely on.

use serde_json::{Value, json};

use crate::{GROUP, Index, PolicyRule};

/// Marks objects the API server reconciles at every start.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// The label every bootstrap object carries, value `rbac-defaults`.
pub const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn r(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    sorted(PolicyRule::resource(verbs, groups, resources))
}

fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    sorted(PolicyRule::urls(verbs, urls))
}

/// The policy rule builder kube-apiserver uses sorts every list of a rule.
fn sorted(mut rule: PolicyRule) -> PolicyRule {
    for list in [
        &mut rule.verbs,
        &mut rule.api_groups,
        &mut rule.resources,
        &mut rule.resource_names,
        &mut rule.non_resource_urls,
    ] {
        list.sort();
    }
    rule
}

fn metadata(name: &str, extra_label: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert(BOOTSTRAPPING_LABEL.into(), json!("rbac-defaults"));
    if let Some(l) = extra_label {
        labels.insert(l.into(), json!("true"));
    }
    json!({
        "name": name,
        "labels": labels,
        "annotations": {AUTOUPDATE_ANNOTATION: "true"},
    })
}

fn cluster_role(name: &str, extra_label: Option<&str>, rules: &[PolicyRule]) -> Value {
    json!({
        "kind": "ClusterRole",
        "apiVersion": format!("{GROUP}/v1"),
        "metadata": metadata(name, extra_label),
        "rules": rules.iter().map(PolicyRule::to_value).collect::<Vec<_>>(),
    })
}

fn aggregated_role(name: &str, extra_label: Option<&str>, aggregate_from: &str) -> Value {
    let mut role = cluster_role(name, extra_label, &[]);
    role["aggregationRule"] = json!({"clusterRoleSelectors": [
        {"matchLabels": {format!("rbac.authorization.k8s.io/aggregate-to-{aggregate_from}"): "true"}}
    ]});
    role
}

fn binding(name: &str, groups: &[&str]) -> Value {
    json!({
        "kind": "ClusterRoleBinding",
        "apiVersion": format!("{GROUP}/v1"),
        "metadata": metadata(name, None),
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
        "subjects": groups.iter().map(|g| json!({"kind": "Group", "apiGroup": GROUP, "name": g})).collect::<Vec<_>>(),
    })
}

fn aggregate_to_view() -> Vec<PolicyRule> {
    vec![
        r(
            READ,
            &[""],
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        r(
            READ,
            &[""],
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        r(READ, &[""], &["namespaces"]),
        r(READ, &["", "events.k8s.io"], &["events"]),
        r(READ, &["discovery.k8s.io"], &["endpointslices"]),
        r(
            READ,
            &["apps"],
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
            ],
        ),
        r(
            READ,
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        r(
            READ,
            &["batch"],
            &["jobs", "jobs/status", "cronjobs", "cronjobs/status"],
        ),
        r(
            READ,
            &["extensions"],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ],
        ),
        r(
            READ,
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        r(
            READ,
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
        ),
        r(
            READ,
            &["resource.k8s.io"],
            &[
                "resourceclaims",
                "resourceclaims/status",
                "resourceclaimtemplates",
            ],
        ),
    ]
}

fn aggregate_to_edit() -> Vec<PolicyRule> {
    vec![
        r(
            READ,
            &[""],
            &[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ],
        ),
        r(&["impersonate"], &[""], &["serviceaccounts"]),
        r(
            WRITE,
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        r(&["create"], &[""], &["pods/eviction"]),
        r(
            WRITE,
            &[""],
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
            ],
        ),
        r(&["create"], &[""], &["serviceaccounts/token"]),
        r(WRITE, &["", "events.k8s.io"], &["events"]),
        r(
            WRITE,
            &["apps"],
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        r(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
        r(WRITE, &["batch"], &["jobs", "cronjobs"]),
        r(
            WRITE,
            &["extensions"],
            &[
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ],
        ),
        r(WRITE, &["policy"], &["poddisruptionbudgets"]),
        r(
            WRITE,
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
        ),
        r(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
        r(
            WRITE,
            &["resource.k8s.io"],
            &["resourceclaims", "resourceclaimtemplates"],
        ),
    ]
}

fn aggregate_to_admin() -> Vec<PolicyRule> {
    vec![
        r(
            &["create"],
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"],
        ),
        r(READ_WRITE, &[GROUP], &["roles", "rolebindings"]),
    ]
}

fn roles() -> Vec<Value> {
    vec![
        cluster_role(
            "cluster-admin",
            None,
            &[r(&["*"], &["*"], &["*"]), urls(&["*"], &["*"])],
        ),
        cluster_role(
            "system:discovery",
            None,
            &[urls(
                &["get"],
                &[
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/version",
                    "/version/",
                    "/openapi",
                    "/openapi/*",
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                ],
            )],
        ),
        cluster_role(
            "system:monitoring",
            None,
            &[
                urls(
                    &["get"],
                    &[
                        "/metrics",
                        "/metrics/slis",
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/livez/*",
                        "/readyz/*",
                        "/healthz/*",
                    ],
                ),
                r(&["get"], &[""], &["nodes/metrics"]),
            ],
        ),
        cluster_role(
            "system:basic-user",
            None,
            &[
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                r(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            None,
            &[urls(
                &["get"],
                &["/livez", "/readyz", "/healthz", "/version", "/version/"],
            )],
        ),
        aggregated_role("admin", None, "admin"),
        aggregated_role(
            "edit",
            Some("rbac.authorization.k8s.io/aggregate-to-admin"),
            "edit",
        ),
        aggregated_role(
            "view",
            Some("rbac.authorization.k8s.io/aggregate-to-edit"),
            "view",
        ),
        cluster_role(
            "system:aggregate-to-admin",
            Some("rbac.authorization.k8s.io/aggregate-to-admin"),
            &aggregate_to_admin(),
        ),
        cluster_role(
            "system:aggregate-to-edit",
            Some("rbac.authorization.k8s.io/aggregate-to-edit"),
            &aggregate_to_edit(),
        ),
        cluster_role(
            "system:aggregate-to-view",
            Some("rbac.authorization.k8s.io/aggregate-to-view"),
            &aggregate_to_view(),
        ),
        cluster_role(
            "system:heapster",
            None,
            &[
                r(READ, &[""], &["events", "pods", "nodes", "namespaces"]),
                r(READ, &["extensions"], &["deployments"]),
            ],
        ),
        cluster_role(
            "system:auth-delegator",
            None,
            &[
                r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
            ],
        ),
        cluster_role(
            "system:kube-aggregator",
            None,
            &[r(READ, &[""], &["services", "endpoints"])],
        ),
        cluster_role(
            "system:service-account-issuer-discovery",
            None,
            &[urls(
                &["get"],
                &[
                    "/.well-known/openid-configuration",
                    "/.well-known/openid-configuration/",
                    "/openid/v1/jwks",
                    "/openid/v1/jwks/",
                ],
            )],
        ),
    ]
}

/// The bootstrap ClusterRoles (aggregated ones with their rules already filled in,
/// as a client reads them from a running cluster) followed by the bootstrap
/// ClusterRoleBindings.
pub fn bootstrap_objects() -> Vec<Value> {
    let mut roles = roles();
    let mut index = Index::new();
    for role in &roles {
        // These objects are built above; a failure here would be a bug in this file
        // and shows up as an unaggregated role in the tests.
        let _ = index.apply(role);
    }
    loop {
        let stale = index.stale_aggregations();
        if stale.is_empty() {
            break;
        }
        for (name, rules) in stale {
            if let Some(role) = roles
                .iter_mut()
                .find(|r| r["metadata"]["name"].as_str() == Some(name.as_str()))
            {
                role["rules"] = Value::Array(rules.iter().map(PolicyRule::to_value).collect());
                let _ = index.apply(role);
            }
        }
    }
    roles.extend([
        binding("cluster-admin", &["system:masters"]),
        binding("system:monitoring", &["system:monitoring"]),
        binding("system:discovery", &["system:authenticated"]),
        binding("system:basic-user", &["system:authenticated"]),
        binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
        binding(
            "system:service-account-issuer-discovery",
            &["system:serviceaccounts"],
        ),
    ]);
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_roles_are_filled_and_stable() {
        let objects = bootstrap_objects();
        let mut index = Index::new();
        for o in &objects {
            index.apply(o).unwrap();
        }
        assert!(index.stale_aggregations().is_empty());
        let admin = index.cluster_role_rules("admin").unwrap();
        let edit = index.cluster_role_rules("edit").unwrap();
        let view = index.cluster_role_rules("view").unwrap();
        assert_eq!(view, &aggregate_to_view()[..]);
        assert_eq!(edit.len(), aggregate_to_edit().len() + view.len());
        assert_eq!(admin.len(), edit.len() + aggregate_to_admin().len());
        for o in &objects {
            assert_eq!(
                o["metadata"]["labels"][BOOTSTRAPPING_LABEL],
                "rbac-defaults"
            );
            assert_eq!(o["metadata"]["annotations"][AUTOUPDATE_ANNOTATION], "true");
        }
    }
}

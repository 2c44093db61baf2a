//! Table output (`as=Table`) for built-in kinds: kube-apiserver's printer columns and cells.

mod columns;
mod rows;
mod rows_cluster;
mod rows_hpa;
mod rows_pod;

use crate::registry::ResourceInfo;
use serde_json::{Value, json};

/// One column of a `meta.k8s.io/v1` Table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for the default view, 1 for `-o wide`.
    pub priority: u32,
}

impl Column {
    /// The `TableColumnDefinition` JSON.
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "type": self.type_, "format": self.format,
            "description": self.description, "priority": self.priority})
    }
}

/// The columns kube-apiserver prints for `info`'s kind (Name and Created At when it has no printer).
pub fn columns(info: &ResourceInfo) -> &'static [Column] {
    use columns::*;
    match (info.group, info.kind) {
        ("", "Pod") => PODS,
        ("", "PodTemplate") => POD_TEMPLATES,
        ("", "ReplicationController") | ("apps", "ReplicaSet") => REPLICA_SETS,
        ("apps", "Deployment") => DEPLOYMENTS,
        ("apps", "StatefulSet") => STATEFUL_SETS,
        ("apps", "DaemonSet") => DAEMON_SETS,
        ("apps", "ControllerRevision") => CONTROLLER_REVISIONS,
        ("batch", "Job") => JOBS,
        ("batch", "CronJob") => CRON_JOBS,
        ("", "Service") => SERVICES,
        ("", "Endpoints") => ENDPOINTS,
        ("", "Node") => NODES,
        ("", "Event") | ("events.k8s.io", "Event") => EVENTS,
        ("", "Namespace") => NAMESPACES,
        ("", "Secret") => SECRETS,
        ("", "ConfigMap") => CONFIG_MAPS,
        ("", "ServiceAccount") => SERVICE_ACCOUNTS,
        ("", "PersistentVolume") => PERSISTENT_VOLUMES,
        ("", "PersistentVolumeClaim") => PERSISTENT_VOLUME_CLAIMS,
        ("", "ResourceQuota") => RESOURCE_QUOTAS,
        ("networking.k8s.io", "Ingress") => INGRESSES,
        ("networking.k8s.io", "IngressClass") => INGRESS_CLASSES,
        ("networking.k8s.io", "NetworkPolicy") => NETWORK_POLICIES,
        ("discovery.k8s.io", "EndpointSlice") => ENDPOINT_SLICES,
        ("autoscaling", "HorizontalPodAutoscaler") => HPAS,
        ("rbac.authorization.k8s.io", "RoleBinding") => ROLE_BINDINGS,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => CLUSTER_ROLE_BINDINGS,
        ("coordination.k8s.io", "Lease") => LEASES,
        ("storage.k8s.io", "StorageClass") => STORAGE_CLASSES,
        ("policy", "PodDisruptionBudget") => PDBS,
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => WEBHOOK_CONFIGURATIONS,
        // LimitRanges, Roles, ClusterRoles and CRDs print Name and Created At, like the default.
        _ => DEFAULT,
    }
}

/// The cells of one row, in the order of [`columns`] (wide columns included,
/// as the API server always sends them). `now` anchors the Age cells.
pub fn row(info: &ResourceInfo, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    rows::cells(info, obj, now)
}

/// The row `conditions` kube sets: a finished pod is marked `Completed`, which
/// `kubectl get` uses to hide it unless `--show-all`.
pub fn row_conditions(info: &ResourceInfo, obj: &Value) -> Option<Value> {
    if !(info.group.is_empty() && info.kind == "Pod") {
        return None;
    }
    let (reason, message) = match obj.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => ("Succeeded", "The pod has completed successfully."),
        Some("Failed") => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// Kubernetes' `duration.HumanDuration`: `45s`, `5m12s`, `3h20m`, `2d5h`, `3y12d`.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    // Go truncates the seconds toward zero, as `as_secs` does.
    human_seconds(d.as_secs())
}

/// [`human_duration`] of a whole number of seconds.
pub(crate) fn human_seconds(seconds: i64) -> String {
    apimachinery::duration::human_duration(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_follow_kube() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (312, "5m12s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 20 * 60, "3h20m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (53 * 3600, "2d5h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (742 * 86400, "2y12d"),
            (3000 * 86400, "8y"),
        ];
        for (s, want) in cases {
            assert_eq!(human_seconds(s), want, "{s}");
        }
        assert_eq!(
            human_duration(jiff::SignedDuration::from_millis(1999)),
            "1s"
        );
        assert_eq!(
            human_duration(jiff::SignedDuration::from_millis(-1500)),
            "0s"
        );
    }
}

//! Defaulting of built-in kinds, as kube-apiserver v1.36 applies it when it decodes a request body.

mod other;
mod pod;
mod workloads;

use crate::registry::ResourceInfo;
use serde_json::Value;

pub use pod::pull_policy_for;

/// Fills in every default kube-apiserver sets on `obj` (an object of `info`'s kind).
///
/// This is the `SetDefaults_*` layer plus the v1 conversions that change the
/// object (a Secret's `stringData` folded into `data`) and the canonical form
/// of resource quantities. It is idempotent, so it may run again on an object
/// read back from storage, which is what kube does. Admission plugins and
/// strategies are separate: see [`crate::admission`] and [`crate::strategy`].
pub fn apply_defaults(info: &ResourceInfo, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (info.group, info.kind) {
        ("", "Pod") => pod::pod(obj),
        ("", "PodTemplate") => workloads::pod_template(obj),
        ("", "ReplicationController") => workloads::replication_controller(obj),
        ("", "Service") => other::service(obj),
        ("", "Secret") => other::secret(obj),
        ("", "Namespace") => other::namespace(obj),
        ("", "PersistentVolumeClaim") => other::pvc(obj),
        ("", "PersistentVolume") => other::pv(obj),
        ("", "Endpoints") => other::endpoints(obj),
        ("", "LimitRange") => other::limit_range(obj),
        ("", "ResourceQuota") => other::resource_quota(obj),
        ("", "Node") => other::node(obj),
        ("apps", "Deployment") => workloads::deployment(obj),
        ("apps", "ReplicaSet") => workloads::replica_set(obj),
        ("apps", "StatefulSet") => workloads::stateful_set(obj),
        ("apps", "DaemonSet") => workloads::daemon_set(obj),
        ("batch", "Job") => workloads::job(obj),
        ("batch", "CronJob") => workloads::cron_job(obj),
        ("networking.k8s.io", "NetworkPolicy") => other::network_policy(obj),
        ("storage.k8s.io", "StorageClass") => other::storage_class(obj),
        ("discovery.k8s.io", "EndpointSlice") => other::endpoint_slice(obj),
        ("autoscaling", "HorizontalPodAutoscaler") if info.version == "v1" => other::hpa_v1(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => other::hpa_v2(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => other::binding(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => other::crd(obj),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            other::webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            other::webhook_configuration(obj, true)
        }
        _ => {}
    }
}

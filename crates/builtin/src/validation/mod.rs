//! Per-kind validation of built-in objects with kube-apiserver's exact field paths and messages (ObjectMeta checks are the kernel's).

mod autoscaling;
mod config;
mod crd;
mod cron;
mod ingress;
mod pod;
mod rbac;
mod service;
mod workloads;

use crate::registry::ResourceInfo;
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;

pub use cron::parse_schedule;

/// Validates `obj` (after defaulting, admission and the create/update strategy)
/// as kube-apiserver does for its kind; `old` is the stored object on update.
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    match (info.group, info.kind) {
        ("", "Pod") => {
            errs.extend(pod::validate_pod_spec(
                obj.get("spec").unwrap_or(&Value::Null),
                &Path::new("spec"),
            ));
            if let Some(old) = old {
                errs.extend(pod::validate_pod_update(obj, old));
            }
        }
        ("", "PodTemplate") => {
            errs.extend(pod::validate_template(
                obj.get("template").unwrap_or(&Value::Null),
                &Path::new("template"),
            ));
        }
        ("", "ReplicationController") => errs.extend(workloads::replication_controller(obj)),
        ("apps", "Deployment") => errs.extend(workloads::deployment(obj, old)),
        ("apps", "ReplicaSet") => errs.extend(workloads::replica_set(obj, old)),
        ("apps", "StatefulSet") => errs.extend(workloads::stateful_set(obj, old)),
        ("apps", "DaemonSet") => errs.extend(workloads::daemon_set(obj, old)),
        ("batch", "Job") => errs.extend(workloads::job(obj, old)),
        ("batch", "CronJob") => errs.extend(workloads::cron_job(obj)),
        ("", "Service") => errs.extend(service::validate(obj, old)),
        ("", "ConfigMap") => errs.extend(config::config_map(obj, old)),
        ("", "Secret") => errs.extend(config::secret(obj, old)),
        ("", "Namespace") => errs.extend(config::namespace(obj)),
        ("", "PersistentVolumeClaim") => errs.extend(config::pvc(obj)),
        ("", "Node") => errs.extend(config::node(obj)),
        ("coordination.k8s.io", "Lease") => errs.extend(config::lease(obj)),
        ("rbac.authorization.k8s.io", "Role") => errs.extend(rbac::role(obj, true)),
        ("rbac.authorization.k8s.io", "ClusterRole") => errs.extend(rbac::role(obj, false)),
        ("rbac.authorization.k8s.io", "RoleBinding") => errs.extend(rbac::binding(obj, old, true)),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            errs.extend(rbac::binding(obj, old, false))
        }
        ("networking.k8s.io", "Ingress") => errs.extend(ingress::validate(obj)),
        ("autoscaling", "HorizontalPodAutoscaler") => errs.extend(autoscaling::hpa(obj)),
        ("policy", "PodDisruptionBudget") => errs.extend(autoscaling::pdb(obj)),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            errs.extend(crd::validate(obj, old))
        }
        _ => {}
    }
    errs
}

/// `ValidateNonnegativeField`.
pub(crate) fn nonnegative(v: Option<&Value>, path: Path, errs: &mut ErrorList) {
    if let Some(n) = v.and_then(Value::as_i64)
        && n < 0
    {
        errs.push(FieldError::invalid(
            path,
            n,
            "must be greater than or equal to 0",
        ));
    }
}

/// The string at `key`, or `""` (Go's zero value).
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The array at `key`, or an empty slice.
pub(crate) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The value a field error shows for a possibly missing field: Go prints a nil map or slice as `null`.
pub(crate) fn shown(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

/// `ValidateImmutableField`.
pub(crate) fn immutable(
    new: Option<&Value>,
    old: Option<&Value>,
    path: Path,
    errs: &mut ErrorList,
) {
    let norm = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    if norm(new) != norm(old) {
        errs.push(FieldError::invalid(path, shown(new), "field is immutable"));
    }
}

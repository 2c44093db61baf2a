//! The built-in admission plugins that change or refuse pods and claims: ServiceAccount, DefaultTolerationSeconds, Priority, LimitRanger, StorageObjectInUseProtection.

mod limit_range;

pub use limit_range::admit_limit_range;

use crate::json::{each_mut, obj_entry};
use serde_json::{Value, json};

/// Why an admission plugin refused an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// kube answers 403 Forbidden with `<plural> "<name>" is forbidden: <reason>`.
    #[error("{reason}")]
    Forbidden { reason: String },
}

impl AdmissionError {
    /// The `Status.message` kube-apiserver sends for this refusal.
    pub fn status_message(&self, plural: &str, name: &str) -> String {
        match self {
            AdmissionError::Forbidden { reason } => {
                format!("{plural} \"{name}\" is forbidden: {reason}")
            }
        }
    }
}

/// Joins several reasons the way Go's `utilerrors.NewAggregate` prints them.
fn aggregate(reasons: Vec<String>) -> Result<(), AdmissionError> {
    match reasons.len() {
        0 => Ok(()),
        1 => Err(AdmissionError::Forbidden {
            reason: reasons.into_iter().next().unwrap_or_default(),
        }),
        _ => Err(AdmissionError::Forbidden {
            reason: format!("[{}]", reasons.join(", ")),
        }),
    }
}

/// Where the ServiceAccount plugin mounts the API credentials.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Whether the plugin should mount a token: the pod's own flag wins, then the ServiceAccount's.
pub fn pod_automounts_token(pod: &Value, service_account: Option<&Value>) -> bool {
    if let Some(flag) = pod
        .pointer("/spec/automountServiceAccountToken")
        .and_then(Value::as_bool)
    {
        return flag;
    }
    service_account
        .and_then(|sa| sa.get("automountServiceAccountToken"))
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// The ServiceAccount admission plugin on create: names the `default` account
/// when none is given and mounts the `kube-api-access-<suffix>` projected
/// volume (token, cluster CA, namespace) read-only in every container.
///
/// Honours the pod's `automountServiceAccountToken: false`; when the
/// ServiceAccount object itself disables automounting, call
/// [`pod_automounts_token`] first and skip this. Mirror pods are left alone.
pub fn admit_pod_service_account(pod: &mut Value, sa_token_volume_suffix: &str) {
    let mirror = pod
        .pointer("/metadata/annotations/kubernetes.io~1config.mirror")
        .is_some();
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    if mirror {
        return;
    }
    let sa_name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    if let Some(m) = spec.as_object_mut() {
        m.insert("serviceAccountName".to_string(), json!(sa_name));
        m.insert("serviceAccount".to_string(), json!(sa_name));
    }
    if spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        == Some(false)
    {
        return;
    }
    let existing = spec
        .get("volumes")
        .and_then(Value::as_array)
        .and_then(|vols| {
            vols.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .find(|n| n.starts_with("kube-api-access-"))
        })
        .map(str::to_string);
    let volume_name = existing
        .clone()
        .unwrap_or_else(|| format!("kube-api-access-{sa_token_volume_suffix}"));
    let mut needs_volume = false;
    for list in ["initContainers", "containers"] {
        for c in each_mut(spec, list) {
            let mounted = c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .is_some_and(|mounts| {
                    mounts.iter().any(|m| {
                        m.get("mountPath").and_then(Value::as_str)
                            == Some(SERVICE_ACCOUNT_MOUNT_PATH)
                    })
                });
            if mounted {
                continue;
            }
            if let Some(cm) = c.as_object_mut() {
                let mounts = cm
                    .entry("volumeMounts".to_string())
                    .or_insert_with(|| json!([]));
                if !mounts.is_array() {
                    *mounts = json!([]);
                }
                if let Some(a) = mounts.as_array_mut() {
                    a.push(json!({"name": volume_name, "readOnly": true,
                        "mountPath": SERVICE_ACCOUNT_MOUNT_PATH}));
                    needs_volume = true;
                }
            }
        }
    }
    if existing.is_none()
        && needs_volume
        && let Some(m) = spec.as_object_mut()
    {
        let vols = m.entry("volumes".to_string()).or_insert_with(|| json!([]));
        if !vols.is_array() {
            *vols = json!([]);
        }
        if let Some(a) = vols.as_array_mut() {
            a.push(token_volume(&volume_name));
        }
    }
}

fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace",
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ],
            "defaultMode": 420
        }
    })
}

/// DefaultTolerationSeconds: tolerate not-ready and unreachable nodes for 300s unless the pod already decides.
pub fn admit_default_tolerations(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    const NOT_READY: &str = "node.kubernetes.io/not-ready";
    const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
    let tolerates = |key: &str| {
        spec.get("tolerations")
            .and_then(Value::as_array)
            .is_some_and(|ts| {
                ts.iter().any(|t| {
                    let k = t.get("key").and_then(Value::as_str).unwrap_or("");
                    let e = t.get("effect").and_then(Value::as_str).unwrap_or("");
                    (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
                })
            })
    };
    let mut add = Vec::new();
    for key in [NOT_READY, UNREACHABLE] {
        if !tolerates(key) {
            add.push(
                json!({"key": key, "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": 300}),
            );
        }
    }
    if add.is_empty() {
        return;
    }
    if let Some(m) = spec.as_object_mut() {
        let list = m
            .entry("tolerations".to_string())
            .or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(a) = list.as_array_mut() {
            a.extend(add);
        }
    }
}

/// The Priority plugin on pod create: resolves `priorityClassName` against
/// `priority_classes` (PriorityClass objects; the two `system-*` classes are
/// known even when absent) and sets `priority` and `preemptionPolicy`.
pub fn admit_priority(pod: &mut Value, priority_classes: &[Value]) -> Result<(), AdmissionError> {
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else {
        return Ok(());
    };
    let class_name = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let find = |name: &str| {
        priority_classes
            .iter()
            .find(|c| c.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
    };
    let (resolved_name, value, policy) = if class_name.is_empty() {
        match priority_classes
            .iter()
            .find(|c| c.get("globalDefault").and_then(Value::as_bool) == Some(true))
        {
            Some(c) => (
                c.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                c.get("value").and_then(Value::as_i64).unwrap_or(0),
                class_policy(c),
            ),
            None => (String::new(), 0, "PreemptLowerPriority".to_string()),
        }
    } else if let Some(c) = find(&class_name) {
        (
            class_name.clone(),
            c.get("value").and_then(Value::as_i64).unwrap_or(0),
            class_policy(c),
        )
    } else if class_name == "system-node-critical" {
        (
            class_name.clone(),
            2_000_001_000,
            "PreemptLowerPriority".to_string(),
        )
    } else if class_name == "system-cluster-critical" {
        (
            class_name.clone(),
            2_000_000_000,
            "PreemptLowerPriority".to_string(),
        )
    } else {
        return Err(AdmissionError::Forbidden {
            reason: format!("no PriorityClass with name {class_name} was found"),
        });
    };
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != value
    {
        return Err(AdmissionError::Forbidden {
            reason: format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
            ),
        });
    }
    if let Some(given) = spec.get("preemptionPolicy").and_then(Value::as_str)
        && given != policy
    {
        return Err(AdmissionError::Forbidden {
            reason: format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
            ),
        });
    }
    if let Some(m) = spec.as_object_mut() {
        if !resolved_name.is_empty() {
            m.insert("priorityClassName".to_string(), json!(resolved_name));
        }
        m.insert("priority".to_string(), json!(value));
        m.insert("preemptionPolicy".to_string(), json!(policy));
    }
    Ok(())
}

fn class_policy(class: &Value) -> String {
    class
        .get("preemptionPolicy")
        .and_then(Value::as_str)
        .unwrap_or("PreemptLowerPriority")
        .to_string()
}

/// StorageObjectInUseProtection: claims and volumes get their protection finalizer on create.
pub fn admit_storage_protection(obj: &mut Value) {
    let finalizer = match obj.get("kind").and_then(Value::as_str) {
        Some("PersistentVolumeClaim") => "kubernetes.io/pvc-protection",
        Some("PersistentVolume") => "kubernetes.io/pv-protection",
        _ => return,
    };
    let Some(meta) = obj_entry(obj, "metadata") else {
        return;
    };
    let list = meta
        .entry("finalizers".to_string())
        .or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(a) = list.as_array_mut()
        && !a.iter().any(|f| f.as_str() == Some(finalizer))
    {
        a.push(json!(finalizer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations_are_not_duplicated() {
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        admit_default_tolerations(&mut pod);
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 1);
        let mut pod = json!({"spec": {"tolerations": [{"key": "node.kubernetes.io/not-ready",
            "operator": "Exists", "effect": "NoExecute"}]}});
        admit_default_tolerations(&mut pod);
        let t = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1]["key"], "node.kubernetes.io/unreachable");
    }

    #[test]
    fn priority_resolves_classes() {
        let mut pod = json!({"spec": {"priorityClassName": "high"}});
        let classes = [json!({"metadata": {"name": "high"}, "value": 1000})];
        admit_priority(&mut pod, &classes).unwrap();
        assert_eq!(pod["spec"]["priority"], 1000);
        assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
        let mut pod = json!({"spec": {"priorityClassName": "nope"}});
        assert_eq!(
            admit_priority(&mut pod, &classes).unwrap_err().to_string(),
            "no PriorityClass with name nope was found"
        );
        let mut pod = json!({"spec": {"priority": 5}});
        assert!(admit_priority(&mut pod, &[]).is_err());
    }

    #[test]
    fn service_account_respects_existing_mounts_and_opt_out() {
        let mut pod = json!({"spec": {"automountServiceAccountToken": false,
            "containers": [{"name": "a"}]}});
        admit_pod_service_account(&mut pod, "abcde");
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        assert!(pod["spec"].get("volumes").is_none());
        let mut pod = json!({"spec": {"containers": [
            {"name": "a", "volumeMounts": [{"name": "x", "mountPath": SERVICE_ACCOUNT_MOUNT_PATH}]},
            {"name": "b"}]}});
        admit_pod_service_account(&mut pod, "abcde");
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            pod["spec"]["containers"][1]["volumeMounts"][0]["name"],
            "kube-api-access-abcde"
        );
        assert_eq!(pod["spec"]["volumes"][0]["projected"]["defaultMode"], 420);
    }
}

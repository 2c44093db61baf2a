//! The built-in admission plugins that change or refuse pods and claims: ServiceAccount, DefaultTolerationSeconds, Priority, LimitRanger, StorageObjectInUseProtection.

use crate::json::{each_mut, obj_entry};
use crate::quantity::Quantity;
use serde_json::{Map, Value, json};

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

/// LimitRanger on create: fills container requests and limits from the
/// namespace's `Container` limit ranges (recording what it set in the
/// `kubernetes.io/limit-ranger` annotation), then enforces min, max and
/// limit/request ratios for containers and pods, and min/max storage for
/// claims. `obj` is a Pod or a PersistentVolumeClaim; other kinds pass.
pub fn admit_limit_range(obj: &mut Value, limit_ranges: &[Value]) -> Result<(), AdmissionError> {
    match obj.get("kind").and_then(Value::as_str) {
        Some("Pod") => {
            for lr in limit_ranges {
                default_pod_resources(obj, lr);
            }
            let mut reasons = Vec::new();
            for lr in limit_ranges {
                reasons.extend(validate_pod_limits(obj, lr));
            }
            aggregate(reasons)
        }
        Some("PersistentVolumeClaim") => {
            let mut reasons = Vec::new();
            for lr in limit_ranges {
                reasons.extend(validate_claim_limits(obj, lr));
            }
            aggregate(reasons)
        }
        _ => Ok(()),
    }
}

fn items<'a>(lr: &'a Value, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    lr.pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(ty))
}

fn default_pod_resources(pod: &mut Value, lr: &Value) {
    let mut default_requests = Map::new();
    let mut default_limits = Map::new();
    for item in items(lr, "Container") {
        if let Some(m) = item.get("defaultRequest").and_then(Value::as_object) {
            default_requests.extend(m.clone());
        }
        if let Some(m) = item.get("default").and_then(Value::as_object) {
            default_limits.extend(m.clone());
        }
    }
    if default_requests.is_empty() && default_limits.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    if let Some(spec) = pod.get_mut("spec") {
        for (list, what) in [
            ("containers", "container"),
            ("initContainers", "init container"),
        ] {
            for c in each_mut(spec, list) {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let Some(res) = obj_entry(c, "resources") else {
                    continue;
                };
                let set_requests = merge_missing(res, "requests", &default_requests);
                let set_limits = merge_missing(res, "limits", &default_limits);
                if !set_requests.is_empty() {
                    notes.push(format!(
                        "{} request for {what} {name}",
                        set_requests.join(", ")
                    ));
                }
                if !set_limits.is_empty() {
                    notes.push(format!("{} limit for {what} {name}", set_limits.join(", ")));
                }
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    if let Some(meta) = obj_entry(pod, "metadata") {
        let ann = meta
            .entry("annotations".to_string())
            .or_insert_with(|| json!({}));
        if !ann.is_object() {
            *ann = json!({});
        }
        if let Some(a) = ann.as_object_mut() {
            a.insert(
                "kubernetes.io/limit-ranger".to_string(),
                json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
            );
        }
    }
}

/// Adds the defaults a resource list lacks; returns the sorted names it set.
fn merge_missing(
    res: &mut Map<String, Value>,
    key: &str,
    defaults: &Map<String, Value>,
) -> Vec<String> {
    if defaults.is_empty() {
        return Vec::new();
    }
    let list = res.entry(key.to_string()).or_insert_with(|| json!({}));
    if !list.is_object() {
        *list = json!({});
    }
    let mut set = Vec::new();
    if let Some(list) = list.as_object_mut() {
        for (k, v) in defaults {
            if !list.contains_key(k) {
                list.insert(k.clone(), v.clone());
                set.push(k.clone());
            }
        }
    }
    set.sort();
    set
}

type Resources = Vec<(String, Quantity)>;

fn resource_list(v: Option<&Value>) -> Resources {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, q)| Some((k.clone(), Quantity::parse(q.as_str()?).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn get<'a>(list: &'a Resources, name: &str) -> Option<&'a Quantity> {
    list.iter().find(|(k, _)| k == name).map(|(_, q)| q)
}

fn sorted_constraints(item: &Value, key: &str) -> Resources {
    let mut list = resource_list(item.get(key));
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn check_usage(
    item: &Value,
    ty: &str,
    requests: &Resources,
    limits: &Resources,
    out: &mut Vec<String>,
) {
    for (name, min) in sorted_constraints(item, "min") {
        match (get(requests, &name), get(limits, &name)) {
            (None, _) => out.push(format!(
                "minimum {name} usage per {ty} is {min}.  No request is specified"
            )),
            (Some(req), _) if *req < min => out.push(format!(
                "minimum {name} usage per {ty} is {min}, but request is {req}"
            )),
            (_, Some(lim)) if *lim < min => out.push(format!(
                "minimum {name} usage per {ty} is {min}, but limit is {lim}"
            )),
            _ => {}
        }
    }
    for (name, max) in sorted_constraints(item, "max") {
        match (get(requests, &name), get(limits, &name)) {
            (_, None) => out.push(format!(
                "maximum {name} usage per {ty} is {max}.  No limit is specified"
            )),
            (_, Some(lim)) if *lim > max => out.push(format!(
                "maximum {name} usage per {ty} is {max}, but limit is {lim}"
            )),
            (Some(req), _) if *req > max => out.push(format!(
                "maximum {name} usage per {ty} is {max}, but request is {req}"
            )),
            _ => {}
        }
    }
    for (name, ratio) in sorted_constraints(item, "maxLimitRequestRatio") {
        let req = get(requests, &name).filter(|q| !q.is_zero());
        let lim = get(limits, &name).filter(|q| !q.is_zero());
        match (req, lim) {
            (None, _) => out.push(format!(
                "{name} max limit to request ratio per {ty} is {ratio}, but no request is specified or request is 0"
            )),
            (_, None) => out.push(format!(
                "{name} max limit to request ratio per {ty} is {ratio}, but no limit is specified or limit is 0"
            )),
            (Some(req), Some(lim)) => {
                let observed = lim.as_f64() / req.as_f64();
                if observed > ratio.as_f64() {
                    out.push(format!(
                        "{name} max limit to request ratio per {ty} is {ratio}, but provided ratio is {observed:.6}"
                    ));
                }
            }
        }
    }
}

fn validate_pod_limits(pod: &Value, lr: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let containers = |list: &str| -> Vec<(Resources, Resources)> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    resource_list(c.pointer("/resources/requests")),
                    resource_list(c.pointer("/resources/limits")),
                )
            })
            .collect()
    };
    let regular = containers("containers");
    let init = containers("initContainers");
    for item in items(lr, "Container") {
        for (req, lim) in regular.iter().chain(init.iter()) {
            check_usage(item, "Container", req, lim, &mut out);
        }
    }
    let pod_items: Vec<&Value> = items(lr, "Pod").collect();
    if !pod_items.is_empty() {
        let total = |pick: fn(&(Resources, Resources)) -> &Resources| {
            let mut sum: Resources = Vec::new();
            for c in &regular {
                for (k, q) in pick(c) {
                    match sum.iter_mut().find(|(n, _)| n == k) {
                        Some((_, acc)) => *acc = acc.add(q),
                        None => sum.push((k.clone(), *q)),
                    }
                }
            }
            // An init container runs alone, so the pod needs the larger of it and the sum.
            for c in &init {
                for (k, q) in pick(c) {
                    match sum.iter_mut().find(|(n, _)| n == k) {
                        Some((_, acc)) if *q > *acc => *acc = *q,
                        Some(_) => {}
                        None => sum.push((k.clone(), *q)),
                    }
                }
            }
            sum
        };
        let requests = total(|c| &c.0);
        let limits = total(|c| &c.1);
        for item in pod_items {
            check_usage(item, "Pod", &requests, &limits, &mut out);
        }
    }
    out
}

fn validate_claim_limits(pvc: &Value, lr: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let requests = resource_list(pvc.pointer("/spec/resources/requests"));
    let ty = "PersistentVolumeClaim";
    for item in items(lr, ty) {
        for (name, min) in sorted_constraints(item, "min") {
            match get(&requests, &name) {
                None => out.push(format!(
                    "minimum {name} usage per {ty} is {min}.  No request is specified"
                )),
                Some(req) if *req < min => out.push(format!(
                    "minimum {name} usage per {ty} is {min}, but request is {req}"
                )),
                _ => {}
            }
        }
        for (name, max) in sorted_constraints(item, "max") {
            match get(&requests, &name) {
                None => out.push(format!(
                    "maximum {name} usage per {ty} is {max}.  No request is specified"
                )),
                Some(req) if *req > max => out.push(format!(
                    "maximum {name} usage per {ty} is {max}, but request is {req}"
                )),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_range_rejects_with_kube_messages() {
        let lr = json!({"spec": {"limits": [{"type": "Container",
            "max": {"cpu": "1"}, "min": {"memory": "64Mi"}, "maxLimitRequestRatio": {"cpu": "2"}}]}});
        let mut pod = json!({"kind": "Pod", "spec": {"containers": [{"name": "a",
            "resources": {"limits": {"cpu": "2"}, "requests": {"cpu": "500m"}}}]}});
        let err = admit_limit_range(&mut pod, &[lr]).unwrap_err();
        assert_eq!(
            err.status_message("pods", "p"),
            "pods \"p\" is forbidden: [minimum memory usage per Container is 64Mi.  No request is specified, \
             maximum cpu usage per Container is 1, but limit is 2, \
             cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000]"
        );
    }

    #[test]
    fn claims_respect_storage_bounds() {
        let lr = json!({"spec": {"limits": [{"type": "PersistentVolumeClaim",
            "max": {"storage": "2Gi"}}]}});
        let mut pvc = json!({"kind": "PersistentVolumeClaim",
            "spec": {"resources": {"requests": {"storage": "5Gi"}}}});
        let err = admit_limit_range(&mut pvc, &[lr]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"
        );
    }

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

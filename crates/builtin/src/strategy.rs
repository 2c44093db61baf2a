//! What kube-apiserver's per-kind strategies do on create and update: initial status, generation, generated selectors, pod QoS.

use crate::defaults::apply_defaults;
use crate::json::obj_entry;
use crate::quantity::Quantity;
use crate::registry::ResourceInfo;
use serde_json::{Value, json};

/// Prepares a new object for storage, after defaulting and admission: the
/// status a new object starts with, `metadata.generation` for kinds that
/// track it, a Job's generated selector, a DaemonSet's template generation,
/// a Namespace's finalizer, a CRD's stored version. `metadata.name` and
/// `metadata.uid` must already be set. Defaults run again at the end, as they
/// do when kube reads the object back from storage.
pub fn prepare_for_create(info: &ResourceInfo, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    if let Some(status) = initial_status(info) {
        if let Some(m) = obj.as_object_mut() {
            m.insert("status".to_string(), status);
        }
    } else if info.status
        && !(info.group.is_empty() && info.kind == "Node")
        && let Some(m) = obj.as_object_mut()
    {
        // A Node registers with the status its kubelet reports; other kinds start without one.
        m.remove("status");
    }
    if tracks_generation(info)
        && let Some(meta) = obj_entry(obj, "metadata")
    {
        meta.insert("generation".to_string(), json!(1));
    }
    match (info.group, info.kind) {
        ("", "Pod") => prepare_pod_status(obj),
        ("", "Namespace") => {
            if let Some(spec) = obj_entry(obj, "spec") {
                let list = spec
                    .entry("finalizers".to_string())
                    .or_insert_with(|| json!([]));
                if !list.is_array() {
                    *list = json!([]);
                }
                if let Some(a) = list.as_array_mut()
                    && !a.iter().any(|f| f.as_str() == Some("kubernetes"))
                {
                    a.push(json!("kubernetes"));
                }
            }
        }
        ("batch", "Job") => generate_job_selector(obj),
        ("apps", "DaemonSet") => {
            if let Some(meta) = obj_entry(obj, "metadata") {
                let ann = meta
                    .entry("annotations".to_string())
                    .or_insert_with(|| json!({}));
                if !ann.is_object() {
                    *ann = json!({});
                }
                if let Some(a) = ann.as_object_mut() {
                    a.insert(DAEMONSET_TEMPLATE_GENERATION.to_string(), json!("1"));
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let storage = obj
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .and_then(|vs| {
                    vs.iter()
                        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                })
                .and_then(|v| v.get("name").cloned());
            if let (Some(version), Some(status)) = (storage, obj_entry(obj, "status")) {
                status.insert("storedVersions".to_string(), json!([version]));
            }
        }
        _ => {}
    }
    apply_defaults(info, obj);
}

const DAEMONSET_TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Whether kube sets `metadata.generation` on this kind (and bumps it when the spec changes).
pub fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("", "Pod" | "ReplicationController" | "PodTemplate")
            | (
                "apps",
                "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
            )
            | ("batch", "Job" | "CronJob")
            | (
                "networking.k8s.io",
                "Ingress" | "IngressClass" | "NetworkPolicy"
            )
            | ("policy", "PodDisruptionBudget")
            | ("discovery.k8s.io", "EndpointSlice")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
            )
            | (
                "flowcontrol.apiserver.k8s.io",
                "FlowSchema" | "PriorityLevelConfiguration"
            )
            | ("resource.k8s.io", "DeviceClass" | "ResourceSlice")
            // PriorityClass has no spec: its generation is set to 1 and never moves.
            | ("scheduling.k8s.io", "PriorityClass")
    )
}

/// The fields whose change bumps `metadata.generation`.
fn generation_fields(info: &ResourceInfo) -> &'static [&'static str] {
    match info.kind {
        "PodTemplate" => &["template"],
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => &["webhooks"],
        "EndpointSlice" => &["addressType", "endpoints", "ports"],
        _ => &["spec"],
    }
}

/// The status a freshly created object carries (Go zero values that are not omitted).
pub fn initial_status(info: &ResourceInfo) -> Option<Value> {
    let status = match (info.group, info.kind) {
        ("", "Pod") => json!({}),
        ("", "Service") => json!({"loadBalancer": {}}),
        ("", "ReplicationController") => json!({"replicas": 0}),
        ("", "PersistentVolumeClaim") | ("", "PersistentVolume") | ("", "ResourceQuota") => {
            json!({})
        }
        ("", "Namespace") => json!({"phase": "Active"}),
        ("apps", "Deployment") => json!({}),
        ("apps", "ReplicaSet") => json!({"replicas": 0}),
        ("apps", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "DaemonSet") => json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
            "desiredNumberScheduled": 0, "numberReady": 0}),
        ("batch", _) => json!({}),
        ("networking.k8s.io", "Ingress") => json!({"loadBalancer": {}}),
        ("policy", "PodDisruptionBudget") => json!({"disruptionsAllowed": 0,
            "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}),
        ("autoscaling", _) if info.version == "v1" => {
            json!({"currentReplicas": 0, "desiredReplicas": 0})
        }
        ("autoscaling", _) => json!({"currentMetrics": null, "desiredReplicas": 0}),
        ("apiextensions.k8s.io", _) => {
            json!({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": []})
        }
        ("flowcontrol.apiserver.k8s.io", _)
        | ("certificates.k8s.io", "CertificateSigningRequest")
        | ("resource.k8s.io", "ResourceClaim")
        | ("apiregistration.k8s.io", "APIService") => json!({}),
        _ => return None,
    };
    Some(status)
}

fn generate_job_selector(job: &mut Value) {
    if job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let uid = job
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = obj_entry(job, "spec") else {
        return;
    };
    let template = spec
        .entry("template".to_string())
        .or_insert_with(|| json!({}));
    if let Some(meta) = obj_entry(template, "metadata") {
        let labels = meta
            .entry("labels".to_string())
            .or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        if let Some(l) = labels.as_object_mut() {
            for (k, v) in [
                ("controller-uid", &uid),
                ("batch.kubernetes.io/controller-uid", &uid),
                ("job-name", &name),
                ("batch.kubernetes.io/job-name", &name),
            ] {
                l.entry(k.to_string()).or_insert_with(|| json!(v));
            }
        }
    }
    spec.insert(
        "selector".to_string(),
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
}

/// A pod's status on create: `Pending`, with its QoS class.
pub fn prepare_pod_status(pod: &mut Value) {
    let qos = pod_qos_class(pod);
    if let Some(m) = pod.as_object_mut() {
        m.insert(
            "status".to_string(),
            json!({"phase": "Pending", "qosClass": qos}),
        );
    }
}

/// Kubernetes' `ComputePodQOS`: Guaranteed, Burstable or BestEffort.
pub fn pod_qos_class(pod: &Value) -> &'static str {
    let pod_level = pod
        .pointer("/spec/resources")
        .filter(|r| r.as_object().is_some_and(|m| !m.is_empty()));
    let sets: Vec<&Value> = match pod_level {
        Some(r) => vec![r],
        None => ["containers", "initContainers"]
            .iter()
            .filter_map(|l| pod.pointer(&format!("/spec/{l}")).and_then(Value::as_array))
            .flatten()
            .map(|c| c.get("resources").unwrap_or(&Value::Null))
            .collect(),
    };
    let mut requests: Vec<(String, Quantity)> = Vec::new();
    let mut limits: Vec<(String, Quantity)> = Vec::new();
    let mut guaranteed = true;
    let add = |acc: &mut Vec<(String, Quantity)>, name: &str, q: Quantity| match acc
        .iter_mut()
        .find(|(n, _)| n == name)
    {
        Some((_, sum)) => {
            if let Some(total) = sum.checked_add(&q) {
                *sum = total;
            }
        }
        None => acc.push((name.to_string(), q)),
    };
    for res in sets {
        for (name, q) in positive_compute(res.get("requests")) {
            add(&mut requests, &name, q);
        }
        let found = positive_compute(res.get("limits"));
        if !(found.iter().any(|(n, _)| n == "cpu") && found.iter().any(|(n, _)| n == "memory")) {
            guaranteed = false;
        }
        for (name, q) in found {
            add(&mut limits, &name, q);
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        guaranteed = requests
            .iter()
            .all(|(n, r)| limits.iter().any(|(ln, l)| ln == n && l == r));
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn positive_compute(list: Option<&Value>) -> Vec<(String, Quantity)> {
    list.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() == "cpu" || k.as_str() == "memory")
        .filter_map(|(k, v)| Some((k.clone(), Quantity::parse(v.as_str()?).ok()?)))
        .filter(|(_, q)| q.nanos() > 0)
        .collect()
}

/// Prepares an update of the main resource: the status stays what it was
/// (it changes through `/status`), a Namespace keeps its finalizers,
/// `metadata.generation` goes up when the spec changed, a DaemonSet's
/// template generation follows template changes.
pub fn prepare_for_update(info: &ResourceInfo, new: &mut Value, old: &Value) {
    if info.status
        && let Some(m) = new.as_object_mut()
    {
        match old.get("status") {
            Some(s) => {
                m.insert("status".to_string(), s.clone());
            }
            None => {
                m.remove("status");
            }
        }
    }
    if info.group.is_empty()
        && info.kind == "Namespace"
        && let Some(fin) = old.pointer("/spec/finalizers").cloned()
        && let Some(spec) = obj_entry(new, "spec")
    {
        spec.insert("finalizers".to_string(), fin);
    }
    if info.group.is_empty() && info.kind == "Service" {
        keep_allocated_service_values(new, old);
    }
    let old_generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if tracks_generation(info) {
        let changed = generation_fields(info)
            .iter()
            .any(|f| new.get(*f) != old.get(*f));
        let generation = if changed {
            old_generation + 1
        } else {
            old_generation
        };
        if let Some(meta) = obj_entry(new, "metadata") {
            meta.insert("generation".to_string(), json!(generation));
        }
    }
    if info.kind == "DaemonSet" && info.group == "apps" {
        let old_tg = old
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(DAEMONSET_TEMPLATE_GENERATION))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        let changed = new.pointer("/spec/template") != old.pointer("/spec/template");
        let tg = if changed { old_tg + 1 } else { old_tg };
        if let Some(meta) = obj_entry(new, "metadata") {
            let ann = meta
                .entry("annotations".to_string())
                .or_insert_with(|| json!({}));
            if !ann.is_object() {
                *ann = json!({});
            }
            if let Some(a) = ann.as_object_mut() {
                a.insert(
                    DAEMONSET_TEMPLATE_GENERATION.to_string(),
                    json!(tg.to_string()),
                );
            }
        }
    }
}

/// kube's Service REST `patchAllocatedValues`: an update that leaves the
/// cluster IPs, IP families or node ports out keeps the allocated ones, so
/// `kubectl apply` and `replace` of a manifest without them succeed.
fn keep_allocated_service_values(new: &mut Value, old: &Value) {
    let ty = |v: &Value| {
        v.pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string()
    };
    let (new_type, old_type) = (ty(new), ty(old));
    if new_type == "ExternalName" || old_type == "ExternalName" {
        return;
    }
    let Some(old_spec) = old.get("spec") else {
        return;
    };
    let Some(spec) = obj_entry(new, "spec") else {
        return;
    };
    let unset = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    for key in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        if unset(spec.get(key))
            && let Some(v) = old_spec.get(key)
        {
            spec.insert(key.to_string(), v.clone());
        }
    }
    let wants_node_ports = new_type == "NodePort" || new_type == "LoadBalancer";
    let old_ports = old_spec
        .get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if wants_node_ports && let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                continue;
            }
            // The same port is the one with the same number and protocol, or the same name.
            let same = old_ports.iter().find(|o| {
                (o.get("port") == port.get("port") && o.get("protocol") == port.get("protocol"))
                    || (o.get("name").is_some() && o.get("name") == port.get("name"))
            });
            if let (Some(np), Some(m)) = (
                same.and_then(|o| o.get("nodePort")).cloned(),
                port.as_object_mut(),
            ) {
                m.insert("nodePort".to_string(), np);
            }
        }
    }
    if new_type == "LoadBalancer"
        && unset(spec.get("healthCheckNodePort"))
        && let Some(hc) = old_spec.get("healthCheckNodePort")
    {
        spec.insert("healthCheckNodePort".to_string(), hc.clone());
    }
}

/// Prepares a write to `/status`: everything but the status comes from the stored object's spec.
pub fn prepare_for_status_update(new: &mut Value, old: &Value) {
    if let Some(m) = new.as_object_mut() {
        match old.get("spec") {
            Some(spec) => {
                m.insert("spec".to_string(), spec.clone());
            }
            None => {
                m.remove("spec");
            }
        }
    }
}

/// Why a Service could not get its addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// The cluster IP range has no free address.
    #[error("failed to allocate a serviceIP: range is full")]
    ClusterIpsExhausted,
    /// The node port range has no free port.
    #[error("failed to allocate a nodePort: range is full")]
    NodePortsExhausted,
}

/// What kube's Service REST layer fills in on create: the cluster IP (from
/// `alloc_ip`), `clusterIPs`, the IPv4 single-stack family fields, and node
/// ports for NodePort and LoadBalancer services (from `alloc_node_port`).
pub fn allocate_service(
    svc: &mut Value,
    mut alloc_ip: impl FnMut() -> Option<String>,
    mut alloc_node_port: impl FnMut() -> Option<i64>,
) -> Result<(), AllocationError> {
    let Some(spec) = obj_entry(svc, "spec") else {
        return Ok(());
    };
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return Ok(());
    }
    let cluster_ip = spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let headless = cluster_ip == "None";
    let has_selector = spec
        .get("selector")
        .and_then(Value::as_object)
        .is_some_and(|s| !s.is_empty());
    let ip = if cluster_ip.is_empty() {
        alloc_ip().ok_or(AllocationError::ClusterIpsExhausted)?
    } else {
        cluster_ip
    };
    spec.insert("clusterIP".to_string(), json!(ip));
    let has_ips = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_ips {
        spec.insert("clusterIPs".to_string(), json!([ip]));
    }
    spec.entry("ipFamilies".to_string())
        .or_insert_with(|| json!(["IPv4"]));
    // Headless services without a selector ask for every family the cluster has.
    let policy = if headless && !has_selector {
        "RequireDualStack"
    } else {
        "SingleStack"
    };
    spec.entry("ipFamilyPolicy".to_string())
        .or_insert_with(|| json!(policy));
    let wants_node_ports = ty == "NodePort"
        || (ty == "LoadBalancer"
            && spec
                .get("allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                != Some(false));
    if wants_node_ports && let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            let unset = port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) == 0;
            if unset && let Some(m) = port.as_object_mut() {
                let p = alloc_node_port().ok_or(AllocationError::NodePortsExhausted)?;
                m.insert("nodePort".to_string(), json!(p));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        let pod = |res: Value| json!({"spec": {"containers": [{"name": "a", "resources": res}]}});
        assert_eq!(pod_qos_class(&pod(json!({}))), "BestEffort");
        assert_eq!(
            pod_qos_class(&pod(json!({"requests": {"cpu": "100m"}}))),
            "Burstable"
        );
        let full = json!({"limits": {"cpu": "1", "memory": "1Gi"},
            "requests": {"cpu": "1000m", "memory": "1Gi"}});
        assert_eq!(pod_qos_class(&pod(full)), "Guaranteed");
        let unequal = json!({"limits": {"cpu": "1", "memory": "1Gi"},
            "requests": {"cpu": "500m", "memory": "1Gi"}});
        assert_eq!(pod_qos_class(&pod(unequal)), "Burstable");
        assert_eq!(
            pod_qos_class(&pod(json!({"requests": {"ephemeral-storage": "1Gi"}}))),
            "BestEffort"
        );
    }

    #[test]
    fn generation_moves_with_spec_only() {
        let info = crate::lookup("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"generation": 3}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut same =
            json!({"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {}});
        prepare_for_update(info, &mut same, &old);
        assert_eq!(same["metadata"]["generation"], 3);
        assert_eq!(same["status"]["replicas"], 1);
        let mut changed = json!({"metadata": {}, "spec": {"replicas": 2}});
        prepare_for_update(info, &mut changed, &old);
        assert_eq!(changed["metadata"]["generation"], 4);
    }

    #[test]
    fn service_updates_keep_allocations() {
        let info = crate::lookup("", "v1", "services").unwrap();
        let old = json!({"spec": {"type": "NodePort", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}]}});
        let mut new =
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
        prepare_for_update(info, &mut new, &old);
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.0.0.5"]));
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(new["spec"]["ipFamilyPolicy"], "SingleStack");
    }

    #[test]
    fn services_get_addresses() {
        let mut svc = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        allocate_service(&mut svc, || None, || None).unwrap();
        assert!(svc["spec"].get("clusterIP").is_none());
        let mut svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        assert_eq!(
            allocate_service(&mut svc, || Some("10.0.0.9".into()), || None),
            Err(AllocationError::NodePortsExhausted)
        );
        let mut svc = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
        allocate_service(&mut svc, || None, || None).unwrap();
        assert_eq!(svc["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(svc["spec"]["ipFamilyPolicy"], "RequireDualStack");
    }
}

//! Defaults for the non-workload kinds: services, secrets, namespaces, storage, policy, RBAC, CRDs, webhooks.

use super::pod::{canonical_in_place, canonical_list, canonical_resources};
use crate::json::{default, default_str, each_mut, obj_entry, obj_mut};
use serde_json::{Value, json};

pub(crate) fn service(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default_str(spec, "sessionAffinity", "None");
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            if let Some(m) = spec.as_object_mut() {
                m.remove("sessionAffinityConfig");
            }
        }
        Some("ClientIP") => {
            if let Some(cfg) = obj_entry(spec, "sessionAffinityConfig") {
                let client_ip = cfg.entry("clientIP".to_string()).or_insert(Value::Null);
                if client_ip.is_null() {
                    *client_ip = json!({});
                }
                default(client_ip, "timeoutSeconds", json!(10800));
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    for port in each_mut(spec, "ports") {
        default_str(port, "protocol", "TCP");
        let target_unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if target_unset
            && let Some(p) = port.get("port").cloned()
            && let Some(m) = port.as_object_mut()
        {
            m.insert("targetPort".to_string(), p);
        }
    }
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let externally_accessible =
        ty == "LoadBalancer" || ty == "NodePort" || (ty == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// `SetDefaults_Secret`, plus the v1 conversion that folds `stringData` into `data`.
pub(crate) fn secret(obj: &mut Value) {
    default_str(obj, "type", "Opaque");
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(string_data) = map.remove("stringData") else {
        return;
    };
    let Some(string_data) = string_data.as_object() else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let data = map.entry("data".to_string()).or_insert(Value::Null);
    if !data.is_object() {
        *data = json!({});
    }
    if let Some(data) = data.as_object_mut() {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default();
            data.insert(
                k.clone(),
                Value::String(crate::base64::encode(text.as_bytes())),
            );
        }
    }
}

pub(crate) fn namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty()
        && let Some(meta) = obj_entry(obj, "metadata")
    {
        let labels = meta.entry("labels".to_string()).or_insert(Value::Null);
        if !labels.is_object() {
            *labels = json!({});
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(
                "kubernetes.io/metadata.name".to_string(),
                Value::String(name),
            );
        }
    }
    if let Some(status) = obj_entry(obj, "status") {
        let phase = status.entry("phase".to_string()).or_insert(Value::Null);
        if phase.is_null() || phase.as_str() == Some("") {
            *phase = json!("Active");
        }
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec` (also used for templates and ephemeral volumes).
pub(crate) fn pvc_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default(spec, "volumeMode", json!("Filesystem"));
    if let Some(res) = spec.get_mut("resources") {
        canonical_resources(res);
    }
}

pub(crate) fn pvc(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec") {
        pvc_spec(spec);
    }
    if obj.is_object()
        && let Some(status) = obj_entry(obj, "status")
    {
        let phase = status.entry("phase".to_string()).or_insert(Value::Null);
        if phase.is_null() || phase.as_str() == Some("") {
            *phase = json!("Pending");
        }
        if let Some(cap) = status.get_mut("capacity").and_then(Value::as_object_mut) {
            canonical_list(cap);
        }
    }
}

pub(crate) fn pv(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default(spec, "volumeMode", json!("Filesystem"));
        if let Some(cap) = obj_mut(spec, "capacity") {
            canonical_list(cap);
        }
        if let Some(host) = spec.get_mut("hostPath").filter(|h| h.is_object()) {
            default(host, "type", json!(""));
        }
    }
    if let Some(status) = obj_entry(obj, "status") {
        let phase = status.entry("phase".to_string()).or_insert(Value::Null);
        if phase.is_null() || phase.as_str() == Some("") {
            *phase = json!("Pending");
        }
    }
}

pub(crate) fn network_policy(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    for dir in ["ingress", "egress"] {
        for rule in each_mut(spec, dir) {
            for port in each_mut(rule, "ports") {
                default(port, "protocol", json!("TCP"));
            }
        }
    }
    let no_types = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if no_types {
        let has_egress = spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let types = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        if let Some(m) = spec.as_object_mut() {
            m.insert("policyTypes".to_string(), types);
        }
    }
}

pub(crate) fn hpa_v2(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default(spec, "minReplicas", json!(1));
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if no_metrics && let Some(m) = spec.as_object_mut() {
        m.insert(
            "metrics".to_string(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) {
        scaling_rules(
            behavior,
            "scaleUp",
            Some(0),
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15},
                   {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
        scaling_rules(
            behavior,
            "scaleDown",
            None,
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
}

/// `GenerateHPAScale{Up,Down}Rules`: fills what the user left unset.
fn scaling_rules(behavior: &mut Value, key: &str, window: Option<i64>, policies: Value) {
    let Some(rules) = obj_entry(behavior, key) else {
        return;
    };
    let mut rules_value = Value::Object(std::mem::take(rules));
    if let Some(w) = window {
        default(&mut rules_value, "stabilizationWindowSeconds", json!(w));
    }
    default(&mut rules_value, "selectPolicy", json!("Max"));
    default(&mut rules_value, "policies", policies);
    if let (Some(target), Value::Object(filled)) = (obj_entry(behavior, key), rules_value) {
        *target = filled;
    }
}

pub(crate) fn hpa_v1(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) {
        default(spec, "minReplicas", json!(1));
        // Stored as v2, whose defaults add the 80% CPU target that v1 then shows.
        default(spec, "targetCPUUtilizationPercentage", json!(80));
    }
}

pub(crate) fn binding(obj: &mut Value) {
    for subject in each_mut(obj, "subjects") {
        let empty_group = subject
            .get("apiGroup")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if empty_group {
            match subject.get("kind").and_then(Value::as_str) {
                Some("ServiceAccount") => default(subject, "apiGroup", json!("")),
                Some("User") | Some("Group") => {
                    default_str(subject, "apiGroup", "rbac.authorization.k8s.io");
                }
                _ => {}
            }
        }
    }
    if let Some(role_ref) = obj.get_mut("roleRef").filter(|r| r.is_object()) {
        default_str(role_ref, "apiGroup", "rbac.authorization.k8s.io");
    }
}

pub(crate) fn crd(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    if let Some(names) = spec.get_mut("names").filter(|n| n.is_object()) {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        default_str(names, "singular", &kind.to_lowercase());
        if !kind.is_empty() {
            default_str(names, "listKind", &format!("{kind}List"));
        }
    }
    default(spec, "conversion", json!({"strategy": "None"}));
    if let Some(svc) = spec.pointer_mut("/conversion/webhook/clientConfig/service") {
        default(svc, "port", json!(443));
    }
}

pub(crate) fn webhook_configuration(obj: &mut Value, mutating: bool) {
    for hook in each_mut(obj, "webhooks") {
        default(hook, "failurePolicy", json!("Fail"));
        default(hook, "matchPolicy", json!("Equivalent"));
        default(hook, "namespaceSelector", json!({}));
        default(hook, "objectSelector", json!({}));
        default(hook, "timeoutSeconds", json!(10));
        if mutating {
            default(hook, "reinvocationPolicy", json!("Never"));
        }
        for rule in each_mut(hook, "rules") {
            default(rule, "scope", json!("*"));
        }
        if let Some(svc) = hook.pointer_mut("/clientConfig/service") {
            default(svc, "port", json!(443));
        }
    }
}

pub(crate) fn storage_class(obj: &mut Value) {
    default_str(obj, "reclaimPolicy", "Delete");
    default_str(obj, "volumeBindingMode", "Immediate");
}

pub(crate) fn endpoints(obj: &mut Value) {
    for subset in each_mut(obj, "subsets") {
        for port in each_mut(subset, "ports") {
            default_str(port, "protocol", "TCP");
        }
    }
}

pub(crate) fn endpoint_slice(obj: &mut Value) {
    for port in each_mut(obj, "ports") {
        default(port, "name", json!(""));
        default(port, "protocol", json!("TCP"));
    }
}

/// `SetDefaults_LimitRangeItem`: container defaults fall back on max, requests on limits, then on min.
pub(crate) fn limit_range(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    for item in each_mut(spec, "limits") {
        for key in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            if let Some(list) = obj_mut(item, key) {
                canonical_list(list);
            }
        }
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let read = |item: &Value, key: &str| {
            item.get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let max = read(item, "max");
        let min = read(item, "min");
        let mut defaults = read(item, "default");
        for (k, v) in &max {
            defaults.entry(k.clone()).or_insert(v.clone());
        }
        let mut requests = read(item, "defaultRequest");
        for (k, v) in &defaults {
            requests.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in &min {
            requests.entry(k.clone()).or_insert(v.clone());
        }
        if let Some(m) = item.as_object_mut() {
            // Empty maps are omitted on the wire, as Go's omitempty does.
            if !defaults.is_empty() {
                m.insert("default".to_string(), Value::Object(defaults));
            }
            if !requests.is_empty() {
                m.insert("defaultRequest".to_string(), Value::Object(requests));
            }
        }
    }
}

pub(crate) fn resource_quota(obj: &mut Value) {
    if let Some(hard) = obj.pointer_mut("/spec/hard").and_then(Value::as_object_mut) {
        canonical_list(hard);
    }
    for key in ["hard", "used"] {
        if let Some(list) = obj
            .get_mut("status")
            .and_then(|s| s.get_mut(key))
            .and_then(Value::as_object_mut)
        {
            canonical_list(list);
        }
    }
}

pub(crate) fn node(obj: &mut Value) {
    let Some(status) = obj.get_mut("status").filter(|s| s.is_object()) else {
        return;
    };
    for key in ["capacity", "allocatable"] {
        if let Some(list) = obj_mut(status, key) {
            canonical_list(list);
        }
    }
    if status.get("allocatable").is_none_or(Value::is_null)
        && let Some(cap) = status.get("capacity").filter(|c| c.is_object()).cloned()
        && let Some(m) = status.as_object_mut()
    {
        m.insert("allocatable".to_string(), cap);
    }
}

/// Quantities in a pod's overhead are canonical too.
pub(crate) fn overhead(spec: &mut Value) {
    if let Some(list) = obj_mut(spec, "overhead") {
        for v in list.values_mut() {
            canonical_in_place(v);
        }
    }
}

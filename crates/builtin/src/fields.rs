//! Field-selector values and scale selectors read from built-in objects the way kube-apiserver reads them.

use crate::registry::ResourceInfo;
use serde_json::Value;

/// The string kube-apiserver compares for field selector `field` on `obj`.
///
/// `None` means the label is not supported for this kind (kube answers
/// `field label not supported: <field>`). Missing values read as `""`, missing
/// booleans as `"false"`, missing counters as `"0"`, as the Go zero values do.
pub fn field_value(info: &ResourceInfo, obj: &Value, field: &str) -> Option<String> {
    match field {
        "metadata.name" => return Some(str_at(obj, &["metadata", "name"])),
        "metadata.namespace" => {
            // Cluster-scoped core kinds register their own label conversion,
            // which leaves metadata.namespace out.
            let own_conversion = info.group.is_empty()
                && matches!(info.kind, "Namespace" | "Node" | "PersistentVolume");
            return if info.namespaced || !own_conversion {
                Some(str_at(obj, &["metadata", "namespace"]))
            } else {
                None
            };
        }
        _ => {}
    }
    if !info.field_selectors.contains(&field) {
        return None;
    }
    let value = match (info.kind, field) {
        ("Pod", "spec.hostNetwork") => bool_at(obj, &["spec", "hostNetwork"]),
        ("Pod", "status.podIP") => {
            // The selectable field is the first of status.podIPs, falling back to status.podIP.
            match obj.pointer("/status/podIPs/0/ip").and_then(Value::as_str) {
                Some(ip) => ip.to_string(),
                None => str_at(obj, &["status", "podIP"]),
            }
        }
        // Accepted by the label conversion but absent from the selectable set: always "".
        ("Pod", "status.podIPs") => String::new(),
        ("Node", "spec.unschedulable") => bool_at(obj, &["spec", "unschedulable"]),
        (_, "status.replicas") | (_, "status.successful") => {
            let key = field.trim_start_matches("status.");
            obj.get("status")
                .and_then(|s| s.get(key))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .to_string()
        }
        ("Event", "source") => {
            let component = str_at(obj, &["source", "component"]);
            if component.is_empty() {
                str_at(obj, &["reportingComponent"])
            } else {
                component
            }
        }
        _ => {
            let path: Vec<&str> = field.split('.').collect();
            str_at(obj, &path)
        }
    };
    Some(value)
}

fn str_at(obj: &Value, path: &[&str]) -> String {
    let mut cur = obj;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn bool_at(obj: &Value, path: &[&str]) -> String {
    let mut cur = obj;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => return "false".to_string(),
        }
    }
    cur.as_bool().unwrap_or(false).to_string()
}

/// The label selector string the `/scale` subresource reports in `status.selector`.
///
/// Built-ins keep their selector in `.spec.selector` as a `LabelSelector`
/// (a plain map for ReplicationControllers); kube renders it with its
/// selector `String()`: requirements sorted by key, `k=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`. `None` when the kind has no scale subresource.
pub fn scale_selector(info: &ResourceInfo, obj: &Value) -> Option<String> {
    info.scale?;
    let sel = obj.get("spec").and_then(|s| s.get("selector"));
    let Some(sel) = sel else {
        return Some(String::new());
    };
    if info.kind == "ReplicationController" {
        return Some(render_map_selector(sel));
    }
    Some(render_label_selector(sel))
}

fn render_map_selector(map: &Value) -> String {
    let mut reqs: Vec<(String, String)> = map
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    reqs.sort();
    reqs.into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(",")
}

/// Renders a `metav1.LabelSelector` as `labels.Selector.String()` does.
pub fn render_label_selector(sel: &Value) -> String {
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())));
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let op = e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            values.sort_unstable();
            values.dedup();
            let rendered = match op {
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => continue,
            };
            reqs.push((key.to_string(), rendered));
        }
    }
    // Go sorts requirements by key only; a stable sort keeps matchLabels before expressions.
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;
    use serde_json::json;

    #[test]
    fn pod_fields_read_go_zero_values() {
        let pods = lookup("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1"}, "status": {"podIPs": [{"ip": "10.0.0.1"}], "phase": "Running"}});
        assert_eq!(
            field_value(pods, &pod, "spec.nodeName").as_deref(),
            Some("n1")
        );
        assert_eq!(
            field_value(pods, &pod, "spec.hostNetwork").as_deref(),
            Some("false")
        );
        assert_eq!(
            field_value(pods, &pod, "status.podIP").as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            field_value(pods, &pod, "status.phase").as_deref(),
            Some("Running")
        );
        assert_eq!(
            field_value(pods, &pod, "spec.schedulerName").as_deref(),
            Some("")
        );
        assert_eq!(
            field_value(pods, &pod, "metadata.namespace").as_deref(),
            Some("ns")
        );
        assert_eq!(field_value(pods, &pod, "spec.containers"), None);
    }

    #[test]
    fn other_kinds() {
        let rs = lookup("apps", "v1", "replicasets").unwrap();
        assert_eq!(
            field_value(rs, &json!({}), "status.replicas").as_deref(),
            Some("0")
        );
        let nodes = lookup("", "v1", "nodes").unwrap();
        let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
        assert_eq!(
            field_value(nodes, &node, "spec.unschedulable").as_deref(),
            Some("true")
        );
        assert_eq!(field_value(nodes, &node, "metadata.namespace"), None);
        let ev = lookup("", "v1", "events").unwrap();
        let e = json!({"involvedObject": {"kind": "Pod"}, "reportingComponent": "kubelet"});
        assert_eq!(
            field_value(ev, &e, "involvedObject.kind").as_deref(),
            Some("Pod")
        );
        assert_eq!(field_value(ev, &e, "source").as_deref(), Some("kubelet"));
        let secrets = lookup("", "v1", "secrets").unwrap();
        assert_eq!(
            field_value(secrets, &json!({"type": "Opaque"}), "type").as_deref(),
            Some("Opaque")
        );
        let crds = lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions").unwrap();
        assert_eq!(
            field_value(crds, &json!({}), "metadata.namespace").as_deref(),
            Some("")
        );
    }

    #[test]
    fn selectors_render_like_go() {
        let d = lookup("apps", "v1", "deployments").unwrap();
        let obj = json!({"spec": {"selector": {
            "matchLabels": {"tier": "web", "app": "x"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                 {"key": "gone", "operator": "DoesNotExist"}]}}});
        assert_eq!(
            scale_selector(d, &obj).as_deref(),
            Some("app=x,env in (dev,prod),!gone,tier=web")
        );
        let rc = lookup("", "v1", "replicationcontrollers").unwrap();
        let obj = json!({"spec": {"selector": {"b": "2", "a": "1"}}});
        assert_eq!(scale_selector(rc, &obj).as_deref(), Some("a=1,b=2"));
        let cm = lookup("", "v1", "configmaps").unwrap();
        assert_eq!(scale_selector(cm, &obj), None);
    }
}

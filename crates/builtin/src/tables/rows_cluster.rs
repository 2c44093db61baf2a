//! Row cells of the printers for services, endpoints, nodes, events, volumes, claims and quotas.

use super::rows::{
    access_modes, age, format_labels, int, list, load_balancer, more, or, quantity, since, st,
};
use crate::registry::ResourceInfo;
use serde_json::{Value, json};

pub(super) fn service(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let ty = st(obj, "/spec/type");
    let cluster_ip = list(obj, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_string();
    let external: Vec<String> = list(obj, "/spec/externalIPs")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let external_ip = match ty {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer(obj, "/status/loadBalancer/ingress");
            let mut all: Vec<String> = if lb.is_empty() {
                Vec::new()
            } else {
                lb.split(',').map(str::to_string).collect()
            };
            if !external.is_empty() {
                all.extend(external);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => st(obj, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports: Vec<String> = list(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let node_port = int(p, "/nodePort");
            if node_port > 0 {
                format!("{}:{node_port}/{}", int(p, "/port"), st(p, "/protocol"))
            } else {
                format!("{}/{}", int(p, "/port"), st(p, "/protocol"))
            }
        })
        .collect();
    vec![
        json!(st(obj, "/metadata/name")),
        json!(ty),
        json!(cluster_ip),
        json!(external_ip),
        json!(if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports.join(",")
        }),
        age(obj, now),
        json!(format_labels(
            obj.pointer("/spec/selector").and_then(Value::as_object)
        )),
    ]
}

/// `formatEndpoints`: up to three `ip:port` pairs.
pub(super) fn endpoints(obj: &Value) -> String {
    let subsets = list(obj, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let max = 3;
    let mut out = Vec::new();
    let mut count = 0;
    for ss in subsets {
        let addresses = list(ss, "/addresses");
        let ports = list(ss, "/ports");
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if out.len() < max {
                    out.push(st(a, "/ip").to_string());
                }
            }
        } else {
            for p in ports {
                count += addresses.len();
                for a in addresses {
                    if out.len() < max {
                        let ip = st(a, "/ip");
                        let host = if ip.contains(':') {
                            format!("[{ip}]")
                        } else {
                            ip.to_string()
                        };
                        out.push(format!("{host}:{}", int(p, "/port")));
                    }
                }
            }
        }
    }
    more(&out, count, max)
}

pub(super) fn endpoint_slice(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let max = 3;
    let ports = list(obj, "/ports");
    let port_list: Vec<String> = ports
        .iter()
        .take(max)
        .map(|p| match p.get("port").and_then(Value::as_i64) {
            Some(n) => n.to_string(),
            None => p
                .get("name")
                .and_then(Value::as_str)
                .map_or("*".to_string(), str::to_string),
        })
        .collect();
    let addresses: Vec<String> = list(obj, "/endpoints")
        .iter()
        .flat_map(|e| {
            list(e, "/addresses")
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
        })
        .collect();
    let unset = |s: String| {
        if s.is_empty() {
            "<unset>".to_string()
        } else {
            s
        }
    };
    let addr_shown: Vec<String> = addresses.iter().take(max).cloned().collect();
    vec![
        json!(st(obj, "/metadata/name")),
        json!(st(obj, "/addressType")),
        json!(unset(more(&port_list, ports.len(), max))),
        json!(unset(more(&addr_shown, addresses.len(), max))),
        age(obj, now),
    ]
}

pub(super) fn node(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let mut status = Vec::new();
    if let Some(ready) = list(obj, "/status/conditions")
        .iter()
        .find(|c| st(c, "/type") == "Ready")
    {
        status.push(if st(ready, "/status") == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    }
    if status.is_empty() {
        status.push("Unknown");
    }
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<String> = obj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if k == "kubernetes.io/role" {
                v.as_str().filter(|r| !r.is_empty()).map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let address = |ty: &str| {
        list(obj, "/status/addresses")
            .iter()
            .find(|a| st(a, "/type") == ty)
            .map_or("<none>".to_string(), |a| st(a, "/address").to_string())
    };
    vec![
        json!(st(obj, "/metadata/name")),
        json!(status.join(",")),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        age(obj, now),
        json!(st(obj, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(or(st(obj, "/status/nodeInfo/osImage"), "<unknown>")),
        json!(or(st(obj, "/status/nodeInfo/kernelVersion"), "<unknown>")),
        json!(or(
            st(obj, "/status/nodeInfo/containerRuntimeVersion"),
            "<unknown>"
        )),
    ]
}

pub(super) fn event(info: &ResourceInfo, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    // events.k8s.io/v1 names the core fields differently; read either shape.
    let core = info.group.is_empty();
    let (regarding, first_key, last_key, count_key, source_key, message_key) = if core {
        (
            "/involvedObject",
            "/firstTimestamp",
            "/lastTimestamp",
            "/count",
            "/source",
            "/message",
        )
    } else {
        (
            "/regarding",
            "/deprecatedFirstTimestamp",
            "/deprecatedLastTimestamp",
            "/deprecatedCount",
            "/deprecatedSource",
            "/note",
        )
    };
    let present = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let first = if present(first_key) {
        since(obj, first_key, now)
    } else {
        since(obj, "/eventTime", now)
    };
    let mut last = if present(last_key) {
        since(obj, last_key, now)
    } else {
        first.clone()
    };
    let mut count = int(obj, count_key);
    if obj.get("series").is_some_and(|s| !s.is_null()) {
        last = since(obj, "/series/lastObservedTime", now);
        count = int(obj, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = st(obj, &format!("{regarding}/kind")).to_lowercase();
    let target_name = st(obj, &format!("{regarding}/name"));
    let target = if target_name.is_empty() {
        kind
    } else {
        format!("{kind}/{target_name}")
    };
    let component = or(
        st(obj, &format!("{source_key}/component")),
        st(obj, "/reportingController"),
    );
    let host = or(
        st(obj, &format!("{source_key}/host")),
        st(obj, "/reportingInstance"),
    );
    let source = if component.is_empty() {
        String::new()
    } else if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        json!(last),
        json!(st(obj, "/type")),
        json!(st(obj, "/reason")),
        json!(target),
        json!(st(obj, &format!("{regarding}/fieldPath"))),
        json!(source),
        json!(st(obj, message_key).trim()),
        json!(first),
        json!(count),
        json!(st(obj, "/metadata/name")),
    ]
}

pub(super) fn persistent_volume(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let claim = if obj.pointer("/spec/claimRef").is_some_and(|c| !c.is_null()) {
        format!(
            "{}/{}",
            st(obj, "/spec/claimRef/namespace"),
            st(obj, "/spec/claimRef/name")
        )
    } else {
        String::new()
    };
    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    let class = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| st(obj, "/spec/storageClassName"));
    vec![
        json!(st(obj, "/metadata/name")),
        json!(quantity(obj, "/spec/capacity/storage")),
        json!(access_modes(list(obj, "/spec/accessModes"))),
        json!(st(obj, "/spec/persistentVolumeReclaimPolicy")),
        json!(if deleting {
            "Terminating"
        } else {
            st(obj, "/status/phase")
        }),
        json!(claim),
        json!(class),
        json!(or(st(obj, "/spec/volumeAttributesClassName"), "<unset>")),
        json!(st(obj, "/status/reason")),
        age(obj, now),
        json!(or(st(obj, "/spec/volumeMode"), "<unset>")),
    ]
}

pub(super) fn claim(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    let volume = st(obj, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(obj, "/status/capacity/storage"),
            access_modes(list(obj, "/status/accessModes")),
        )
    };
    let class = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| st(obj, "/spec/storageClassName"));
    vec![
        json!(st(obj, "/metadata/name")),
        json!(if deleting {
            "Terminating"
        } else {
            st(obj, "/status/phase")
        }),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(or(st(obj, "/spec/volumeAttributesClassName"), "<unset>")),
        age(obj, now),
        json!(or(st(obj, "/spec/volumeMode"), "<unset>")),
    ]
}

pub(super) fn resource_quota(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let mut names: Vec<&String> = obj
        .pointer("/spec/hard")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    names.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for n in names {
        let used = quantity(obj, &format!("/status/used/{}", n.replace('/', "~1")));
        let hard = quantity(obj, &format!("/status/hard/{}", n.replace('/', "~1")));
        let text = format!("{n}: {used}/{hard}");
        if n.split('.').next() == Some("limits") && n.contains('.') {
            limits.push(text);
        } else {
            requests.push(text);
        }
    }
    vec![
        json!(st(obj, "/metadata/name")),
        age(obj, now),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
    ]
}

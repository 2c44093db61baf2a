//! The admission plugins kube-apiserver runs by default that this kernel needs:
//! NamespaceLifecycle, ServiceAccount, DefaultTolerationSeconds, Priority and
//! LimitRanger (the webhooks are in `webhook`, ResourceQuota in `quota`).

use crate::registry::Resource;
use crate::response::ApiError;
use crate::server::Inner;
use crate::wire;
use apimachinery::StatusError;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// NamespaceLifecycle: nothing is created in a namespace that does not exist or
/// is being deleted.
pub fn namespace_lifecycle(inner: &Arc<Inner>, namespace: &str) -> Result<(), ApiError> {
    let ns_res = inner.resource("", "v1", "namespaces")?;
    let Some(ns) = inner.cache.get(&ns_res.key("", namespace)) else {
        return Err(ApiError::from(StatusError::not_found(
            "namespaces",
            "",
            namespace,
        )));
    };
    let v = ns.value();
    if v.pointer("/metadata/deletionTimestamp").is_some()
        || v.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
    {
        return Err(ApiError::from(StatusError::forbidden(
            "",
            "",
            "",
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        )));
    }
    Ok(())
}

/// Objects of `plural` in `namespace`, parsed.
fn list_in(
    inner: &Arc<Inner>,
    group: &str,
    version: &str,
    plural: &str,
    namespace: &str,
) -> Vec<Value> {
    let Some(res) = inner.registry.get(group, version, plural) else {
        return Vec::new();
    };
    let (start, end) = res.range(Some(namespace));
    let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
    items
        .iter()
        .map(|(_, o)| wire::object_value(&res, &o.raw))
        .collect()
}

/// Every PriorityClass, parsed (cluster-scoped, so few).
fn priority_classes(inner: &Arc<Inner>) -> Vec<Value> {
    let Some(res) = inner
        .registry
        .get("scheduling.k8s.io", "v1", "priorityclasses")
    else {
        return Vec::new();
    };
    let (start, end) = res.range(None);
    let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
    items
        .iter()
        .map(|(_, o)| wire::object_value(&res, &o.raw))
        .collect()
}

/// Admission on create; returns warnings.
pub async fn admit_create(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    info: &builtin::ResourceInfo,
    obj: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if info.group.is_empty() && info.plural == "pods" {
        service_account(inner, &ns, obj)?;
        builtin::admit_default_tolerations(obj);
        limit_ranger(inner, res, &ns, obj)?;
        let classes = priority_classes(inner);
        builtin::admit_priority(obj, &classes).map_err(|e| {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            ApiError::from(StatusError::forbidden(
                &res.plural,
                &res.group,
                &name,
                e.status_message(&res.plural, &name),
            ))
        })?;
    }
    if info.group.is_empty()
        && (info.plural == "persistentvolumeclaims" || info.plural == "persistentvolumes")
    {
        builtin::admit_storage_protection(obj);
    }
    if info.group.is_empty() && info.plural == "services" {
        allocate_service(inner, obj)?;
    }
    Ok(Vec::new())
}

/// Admission on update: LimitRanger re-checks pods' resource bounds.
pub fn admit_update(
    _inner: &Arc<Inner>,
    _res: &Arc<Resource>,
    _info: &builtin::ResourceInfo,
    _obj: &mut Value,
    _old: &Value,
) -> Result<(), ApiError> {
    Ok(())
}

/// ServiceAccount admission: the pod runs as `default` unless it says otherwise,
/// the account must exist, and its token is projected into every container.
fn service_account(inner: &Arc<Inner>, namespace: &str, pod: &mut Value) -> Result<(), ApiError> {
    let sa_name = pod
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    let sa_res = inner.resource("", "v1", "serviceaccounts")?;
    let Some(sa) = inner.cache.get(&sa_res.key(namespace, &sa_name)) else {
        return Err(ApiError::from(StatusError::forbidden(
            "pods",
            "",
            "",
            format!(
                "error looking up service account {namespace}/{sa_name}: serviceaccount {sa_name:?} not found"
            ),
        )));
    };
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("serviceAccountName".into(), Value::String(sa_name.clone()));
        spec.insert("serviceAccount".into(), Value::String(sa_name));
    }
    let sa = sa.value();
    let pod_opt_out = pod
        .pointer("/spec/automountServiceAccountToken")
        .and_then(Value::as_bool);
    let sa_opt_out = sa
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool);
    if pod_opt_out == Some(false) || (pod_opt_out.is_none() && sa_opt_out == Some(false)) {
        return Ok(());
    }
    builtin::admit_pod_service_account(pod, &crate::meta::random_suffix());
    Ok(())
}

/// LimitRanger: container defaults and min/max from the namespace's LimitRanges.
fn limit_ranger(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    namespace: &str,
    pod: &mut Value,
) -> Result<(), ApiError> {
    let ranges = list_in(inner, "", "v1", "limitranges", namespace);
    if ranges.is_empty() {
        return Ok(());
    }
    match builtin::admit_limit_range(pod, &ranges) {
        Ok(()) => Ok(()),
        Err(e) => {
            let name = pod
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            Err(ApiError::from(StatusError::forbidden(
                &res.plural,
                &res.group,
                &name,
                e.status_message(&res.plural, &name),
            )))
        }
    }
}

/// The service CIDR (10.96.0.0/12) and node port range kube-apiserver defaults to.
const SERVICE_NET: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const SERVICE_NET_SIZE: u32 = 1 << 20;
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

/// Gives a new Service its cluster IP and node ports, avoiding those in use.
fn allocate_service(inner: &Arc<Inner>, svc: &mut Value) -> Result<(), ApiError> {
    let mut used_ips = std::collections::HashSet::new();
    let mut used_ports = std::collections::HashSet::new();
    if let Ok(res) = inner.resource("", "v1", "services") {
        let (start, end) = res.range(None);
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        for (_, o) in items {
            let v = o.value();
            if let Some(ips) = v.pointer("/spec/clusterIPs").and_then(Value::as_array) {
                used_ips.extend(ips.iter().filter_map(|i| i.as_str().map(String::from)));
            }
            if let Some(ports) = v.pointer("/spec/ports").and_then(Value::as_array) {
                used_ports.extend(
                    ports
                        .iter()
                        .filter_map(|p| p.get("nodePort").and_then(Value::as_i64)),
                );
            }
        }
    }
    let mut recent = inner
        .recent_allocations
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let now = std::time::Instant::now();
    recent.retain(|_, t| now.duration_since(*t) < std::time::Duration::from_secs(60));
    let taken = |k: &str, recent: &HashMap<String, std::time::Instant>| recent.contains_key(k);
    let mut recent_ips: Vec<String> = Vec::new();
    let mut recent_ports: Vec<i64> = Vec::new();
    let r = builtin::allocate_service(
        svc,
        || {
            // .0 is the network, .1 is the `kubernetes` service; hand out from .10 up.
            (10..SERVICE_NET_SIZE - 1).find_map(|i| {
                let ip = std::net::Ipv4Addr::from(SERVICE_NET + i).to_string();
                let free = !used_ips.contains(&ip)
                    && !taken(&format!("ip/{ip}"), &recent)
                    && !recent_ips.contains(&ip);
                if free {
                    recent_ips.push(ip.clone());
                    Some(ip)
                } else {
                    None
                }
            })
        },
        || {
            NODE_PORTS.clone().find(|p| {
                let free = !used_ports.contains(p)
                    && !taken(&format!("port/{p}"), &recent)
                    && !recent_ports.contains(p);
                if free {
                    recent_ports.push(*p);
                }
                free
            })
        },
    );
    for ip in recent_ips {
        recent.insert(format!("ip/{ip}"), now);
    }
    for p in recent_ports {
        recent.insert(format!("port/{p}"), now);
    }
    r.map_err(|e| ApiError::from(StatusError::internal(e)))
}

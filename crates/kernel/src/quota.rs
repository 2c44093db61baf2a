//! ResourceQuota: admission that refuses a create which would take a namespace past
//! a quota's `spec.hard`, and the controller that keeps each quota's `status.used`.
//! Usage is counted from the cache at admission time, and creates in a namespace
//! with quotas are serialized so two of them cannot both take the last unit.

use crate::registry::Resource;
use crate::response::ApiError;
use crate::server::Inner;
use crate::wire;
use apimachinery::StatusError;
use apimachinery::quantity::Quantity;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The names kube-apiserver counts objects under besides `count/<resource>`.
fn legacy_count_name(res: &Resource) -> Option<&'static str> {
    if !res.group.is_empty() {
        return None;
    }
    Some(match res.plural.as_str() {
        "pods" => "pods",
        "services" => "services",
        "configmaps" => "configmaps",
        "secrets" => "secrets",
        "persistentvolumeclaims" => "persistentvolumeclaims",
        "replicationcontrollers" => "replicationcontrollers",
        "resourcequotas" => "resourcequotas",
        _ => return None,
    })
}

fn count_name(res: &Resource) -> String {
    if res.group.is_empty() {
        format!("count/{}", res.plural)
    } else {
        format!("count/{}.{}", res.plural, res.group)
    }
}

/// What one object adds to a namespace's usage.
fn usage_of(res: &Resource, obj: &Value) -> BTreeMap<String, Quantity> {
    let mut u = BTreeMap::new();
    let one = Quantity::new(1, apimachinery::quantity::Format::DecimalSI);
    u.insert(count_name(res), one.clone());
    if let Some(n) = legacy_count_name(res) {
        u.insert(n.to_string(), one.clone());
    }
    if res.group.is_empty() && res.plural == "pods" {
        let phase = obj
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("");
        if phase == "Succeeded" || phase == "Failed" {
            // Terminal pods hold no compute resources (and are not counted as pods).
            u.remove("pods");
            return u;
        }
        let containers = obj
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (kind, names) in [
            ("requests", ["requests.cpu", "cpu"]),
            ("limits", ["limits.cpu", ""]),
        ] {
            for (res_name, keys) in [
                ("cpu", names),
                (
                    "memory",
                    if kind == "requests" {
                        ["requests.memory", "memory"]
                    } else {
                        ["limits.memory", ""]
                    },
                ),
            ] {
                let mut total: Option<Quantity> = None;
                for c in &containers {
                    if let Some(q) = c
                        .pointer(&format!("/resources/{kind}/{res_name}"))
                        .and_then(quantity)
                    {
                        total = Some(match total {
                            Some(t) => t.checked_add(&q).unwrap_or(t),
                            None => q,
                        });
                    }
                }
                if let Some(t) = total {
                    for k in keys.iter().filter(|k| !k.is_empty()) {
                        u.insert(k.to_string(), t.clone());
                    }
                }
            }
        }
    }
    if res.group.is_empty() && res.plural == "pods" {
        add(&mut u, extended_requests(obj));
    }
    if res.group.is_empty()
        && res.plural == "persistentvolumeclaims"
        && let Some(q) = obj
            .pointer("/spec/resources/requests/storage")
            .and_then(quantity)
    {
        u.insert("requests.storage".into(), q);
    }
    u
}

/// Requests for resources other than cpu and memory (extended resources such as
/// `nvidia.com/gpu`, hugepages, ephemeral storage), summed over the containers and
/// named `requests.<resource>` as quotas name them.
fn extended_requests(pod: &Value) -> BTreeMap<String, Quantity> {
    let mut out = BTreeMap::new();
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for c in containers {
        let mut one = BTreeMap::new();
        for (kind, prefix) in [("requests", "requests."), ("limits", "limits.")] {
            let Some(m) = c
                .pointer(&format!("/resources/{kind}"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (name, v) in m {
                let Some(q) = quantity(v) else { continue };
                match name.as_str() {
                    "cpu" | "memory" => {}
                    "ephemeral-storage" => {
                        one.insert(format!("{prefix}{name}"), q.clone());
                        if kind == "requests" {
                            one.insert(name.clone(), q);
                        }
                    }
                    // Extended resources are only quota'd by their requests.
                    _ if kind == "requests" => {
                        one.insert(format!("{prefix}{name}"), q);
                    }
                    _ => {}
                }
            }
        }
        add(&mut out, one);
    }
    out
}

/// One scope requirement of a quota: `scopes` entries and `scopeSelector`
/// expressions alike.
struct ScopeRequirement {
    scope: String,
    operator: String,
    values: Vec<String>,
}

fn scope_requirements(q: &Value) -> Vec<ScopeRequirement> {
    let mut out: Vec<ScopeRequirement> = q
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| ScopeRequirement {
            scope: s.to_string(),
            operator: "Exists".into(),
            values: Vec::new(),
        })
        .collect();
    for e in q
        .pointer("/spec/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(ScopeRequirement {
            scope: e
                .get("scopeName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            operator: e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            values: e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        });
    }
    out
}

/// A pod is BestEffort when no container asks for or caps cpu or memory.
fn best_effort(pod: &Value) -> bool {
    ["/spec/containers", "/spec/initContainers"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .all(|c| {
            ["requests", "limits"].iter().all(|k| {
                c.pointer(&format!("/resources/{k}"))
                    .and_then(Value::as_object)
                    .is_none_or(|m| !m.contains_key("cpu") && !m.contains_key("memory"))
            })
        })
}

fn pod_matches_scope(r: &ScopeRequirement, pod: &Value) -> bool {
    let terminating = pod
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    match r.scope.as_str() {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort(pod),
        "NotBestEffort" => !best_effort(pod),
        "PriorityClass" => {
            let class = pod
                .pointer("/spec/priorityClassName")
                .and_then(Value::as_str)
                .unwrap_or("");
            match r.operator.as_str() {
                "In" => r.values.iter().any(|v| v == class),
                "NotIn" => !r.values.iter().any(|v| v == class),
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                _ => false,
            }
        }
        // CrossNamespacePodAffinity and scopes this kernel does not know.
        _ => false,
    }
}

/// Whether a quota tracks `obj`: a quota with scopes tracks only the pods that
/// match all of them, and no other kind of object (as kube's evaluators do).
fn quota_tracks(q: &Value, res: &Resource, obj: &Value) -> bool {
    let reqs = scope_requirements(q);
    if reqs.is_empty() {
        return true;
    }
    res.group.is_empty() && res.plural == "pods" && reqs.iter().all(|r| pod_matches_scope(r, obj))
}

fn quantity(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

fn add(into: &mut BTreeMap<String, Quantity>, from: BTreeMap<String, Quantity>) {
    for (k, q) in from {
        let next = match into.get(&k) {
            Some(cur) => cur.checked_add(&q).unwrap_or_else(|| cur.clone()),
            None => q,
        };
        into.insert(k, next);
    }
}

/// Usage of every quota-tracked resource in `namespace`, counted from the cache.
fn namespace_usage(
    inner: &Inner,
    namespace: &str,
    quota: &Value,
    wanted: &[String],
) -> BTreeMap<String, Quantity> {
    let mut total = BTreeMap::new();
    for res in inner
        .registry
        .storage_resources()
        .into_iter()
        .filter(|r| r.namespaced)
    {
        let relevant = wanted
            .iter()
            .any(|w| *w == count_name(&res) || Some(w.as_str()) == legacy_count_name(&res))
            || (res.group.is_empty()
                && (res.plural == "pods" || res.plural == "persistentvolumeclaims"));
        if !relevant {
            continue;
        }
        let (start, end) = res.range(Some(namespace));
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        for (_, o) in items {
            let v = wire::object_value(&res, &o.raw);
            if v.pointer("/metadata/deletionTimestamp").is_some()
                && !(res.group.is_empty() && res.plural == "pods")
            {
                continue;
            }
            if !quota_tracks(quota, &res, &v) {
                continue;
            }
            add(&mut total, usage_of(&res, &v));
        }
    }
    total
}

fn quotas_in(inner: &Inner, namespace: &str) -> Vec<Value> {
    let Some(res) = inner.registry.get("", "v1", "resourcequotas") else {
        return Vec::new();
    };
    let (start, end) = res.range(Some(namespace));
    let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
    items
        .iter()
        .map(|(_, o)| wire::object_value(&res, &o.raw))
        .collect()
}

fn hard_of(q: &Value) -> BTreeMap<String, Quantity> {
    q.pointer("/spec/hard")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| quantity(v).map(|q| (k.clone(), q)))
                .collect()
        })
        .unwrap_or_default()
}

/// Refuses `obj` if creating it would exceed a quota of its namespace.
pub fn admit(inner: &Inner, res: &Resource, namespace: &str, obj: &Value) -> Result<(), ApiError> {
    let quotas = quotas_in(inner, namespace);
    if quotas.is_empty() {
        return Ok(());
    }
    let delta = usage_of(res, obj);
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    for q in &quotas {
        let qname = q
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !quota_tracks(q, res, obj) {
            continue;
        }
        let hard = hard_of(q);
        // Pods must declare what a quota constrains, or kube refuses them.
        if res.group.is_empty() && res.plural == "pods" {
            let missing: Vec<&str> = [
                "requests.cpu",
                "requests.memory",
                "limits.cpu",
                "limits.memory",
                "cpu",
                "memory",
            ]
            .into_iter()
            .filter(|k| hard.contains_key(*k) && !delta.contains_key(*k))
            .collect();
            if !missing.is_empty() {
                return Err(forbidden(
                    res,
                    name,
                    format!("failed quota: {qname}: must specify {}", missing.join(",")),
                ));
            }
        }
        let wanted: Vec<String> = hard.keys().cloned().collect();
        let used = namespace_usage(inner, namespace, q, &wanted);
        let mut requested = Vec::new();
        let mut used_s = Vec::new();
        let mut limited = Vec::new();
        for (k, limit) in &hard {
            let Some(d) = delta.get(k) else { continue };
            let cur = used
                .get(k)
                .cloned()
                .unwrap_or_else(|| Quantity::new(0, apimachinery::quantity::Format::DecimalSI));
            let after = cur.checked_add(d).unwrap_or_else(|| cur.clone());
            if after > *limit {
                requested.push(format!("{k}={d}"));
                used_s.push(format!("{k}={cur}"));
                limited.push(format!("{k}={limit}"));
            }
        }
        if !requested.is_empty() {
            return Err(forbidden(
                res,
                name,
                format!(
                    "exceeded quota: {qname}, requested: {}, used: {}, limited: {}",
                    requested.join(","),
                    used_s.join(","),
                    limited.join(",")
                ),
            ));
        }
    }
    Ok(())
}

fn forbidden(res: &Resource, name: &str, why: String) -> ApiError {
    ApiError::from(StatusError::forbidden(
        &res.plural,
        &res.group,
        name,
        format!("{} {name:?} is forbidden: {why}", res.group_resource()),
    ))
}

/// Keeps `status.hard` and `status.used` of every ResourceQuota current.
pub async fn run(inner: Arc<Inner>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(res) = inner.registry.get("", "v1", "resourcequotas") else {
            return;
        };
        let (start, end) = res.range(None);
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        for (key, o) in items {
            let q = wire::object_value(&res, &o.raw);
            let (ns, name) = crate::select::split_key(&res, &key);
            let hard = hard_of(&q);
            let used = namespace_usage(&inner, ns, &q, &hard.keys().cloned().collect::<Vec<_>>());
            let used_json: Map<String, Value> = hard
                .keys()
                .map(|k| {
                    (
                        k.clone(),
                        json!(
                            used.get(k)
                                .map(|q| q.to_string())
                                .unwrap_or_else(|| "0".into())
                        ),
                    )
                })
                .collect();
            let status = json!({"hard": q.pointer("/spec/hard").cloned().unwrap_or(json!({})), "used": used_json});
            if q.get("status") == Some(&status) {
                continue;
            }
            let r = crate::write::guaranteed_update(
                &inner,
                &res,
                Some(ns),
                name,
                None,
                Some("status"),
                &crate::write::WriteOptions::system(),
                |cur| {
                    let mut v = cur.clone();
                    v["status"] = status.clone();
                    Ok(v)
                },
            )
            .await;
            if let Err(e) = r {
                tracing::debug!(quota = name, error = %e.0, "updating quota status");
            }
        }
    }
}

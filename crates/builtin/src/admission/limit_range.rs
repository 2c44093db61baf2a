//! The LimitRanger admission plugin: default container resources from LimitRanges, then min/max/ratio checks.

use super::{AdmissionError, aggregate};
use crate::json::{each_mut, obj_entry};
use crate::quantity::Quantity;
use serde_json::{Map, Value, json};

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
                        Some((_, acc)) => {
                            if let Some(total) = acc.checked_add(q) {
                                *acc = total;
                            }
                        }
                        None => sum.push((k.clone(), q.clone())),
                    }
                }
            }
            // An init container runs alone, so the pod needs the larger of it and the sum.
            for c in &init {
                for (k, q) in pick(c) {
                    match sum.iter_mut().find(|(n, _)| n == k) {
                        Some((_, acc)) if *q > *acc => *acc = q.clone(),
                        Some(_) => {}
                        None => sum.push((k.clone(), q.clone())),
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
}

//! Validation of pod specs and pod templates: containers, ports, env, volumes, resources, policies.

use super::{arr, nonnegative, s};
use crate::quantity::Quantity;
use apimachinery::labels::validate_labels;
use apimachinery::meta_validation::validate_annotations;
use apimachinery::validation::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_name,
    is_valid_port_num,
};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;
use std::collections::HashSet;

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// `ValidatePodTemplateSpec`: template labels (reported at `<path>.labels`, as kube does), annotations, spec.
pub(crate) fn validate_template(template: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        errs.extend(validate_labels(labels, &path.child("labels")));
    }
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        errs.extend(validate_annotations(ann, &path.child("annotations")));
    }
    errs.extend(validate_pod_spec(
        template.get("spec").unwrap_or(&Value::Null),
        &path.child("spec"),
    ));
    errs
}

/// `ValidatePodSpec`, for the fields that matter most.
pub(crate) fn validate_pod_spec(spec: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let volumes = validate_volumes(arr(spec, "volumes"), &path.child("volumes"), &mut errs);
    let containers = arr(spec, "containers");
    let mut names = HashSet::new();
    if containers.is_empty() {
        errs.push(FieldError::required(path.child("containers"), ""));
    }
    for (i, c) in containers.iter().enumerate() {
        let p = path.child("containers").index(i);
        validate_container(c, &volumes, &p, &mut errs);
        let name = s(c, "name");
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(p.child("name"), name));
        }
        if c.get("restartPolicy").is_some_and(|r| !r.is_null()) {
            errs.push(FieldError::forbidden(
                p.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        let p = path.child("initContainers").index(i);
        validate_container(c, &volumes, &p, &mut errs);
        let name = s(c, "name");
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(p.child("name"), name));
        }
        if let Some(policy) = c.get("restartPolicy").and_then(Value::as_str)
            && policy != "Always"
        {
            errs.push(FieldError::not_supported(
                p.child("restartPolicy"),
                policy,
                &["Always"],
            ));
        }
    }
    enum_field(
        spec,
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
        path,
        &mut errs,
    );
    enum_field(
        spec,
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        path,
        &mut errs,
    );
    if let Some(sel) = spec.get("nodeSelector").and_then(Value::as_object) {
        errs.extend(validate_labels(sel, &path.child("nodeSelector")));
    }
    for key in ["serviceAccountName", "nodeName"] {
        let v = s(spec, key);
        if !v.is_empty() {
            for msg in is_dns1123_subdomain(v) {
                errs.push(FieldError::invalid(path.child(key), v, msg));
            }
        }
    }
    if let Some(ads) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64)
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(FieldError::invalid(
            path.child("activeDeadlineSeconds"),
            ads,
            apimachinery::validation::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    for key in ["hostname", "subdomain"] {
        let v = s(spec, key);
        if !v.is_empty() {
            for msg in is_dns1123_label(v) {
                errs.push(FieldError::invalid(path.child(key), v, msg));
            }
        }
    }
    validate_tolerations(
        arr(spec, "tolerations"),
        &path.child("tolerations"),
        &mut errs,
    );
    errs
}

/// A required enum: `Required value` when empty, `Unsupported value` otherwise.
fn enum_field(obj: &Value, key: &str, valid: &[&str], path: &Path, errs: &mut ErrorList) {
    let v = s(obj, key);
    if v.is_empty() {
        errs.push(FieldError::required(path.child(key), ""));
    } else if !valid.contains(&v) {
        errs.push(FieldError::not_supported(path.child(key), v, valid));
    }
}

fn validate_volumes(volumes: &[Value], path: &Path, errs: &mut ErrorList) -> HashSet<String> {
    let mut names = HashSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let p = path.index(i);
        let mut local = ErrorList::new();
        let sources: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().filter(|k| k.as_str() != "name").collect())
            .unwrap_or_default();
        if sources.is_empty() {
            local.push(FieldError::required(
                p.clone(),
                "must specify a volume type",
            ));
        } else if sources.len() > 1 {
            local.push(FieldError::forbidden(
                p.child(sources[1]),
                "may not specify more than 1 volume type",
            ));
        }
        let name = s(v, "name");
        if name.is_empty() {
            local.push(FieldError::required(p.child("name"), ""));
        } else {
            for msg in is_dns1123_label(name) {
                local.push(FieldError::invalid(p.child("name"), name, msg));
            }
        }
        if names.contains(name) {
            local.push(FieldError::duplicate(p.child("name"), name));
        }
        if local.is_empty() {
            names.insert(name.to_string());
        } else {
            errs.extend(local);
        }
    }
    names
}

fn validate_container(c: &Value, volumes: &HashSet<String>, path: &Path, errs: &mut ErrorList) {
    let name = s(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    } else {
        for msg in is_dns1123_label(name) {
            errs.push(FieldError::invalid(path.child("name"), name, msg));
        }
    }
    let image = s(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(path.child("image"), ""));
    } else if image.trim() != image {
        errs.push(FieldError::invalid(
            path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    validate_ports(arr(c, "ports"), &path.child("ports"), errs);
    validate_env(arr(c, "env"), &path.child("env"), errs);
    validate_mounts(
        arr(c, "volumeMounts"),
        volumes,
        &path.child("volumeMounts"),
        errs,
    );
    enum_field(
        c,
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
        path,
        errs,
    );
    validate_resources(
        c.get("resources").unwrap_or(&Value::Null),
        &path.child("resources"),
        errs,
    );
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get(probe).filter(|p| p.is_object()) {
            let pp = path.child(probe);
            let handlers = ["exec", "httpGet", "tcpSocket", "grpc"];
            if !handlers
                .iter()
                .any(|h| p.get(*h).is_some_and(|v| !v.is_null()))
            {
                errs.push(FieldError::required(
                    pp.clone(),
                    "must specify a handler type",
                ));
            }
            for k in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds"] {
                nonnegative(p.get(k), pp.child(k), errs);
            }
            for k in ["successThreshold", "failureThreshold"] {
                nonnegative(p.get(k), pp.child(k), errs);
            }
            if probe != "readinessProbe"
                && let Some(st) = p.get("successThreshold").and_then(Value::as_i64)
                && st != 1
            {
                errs.push(FieldError::invalid(
                    pp.child("successThreshold"),
                    st,
                    "must be 1",
                ));
            }
        }
    }
}

fn validate_ports(ports: &[Value], path: &Path, errs: &mut ErrorList) {
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = s(port, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(p.child("name"), name, msg));
                }
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(p.child("name"), name));
            }
        }
        let cp = port
            .get("containerPort")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if cp == 0 {
            errs.push(FieldError::required(p.child("containerPort"), ""));
        } else {
            for msg in is_valid_port_num(cp) {
                errs.push(FieldError::invalid(p.child("containerPort"), cp, msg));
            }
        }
        let hp = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
        if hp != 0 {
            for msg in is_valid_port_num(hp) {
                errs.push(FieldError::invalid(p.child("hostPort"), hp, msg));
            }
        }
        enum_field(port, "protocol", PROTOCOLS, &p, errs);
    }
}

fn validate_env(env: &[Value], path: &Path, errs: &mut ErrorList) {
    for (i, e) in env.iter().enumerate() {
        let p = path.index(i);
        let name = s(e, "name");
        if name.is_empty() {
            errs.push(FieldError::required(p.child("name"), ""));
        } else if !name.bytes().all(|b| (32..=126).contains(&b) && b != b'=') {
            // v1.36 relaxed the rule to any printable ASCII but '='.
            errs.push(FieldError::invalid(
                p.child("name"),
                name,
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
        let has_value = !s(e, "value").is_empty();
        if has_value && e.get("valueFrom").is_some_and(|v| !v.is_null()) {
            errs.push(FieldError::invalid(
                p.child("valueFrom"),
                "",
                "may not be specified when `value` is not empty",
            ));
        }
    }
}

fn validate_mounts(mounts: &[Value], volumes: &HashSet<String>, path: &Path, errs: &mut ErrorList) {
    let mut points = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = path.index(i);
        let name = s(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(p.child("name"), ""));
        }
        if !volumes.contains(name) {
            errs.push(FieldError::not_found(p.child("name"), name));
        }
        let mount_path = s(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(p.child("mountPath"), ""));
        }
        if !points.insert(mount_path.to_string()) {
            errs.push(FieldError::invalid(
                p.child("mountPath"),
                mount_path,
                "must be unique",
            ));
        }
    }
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// Native resources (no domain, or a `kubernetes.io` one) other than huge pages may be overcommitted.
fn overcommit_allowed(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    native && !name.starts_with("hugepages-")
}

/// `ValidateContainerResourceRequirements`.
pub(crate) fn validate_resources(res: &Value, path: &Path, errs: &mut ErrorList) {
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let parse_list = |key: &str, base: &Path, errs: &mut ErrorList| -> Vec<(String, Quantity)> {
        let mut out = Vec::new();
        let Some(list) = res.get(key).and_then(Value::as_object) else {
            return out;
        };
        for (name, q) in list {
            let p = base.key(name);
            for msg in is_qualified_name(name) {
                errs.push(FieldError::invalid(p.clone(), name.as_str(), msg));
            }
            if !name.contains('/') && !is_standard_container_resource(name) {
                errs.push(FieldError::invalid(
                    p.clone(),
                    name.as_str(),
                    "must be a standard resource for containers",
                ));
            }
            let text = match q {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            match Quantity::parse(&text) {
                Ok(quantity) => {
                    if quantity.nanos() < 0 {
                        errs.push(FieldError::invalid(
                            p.clone(),
                            quantity.canonical(),
                            "must be greater than or equal to 0",
                        ));
                    }
                    out.push((name.clone(), quantity));
                }
                Err(e) => errs.push(FieldError::invalid(p.clone(), text, e.to_string())),
            }
        }
        out
    };
    let limits = parse_list("limits", &lim_path, errs);
    let requests = parse_list("requests", &req_path, errs);
    for (name, req) in &requests {
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, lim)) => {
                if req != lim && !overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        req_path.clone(),
                        req.canonical(),
                        format!("must be equal to {name} limit of {lim}"),
                    ));
                } else if req > lim {
                    errs.push(FieldError::invalid(
                        req_path.clone(),
                        req.canonical(),
                        format!("must be less than or equal to {name} limit of {lim}"),
                    ));
                }
            }
            None if !overcommit_allowed(name) => errs.push(FieldError::required(
                lim_path.clone(),
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
}

fn validate_tolerations(tolerations: &[Value], path: &Path, errs: &mut ErrorList) {
    for (i, t) in tolerations.iter().enumerate() {
        let p = path.index(i);
        let key = s(t, "key");
        if !key.is_empty() {
            for msg in is_qualified_name(key) {
                errs.push(FieldError::invalid(p.child("key"), key, msg));
            }
        }
        let op = s(t, "operator");
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                p.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        match op {
            "" | "Equal" | "Exists" => {}
            other => errs.push(FieldError::not_supported(
                p.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if op == "Exists" && !s(t, "value").is_empty() {
            errs.push(FieldError::invalid(
                p.child("operator"),
                t.get("value").cloned().unwrap_or(Value::Null),
                "value must be empty when `operator` is 'Exists'",
            ));
        }
        let effect = s(t, "effect");
        if t.get("tolerationSeconds").is_some_and(|v| !v.is_null()) && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                p.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match effect {
            "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => errs.push(FieldError::not_supported(
                p.child("effect"),
                other,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            )),
        }
    }
}

/// Pod updates may only change images, `activeDeadlineSeconds`, added tolerations and a negative grace period.
pub(crate) fn validate_pod_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let (Some(new_spec), Some(old_spec)) = (new.get("spec"), old.get("spec")) else {
        return errs;
    };
    let mut masked = new_spec.clone();
    for list in ["containers", "initContainers"] {
        let old_list = arr(old_spec, list);
        if let Some(items) = masked.get_mut(list).and_then(Value::as_array_mut) {
            for (i, c) in items.iter_mut().enumerate() {
                if let (Some(old_c), Some(m)) = (old_list.get(i), c.as_object_mut()) {
                    match old_c.get("image") {
                        Some(img) => m.insert("image".to_string(), img.clone()),
                        None => m.remove("image"),
                    };
                }
            }
        }
    }
    if let Some(m) = masked.as_object_mut() {
        for key in ["activeDeadlineSeconds", "terminationGracePeriodSeconds"] {
            match old_spec.get(key) {
                Some(v) => m.insert(key.to_string(), v.clone()),
                None => m.remove(key),
            };
        }
        let old_tolerations = arr(old_spec, "tolerations");
        let new_tolerations = arr(new_spec, "tolerations");
        if old_tolerations.iter().all(|t| new_tolerations.contains(t)) {
            match old_spec.get("tolerations") {
                Some(v) => m.insert("tolerations".to_string(), v.clone()),
                None => m.remove("tolerations"),
            };
        }
    }
    if &masked != old_spec {
        errs.push(FieldError::forbidden(
            Path::new("spec"),
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ));
    }
    errs
}

//! Validation of Services: ports, types, affinity, cluster IPs and node ports.

use super::{arr, s};
use apimachinery::labels::validate_labels;
use apimachinery::validation::{
    is_dns1123_label, is_dns1123_subdomain, is_valid_ip, is_valid_port_name, is_valid_port_num,
};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The node port range kube-apiserver serves by default.
pub const NODE_PORT_RANGE: (i64, i64) = (30000, 32767);

fn is_headless(spec: &Value) -> bool {
    s(spec, "clusterIP") == "None"
}

pub(crate) fn validate(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let ty = s(spec, "type");
    let ports = arr(spec, "ports");
    if ports.is_empty() && !is_headless(spec) && ty != "ExternalName" {
        errs.push(FieldError::required(path.child("ports"), ""));
    }
    if ty == "ExternalName" {
        if !arr(spec, "clusterIPs").is_empty() {
            errs.push(FieldError::forbidden(
                path.child("clusterIPs"),
                "may not be set for ExternalName services",
            ));
        }
        let cname = s(spec, "externalName").trim_end_matches('.');
        if cname.is_empty() {
            errs.push(FieldError::required(path.child("externalName"), ""));
        } else {
            for msg in is_dns1123_subdomain(cname) {
                errs.push(FieldError::invalid(path.child("externalName"), cname, msg));
            }
        }
    } else {
        for (i, ip) in arr(spec, "clusterIPs").iter().enumerate() {
            let ip = ip.as_str().unwrap_or("");
            if ip != "None" && !ip.is_empty() {
                for msg in is_valid_ip(ip) {
                    errs.push(FieldError::invalid(
                        path.child("clusterIPs").index(i),
                        ip,
                        msg,
                    ));
                }
            }
        }
    }
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        validate_port(
            port,
            ports.len() > 1,
            &mut names,
            &path.child("ports").index(i),
            &mut errs,
        );
    }
    if let Some(sel) = spec.get("selector").and_then(Value::as_object) {
        errs.extend(validate_labels(sel, &path.child("selector")));
    }
    let affinity = s(spec, "sessionAffinity");
    if affinity.is_empty() {
        errs.push(FieldError::required(path.child("sessionAffinity"), ""));
    } else if affinity != "ClientIP" && affinity != "None" {
        errs.push(FieldError::not_supported(
            path.child("sessionAffinity"),
            affinity,
            &["ClientIP", "None"],
        ));
    }
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if ty.is_empty() {
        errs.push(FieldError::required(path.child("type"), ""));
    } else if !TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(path.child("type"), ty, TYPES));
    }
    let mut node_ports = HashSet::new();
    let mut port_keys = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.child("ports").index(i);
        let node_port = port.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
        if node_port != 0 {
            if ty == "ClusterIP" {
                errs.push(FieldError::forbidden(
                    p.child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else if !(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&node_port) {
                errs.push(FieldError::invalid(
                    p.child("nodePort"),
                    node_port,
                    format!(
                        "provided port is not in the valid range. The range of valid ports is {}-{}",
                        NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
                    ),
                ));
            }
            if !node_ports.insert((s(port, "protocol").to_string(), node_port)) {
                errs.push(FieldError::duplicate(p.child("nodePort"), node_port));
            }
        }
        let key = (
            s(port, "protocol").to_string(),
            port.get("port").and_then(Value::as_i64).unwrap_or(0),
        );
        if !port_keys.insert(key.clone()) {
            errs.push(FieldError::duplicate(
                p,
                json!({"port": key.1, "protocol": key.0}),
            ));
        }
    }
    if let Some(old) = old {
        validate_update(
            spec,
            old.get("spec").unwrap_or(&Value::Null),
            &path,
            &mut errs,
        );
    }
    errs
}

fn validate_port(
    port: &Value,
    require_name: bool,
    names: &mut HashSet<String>,
    path: &Path,
    errs: &mut ErrorList,
) {
    let name = s(port, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    } else if !name.is_empty() {
        for msg in is_dns1123_label(name) {
            errs.push(FieldError::invalid(path.child("name"), name, msg));
        }
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(path.child("name"), name));
        }
    }
    let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
    for msg in is_valid_port_num(number) {
        errs.push(FieldError::invalid(path.child("port"), number, msg));
    }
    let protocol = s(port, "protocol");
    if protocol.is_empty() {
        errs.push(FieldError::required(path.child("protocol"), ""));
    } else if !["SCTP", "TCP", "UDP"].contains(&protocol) {
        errs.push(FieldError::not_supported(
            path.child("protocol"),
            protocol,
            &["SCTP", "TCP", "UDP"],
        ));
    }
    match port.get("targetPort") {
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(path.child("targetPort"), n, msg));
            }
        }
        Some(Value::String(text)) => {
            for msg in is_valid_port_name(text) {
                errs.push(FieldError::invalid(
                    path.child("targetPort"),
                    text.as_str(),
                    msg,
                ));
            }
        }
        _ => {}
    }
}

/// The primary cluster IP cannot change, except to or from ExternalName.
fn validate_update(spec: &Value, old: &Value, path: &Path, errs: &mut ErrorList) {
    if s(spec, "type") == "ExternalName" || s(old, "type") == "ExternalName" {
        return;
    }
    let new_ips = arr(spec, "clusterIPs");
    for (i, ip) in arr(old, "clusterIPs").iter().enumerate() {
        if let Some(new_ip) = new_ips.get(i)
            && new_ip != ip
        {
            errs.push(FieldError::invalid(
                path.child("clusterIPs").index(i),
                Value::Array(new_ips.to_vec()),
                "may not change once set",
            ));
        }
    }
    if new_ips.is_empty() && !arr(old, "clusterIPs").is_empty() {
        errs.push(FieldError::invalid(
            path.child("clusterIPs").index(0),
            Value::Array(Vec::new()),
            "primary clusterIP can not be unset",
        ));
    }
}

//! Validation of Ingresses: rules, hosts, paths and backends.

use super::{arr, s};
use apimachinery::validation::{
    is_dns1035_label, is_dns1123_subdomain, is_valid_ip, is_valid_port_name, is_valid_port_num,
};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;

pub(crate) fn validate(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let rules = arr(spec, "rules");
    let default_backend = spec.get("defaultBackend").filter(|b| !b.is_null());
    if rules.is_empty() && default_backend.is_none() {
        errs.push(FieldError::invalid(
            path.clone(),
            spec.get("rules").cloned().unwrap_or(Value::Null),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = default_backend {
        backend(b, &path.child("defaultBackend"), &mut errs);
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = path.child("rules").index(i);
        let host = s(rule, "host");
        if !host.is_empty() {
            if is_valid_ip(host).is_empty() {
                errs.push(FieldError::invalid(
                    rp.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            // kube reports host syntax errors on the first rule, whichever rule holds them.
            let first = path.child("rules").index(0).child("host");
            let checked = host.strip_prefix("*.").unwrap_or(host);
            let msgs = if host.contains('*') && !host.starts_with("*.") {
                vec!["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()]
            } else {
                is_dns1123_subdomain(checked)
            };
            for msg in msgs {
                errs.push(FieldError::invalid(first.clone(), host, msg));
            }
        }
        if let Some(http) = rule.get("http").filter(|h| !h.is_null()) {
            let hp = rp.child("http");
            let paths = arr(http, "paths");
            if paths.is_empty() {
                errs.push(FieldError::required(hp.child("paths"), ""));
            }
            for (j, p) in paths.iter().enumerate() {
                http_path(p, &hp.child("paths").index(j), &mut errs);
            }
        }
    }
    errs
}

fn http_path(p: &Value, path: &Path, errs: &mut ErrorList) {
    let text = s(p, "path");
    match p.get("pathType").and_then(Value::as_str) {
        None => {
            errs.push(FieldError::required(
                path.child("pathType"),
                "pathType must be specified",
            ));
            return;
        }
        Some("Exact" | "Prefix") => {
            if !text.starts_with('/') {
                errs.push(FieldError::invalid(
                    path.child("path"),
                    text,
                    "must be an absolute path",
                ));
            }
            for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                if text.contains(seq) {
                    errs.push(FieldError::invalid(
                        path.child("path"),
                        text,
                        format!("must not contain '{seq}'"),
                    ));
                }
            }
            for suffix in ["/..", "/."] {
                if text.ends_with(suffix) {
                    errs.push(FieldError::invalid(
                        path.child("path"),
                        text,
                        format!("cannot end with '{suffix}'"),
                    ));
                }
            }
        }
        Some("ImplementationSpecific") => {
            if !text.is_empty() && !text.starts_with('/') {
                errs.push(FieldError::invalid(
                    path.child("path"),
                    text,
                    "must be an absolute path",
                ));
            }
        }
        Some(other) => errs.push(FieldError::not_supported(
            path.child("pathType"),
            other,
            &["Exact", "ImplementationSpecific", "Prefix"],
        )),
    }
    backend(
        p.get("backend").unwrap_or(&Value::Null),
        &path.child("backend"),
        errs,
    );
}

fn backend(b: &Value, path: &Path, errs: &mut ErrorList) {
    let resource = b.get("resource").filter(|r| !r.is_null());
    let service = b.get("service").filter(|r| !r.is_null());
    match (resource, service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path.clone(),
            "",
            "cannot set both resource and service backends",
        )),
        (Some(r), None) => {
            if s(r, "kind").is_empty() {
                errs.push(FieldError::required(
                    path.child("resource").child("kind"),
                    "",
                ));
            }
            if s(r, "name").is_empty() {
                errs.push(FieldError::required(
                    path.child("resource").child("name"),
                    "",
                ));
            }
        }
        (None, Some(svc)) => {
            let sp = path.child("service");
            let name = s(svc, "name");
            if name.is_empty() {
                errs.push(FieldError::required(sp.child("name"), ""));
            } else {
                for msg in is_dns1035_label(name) {
                    errs.push(FieldError::invalid(sp.child("name"), name, msg));
                }
            }
            let port_name = svc
                .pointer("/port/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let port_number = svc
                .pointer("/port/number")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if !port_name.is_empty() && port_number != 0 {
                errs.push(FieldError::invalid(
                    path.clone(),
                    "",
                    "cannot set both port name & port number",
                ));
            } else if !port_name.is_empty() {
                for msg in is_valid_port_name(port_name) {
                    errs.push(FieldError::invalid(
                        sp.child("port").child("name"),
                        port_name,
                        msg,
                    ));
                }
            } else if port_number != 0 {
                for msg in is_valid_port_num(port_number) {
                    errs.push(FieldError::invalid(
                        sp.child("port").child("number"),
                        port_number,
                        msg,
                    ));
                }
            } else {
                errs.push(FieldError::required(
                    path.clone(),
                    "port name or number is required",
                ));
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path.clone(),
            "",
            "resource or service backend is required",
        )),
    }
}

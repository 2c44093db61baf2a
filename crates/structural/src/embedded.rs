//! `apiVersion` and `kind` checks of embedded resources (apiextensions' `objectmeta.Validate`).

use crate::node::Node;
use apimachinery::field::{FieldError, Path};
use serde_json::{Map, Value};

/// Walks `x` along the schema and checks every `x-kubernetes-embedded-resource` object found.
/// The resource root itself is the kernel's to check.
pub(crate) fn validate(path: &Path, x: &Value, s: &Node, out: &mut Vec<FieldError>) {
    match x {
        Value::Object(m) => {
            if s.embedded_resource {
                type_meta(path, m, out);
            }
            let ap = s.additional_properties.as_ref().and_then(|a| a.schema());
            for (k, v) in m {
                if let Some(p) = s.property(k) {
                    validate(&path.child(k), v, p, out);
                } else if let Some(ap) = ap {
                    validate(&path.key(k), v, ap, out);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = &s.items {
                for (i, v) in a.iter().enumerate() {
                    validate(&path.index(i), v, items, out);
                }
            }
        }
        _ => {}
    }
}

fn type_meta(path: &Path, m: &Map<String, Value>, out: &mut Vec<FieldError>) {
    for k in ["apiVersion", "kind"] {
        if !m.contains_key(k) {
            out.push(FieldError::required(path.child(k), "must not be empty"));
        }
    }
    for (k, v) in m {
        if k != "apiVersion" && k != "kind" {
            continue;
        }
        match v.as_str() {
            None => out.push(FieldError::invalid(
                path.child(k),
                v.clone(),
                "must be a string",
            )),
            Some("") => out.push(FieldError::invalid(path.child(k), "", "must not be empty")),
            // `schema.ParseGroupVersion` accepts at most one slash.
            Some(gv) if k == "apiVersion" && gv != "/" && gv.matches('/').count() > 1 => {
                out.push(FieldError::invalid(
                    path.child(k),
                    gv,
                    format!("unexpected GroupVersion string: {gv}"),
                ));
            }
            Some(_) => {}
        }
    }
}

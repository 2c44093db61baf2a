//! Pruning of fields a schema does not declare (apiextensions' `pruning` algorithm).

use crate::node::Node;
use serde_json::Value;

const RESOURCE_META: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Removes undeclared fields from `x`, appending the removed paths (`spec.bogus`,
/// `spec.items[0].bogus`) to `pruned`.
pub(crate) fn prune(
    x: &mut Value,
    s: Option<&Node>,
    resource_root: bool,
    path: &str,
    pruned: &mut Vec<String>,
) {
    if let Some(s) = s
        && s.preserves_unknown()
    {
        skip_prune(x, s, resource_root, path, pruned);
        return;
    }
    match x {
        Value::Object(m) => {
            let Some(s) = s else {
                pruned.extend(m.keys().map(|k| join(path, k)));
                m.clear();
                return;
            };
            let mut removed = Vec::new();
            for (k, v) in m.iter_mut() {
                if resource_root && RESOURCE_META.contains(&k.as_str()) {
                    continue;
                }
                let child = join(path, k);
                if let Some(p) = s.property(k) {
                    prune(v, Some(p), p.embedded_resource, &child, pruned);
                } else if let Some(ap) = &s.additional_properties {
                    // A boolean additionalProperties has no schema: nested objects are emptied,
                    // exactly as apiextensions-apiserver does.
                    let ap = ap.schema();
                    let embedded = ap.is_some_and(|a| a.embedded_resource);
                    prune(v, ap, embedded, &child, pruned);
                } else {
                    removed.push(k.clone());
                }
            }
            for k in removed {
                m.shift_remove(&k);
                pruned.push(join(path, &k));
            }
        }
        Value::Array(a) => {
            let items = s.and_then(|s| s.items.as_deref());
            let embedded = items.is_some_and(|i| i.embedded_resource);
            for (i, v) in a.iter_mut().enumerate() {
                prune(v, items, embedded, &format!("{path}[{i}]"), pruned);
            }
        }
        _ => {}
    }
}

/// Under `x-kubernetes-preserve-unknown-fields` unknown fields stay, but declared ones are still
/// pruned below. The resource root counts as an embedded resource, as Go marks it so.
fn skip_prune(x: &mut Value, s: &Node, resource_root: bool, path: &str, pruned: &mut Vec<String>) {
    match x {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if (resource_root || s.embedded_resource) && RESOURCE_META.contains(&k.as_str()) {
                    continue;
                }
                let child = join(path, k);
                if let Some(p) = s.property(k) {
                    prune(v, Some(p), p.embedded_resource, &child, pruned);
                } else if let Some(ap) = &s.additional_properties {
                    let ap = ap.schema();
                    let embedded = ap.is_some_and(|a| a.embedded_resource);
                    prune(v, ap, embedded, &child, pruned);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.items.as_deref() {
                for (i, v) in a.iter_mut().enumerate() {
                    let embedded = items.embedded_resource;
                    skip_prune(v, items, embedded, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

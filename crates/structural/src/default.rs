//! Defaulting as apiextensions-apiserver does it: drop disallowed nulls, then fill `default`s.

// Nulls of non-nullable fields without a default are dropped first, so that they read as
// absent; then missing or non-nullable null fields take their schema `default`.

use crate::node::Node;
use serde_json::Value;

/// `PruneNonNullableNullsWithoutDefaults`: a `null` the schema neither allows nor can replace is
/// dropped, so that it reads as absent.
pub(crate) fn prune_nulls(x: &mut Value, s: &Node) {
    match x {
        Value::Object(m) => {
            let ap = s.additional_properties.as_ref().and_then(|a| a.schema());
            let mut removed = Vec::new();
            for (k, v) in m.iter_mut() {
                let Some(child) = s.property(k).or(ap) else {
                    continue;
                };
                if v.is_null() && !child.nullable && child.default.is_none() {
                    removed.push(k.clone());
                } else {
                    prune_nulls(v, child);
                }
            }
            for k in removed {
                m.shift_remove(&k);
            }
        }
        Value::Array(a) => {
            if let Some(items) = &s.items {
                for v in a {
                    prune_nulls(v, items);
                }
            }
        }
        _ => {}
    }
}

fn non_nullable_null(v: &Value, s: &Node) -> bool {
    v.is_null() && !s.nullable
}

/// `Default`: fills defaults top-down, then recurses, so defaults inside a default apply too.
pub(crate) fn apply(x: &mut Value, s: &Node) {
    match x {
        Value::Object(m) => {
            for (k, p) in &s.properties {
                let Some(d) = &p.default else { continue };
                if m.get(k).is_none_or(|v| non_nullable_null(v, p)) {
                    m.insert(k.clone(), d.clone());
                }
            }
            let ap = s.additional_properties.as_ref().and_then(|a| a.schema());
            for (k, v) in m.iter_mut() {
                if let Some(p) = s.property(k) {
                    apply(v, p);
                } else if let Some(ap) = ap {
                    if non_nullable_null(v, ap)
                        && let Some(d) = &ap.default
                    {
                        *v = d.clone();
                    }
                    apply(v, ap);
                }
            }
        }
        Value::Array(a) => {
            let Some(items) = &s.items else { return };
            for v in a {
                if non_nullable_null(v, items)
                    && let Some(d) = &items.default
                {
                    *v = d.clone();
                }
                apply(v, items);
            }
        }
        _ => {}
    }
}

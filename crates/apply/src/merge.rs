//! Merging an applied configuration into a live object, and removing owned paths from objects.

use serde_json::{Map, Value};

use crate::fieldset::{FieldSet, FieldSetError, list_elements};
use crate::path::PathElement;
use crate::schema::{ListType, MapType, Schema};

/// Merges `rhs` (the configuration) over `lhs` (the live object) at `path`.
pub(crate) fn merge(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
) -> Result<Option<Value>, FieldSetError> {
    let (l, r) = match (lhs, rhs) {
        (l, None) => return Ok(l.cloned()),
        (None, Some(r)) => return Ok(Some(r.clone())),
        (Some(l), Some(r)) if l == r => return Ok(Some(r.clone())),
        (Some(l), Some(r)) => (l, r),
    };
    match (l, r) {
        (Value::Object(lm), Value::Object(rm)) => {
            if schema.map_type(path) == MapType::Atomic || (lm.is_empty() && rm.is_empty()) {
                return Ok(Some(r.clone()));
            }
            let mut out = Map::new();
            let keys = lm.keys().chain(rm.keys().filter(|k| !lm.contains_key(*k)));
            for key in keys {
                path.push(PathElement::Field(key.clone()));
                let merged = merge(lm.get(key), rm.get(key), schema, path)?;
                path.pop();
                if let Some(v) = merged {
                    out.insert(key.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        (Value::Array(la), Value::Array(ra)) => {
            let list_type = schema.list_type(path);
            if list_type == ListType::Atomic || (la.is_empty() && ra.is_empty()) {
                return Ok(Some(r.clone()));
            }
            merge_list(&list_type, la, ra, schema, path).map(|v| Some(Value::Array(v)))
        }
        _ => Ok(Some(r.clone())),
    }
}

/// Merges two granular lists item by item: the configuration decides the relative order of
/// the items it names, live-only items keep their place (structured-merge-diff's algorithm).
fn merge_list(
    list_type: &ListType,
    la: &[Value],
    ra: &[Value],
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
) -> Result<Vec<Value>, FieldSetError> {
    let rpes = list_elements(list_type, ra, path)?;
    for (i, pe) in rpes.iter().enumerate() {
        if rpes[..i].contains(pe) {
            return Err(FieldSetError::Path {
                path: crate::path::path_string(path),
                source: crate::path::PathError::InvalidPayload(format!(
                    "duplicate entries for key {pe}"
                )),
            });
        }
    }
    let lpes = list_elements(list_type, la, path)?;
    // A live item whose element is duplicated cannot be merged by key.
    let live_item = |pe: &PathElement| -> Option<&Value> {
        let mut found = lpes.iter().zip(la).filter(|(p, _)| *p == pe);
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Some(v),
            _ => None,
        }
    };
    let rhs_item = |pe: &PathElement| rpes.iter().position(|p| p == pe).map(|i| &ra[i]);
    let in_lhs = |pe: &PathElement| lpes.contains(pe);
    let mut shared = rpes.iter().filter(|pe| in_lhs(pe));
    let mut next_shared = shared.next();
    let mut emitted: Vec<&PathElement> = Vec::new();
    let mut out = Vec::with_capacity(la.len().max(ra.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lpes.len() || ri < rpes.len() {
        if li < lpes.len() && ri < rpes.len() {
            let pe = &lpes[li];
            if *pe == rpes[ri] {
                emitted.push(pe);
                path.push(pe.clone());
                let merged = merge(live_item(pe), rhs_item(pe), schema, path)?;
                path.pop();
                out.extend(merged);
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if rhs_item(pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lpes.len() {
            let pe = &lpes[li];
            if rhs_item(pe).is_none() {
                out.push(la[li].clone());
                li += 1;
                continue;
            } else if emitted.contains(&pe) {
                li += 1;
            }
        }
        if ri < rpes.len() {
            let pe = &rpes[ri];
            emitted.push(pe);
            path.push(pe.clone());
            let merged = merge(live_item(pe), rhs_item(pe), schema, path)?;
            path.pop();
            out.extend(merged);
            ri += 1;
            if next_shared == Some(pe) {
                next_shared = shared.next();
            }
        }
    }
    Ok(out)
}

/// `value` without the paths of `set`.
///
/// An object or list emptied by removing its own entries disappears (`None`), like the null
/// structured-merge-diff leaves, which typed objects then omit; its parent stays even if that
/// leaves the parent empty, so one removal never erases unrelated ancestors.
pub(crate) fn remove_items(
    value: &Value,
    set: &FieldSet,
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
) -> Option<Value> {
    match value {
        Value::Object(obj) if !obj.is_empty() => {
            if schema.map_type(path) == MapType::Atomic {
                return Some(value.clone());
            }
            let mut out = Map::new();
            let mut removed_own = false;
            for (key, child) in obj {
                let pe = PathElement::Field(key.clone());
                if set.has_member(&pe) {
                    removed_own = true;
                    continue;
                }
                let kept = match set.child(&pe) {
                    Some(sub) => {
                        path.push(pe);
                        let kept = remove_items(child, sub, schema, path);
                        path.pop();
                        kept
                    }
                    None => Some(child.clone()),
                };
                out.extend(kept.map(|v| (key.clone(), v)));
            }
            (!(removed_own && out.is_empty())).then_some(Value::Object(out))
        }
        Value::Array(items) if !items.is_empty() => {
            let list_type = schema.list_type(path);
            if list_type == ListType::Atomic {
                return Some(value.clone());
            }
            let mut out = Vec::new();
            let mut removed_own = false;
            for (i, item) in items.iter().enumerate() {
                let Ok(pe) = PathElement::for_list_item(&list_type, item, i) else {
                    out.push(item.clone());
                    continue;
                };
                if set.has_member(&pe) {
                    removed_own = true;
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) => {
                        path.push(pe);
                        out.extend(remove_items(item, sub, schema, path));
                        path.pop();
                    }
                    None => out.push(item.clone()),
                }
            }
            (!(removed_own && out.is_empty())).then_some(Value::Array(out))
        }
        _ => Some(value.clone()),
    }
}

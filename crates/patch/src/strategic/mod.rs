//! Strategic merge patch, following `k8s.io/apimachinery/pkg/util/strategicpatch` (apply side,
//! with the options kube-apiserver uses: parallel deletion lists merged, unmatched nulls ignored).

mod order;
mod schema;

use serde_json::{Map, Value};

use crate::error::PatchError;
use order::{
    ElemKind, extract_to_delete, find_by_key, json_eq, normalize_element_order, partition,
    type_name,
};
use schema::Schema;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Applies `patch` to `original` as kube-apiserver applies an
/// `application/strategic-merge-patch+json` body to an object of the built-in type `definition`
/// (e.g. `io.k8s.api.apps.v1.Deployment`).
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    definition: &str,
) -> Result<Value, PatchError> {
    let schema = Schema::root(openapi::definitions_v2(), definition)
        .ok_or_else(|| PatchError::UnsupportedType(definition.to_owned()))?;
    let original = match original {
        Value::Object(m) => m.clone(),
        _ => {
            return Err(PatchError::NotAnObject(
                "the object to patch is not a JSON object",
            ));
        }
    };
    let patch = match patch {
        Value::Object(m) => m.clone(),
        // Go decodes `null` into a nil map, which patches nothing.
        Value::Null => Map::new(),
        _ => {
            return Err(PatchError::NotAnObject(
                "invalid JSON document: a strategic merge patch must be a JSON object",
            ));
        }
    };
    let mut merged = Value::Object(merge_map(original, patch, schema)?);
    integral_floats_to_integers(&mut merged);
    Ok(merged)
}

/// kube-apiserver re-encodes the merged map with Go's `encoding/json`, which writes the float64
/// `80.0` as `80`; doing the same keeps such values decodable into integer fields.
fn integral_floats_to_integers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // The bounds keep the cast exact: every integral f64 in this range is an i64.
                if f.fract() == 0.0
                    && (-9.007_199_254_740_992e15..=9.007_199_254_740_992e15).contains(&f)
                {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(m) => m.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Schema<'_>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(PatchError::BadPatchType {
                directive: display(directive),
                map: Value::Object(patch.clone()).to_string(),
            }),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, schema)?;

    for (k, patch_v) in patch {
        let (is_delete_list, key) = match k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => match rest.strip_prefix('/') {
                Some(field) => (true, field.to_owned()),
                None => return Err(PatchError::BadPrimitiveList),
            },
            None => (false, k),
        };
        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(orig_v) = original.get_mut(&key) else {
            if !is_delete_list {
                set_from_patch(&mut original, key, patch_v);
            }
            continue;
        };
        match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup_struct(&key)?;
                let merged = if meta.strategy == "replace" {
                    p
                } else {
                    merge_map(std::mem::take(o), p, sub)?
                };
                original.insert(key, Value::Object(merged));
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup_slice(&key)?;
                let merged = if meta.strategy == "merge" || is_delete_list {
                    merge_slice(std::mem::take(o), p, sub, meta.merge_key, is_delete_list)?
                } else {
                    p
                };
                original.insert(key, Value::Array(merged));
            }
            (o, p) => {
                let same_type = std::mem::discriminant(o) == std::mem::discriminant(&p);
                if same_type || !is_delete_list {
                    set_from_patch(&mut original, key, p);
                }
            }
        }
    }
    Ok(original)
}

/// Stores a patch value the original does not have (or has with another type): nulls inside it
/// are dropped and subtrees carrying a `$patch` directive removed.
fn set_from_patch(original: &mut Map<String, Value>, key: String, mut value: Value) {
    discard_nulls(&mut value);
    match remove_directives(value) {
        Some(v) => {
            original.insert(key, v);
        }
        None => {
            original.remove(&key);
        }
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// Go's `removeDirectives`: `None` when the value itself carries `$patch`.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadRetainKeys);
    };
    let retained = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !retained(k) {
            return Err(PatchError::BadRetainKeys);
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

fn as_list(v: Value) -> Result<Vec<Value>, PatchError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(PatchError::TypeMismatch {
            expected: "[]interface {}",
            actual: type_name(&other),
        }),
    }
}

/// Go's `mergePatchIntoOriginal`: merges each list that has a `$setElementOrder/<field>` list and
/// orders it by that list.
fn merge_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Schema<'_>,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let order = match order {
            Value::Array(a) => a,
            _ => return Err(PatchError::BadSetElementOrder),
        };
        let field = key
            .strip_prefix(SET_ELEMENT_ORDER)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(PatchError::BadSetElementOrder)?
            .to_owned();
        let original_list = original.get(&field).cloned().map(as_list).transpose()?;
        let patch_list = patch.get(&field).cloned().map(as_list).transpose()?;
        let (sub, meta) = schema.lookup_slice(&field)?;
        validate_set_order(patch_list.as_deref().unwrap_or(&[]), &order, meta.merge_key)?;
        let original_values = original_list.clone().unwrap_or_default();
        let patch_values = patch_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                if meta.strategy == "merge" {
                    merge_slice(o, p, sub, meta.merge_key, false)?
                } else {
                    p
                }
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = partition(merged, &order, meta.merge_key)?;
        let kind = element_kind(&original_values, &patch_values)?;
        let server_order =
            if kind == ElemKind::Map && meta.strategy == "merge" && !patch_values.is_empty() {
                go_backing_view(&original_values, &patch_values, meta.merge_key)
            } else {
                original_values
            };
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &server_order,
            meta.merge_key,
            kind,
        )?;
        original.insert(field.clone(), Value::Array(both));
        patch.remove(&field);
    }
    Ok(())
}

/// The original list as Go's `mergePatchIntoOriginal` sees it after merging: Go deletes list
/// elements with `append(s[:i], s[i+1:]...)` and appends new ones to the shortened slice, both in
/// the backing array the original list shares, so the "server order" it then sorts by is that
/// array's first `len(original)` slots, not the list as it was. kube-apiserver and kubectl both
/// order `$setElementOrder` lists that mix `$patch: delete` elements and new elements this way.
fn go_backing_view(original: &[Value], patch: &[Value], merge_key: &str) -> Vec<Value> {
    let n = original.len();
    let mut backing = original.to_vec();
    let mut len = n;
    let key_of = |v: &Value| v.get(merge_key).cloned();
    for p in patch {
        match p.get(DIRECTIVE).and_then(Value::as_str) {
            Some("delete") => {
                let key = key_of(p);
                while let Some(i) = backing[..len].iter().position(|o| key_of(o) == key) {
                    // Shift left by one; the last slot keeps its old value, as Go's copy leaves it.
                    for k in i..len - 1 {
                        backing[k] = backing[k + 1].clone();
                    }
                    len -= 1;
                }
            }
            // A `$patch: replace` element makes Go merge into a fresh slice; other directives fail.
            Some(_) => return backing,
            None => {}
        }
    }
    let mut appended: Vec<Option<Value>> = Vec::new();
    for p in patch.iter().filter(|p| p.get(DIRECTIVE).is_none()) {
        let key = key_of(p);
        let found =
            backing[..len.min(n)].iter().any(|o| key_of(o) == key) || appended.contains(&key);
        if found {
            continue;
        }
        if len < n {
            backing[len] = p.clone();
        } else {
            appended.push(key);
        }
        len += 1;
    }
    backing
}

/// Go's `validatePatchWithSetOrderList`: the patch list must follow the `$setElementOrder` order.
fn validate_set_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete(patch_list.to_vec())?.0
    };
    let key_eq = |a: &Value, b: &Value| -> Result<bool, PatchError> {
        if merge_key.is_empty() {
            return Ok(json_eq(a, b));
        }
        let get = |v: &Value| -> Result<Value, PatchError> {
            let m = v.as_object().ok_or(PatchError::TypeMismatch {
                expected: "map[string]interface {}",
                actual: type_name(v),
            })?;
            m.get(merge_key)
                .cloned()
                .ok_or_else(|| PatchError::NoMergeKey {
                    map: v.to_string(),
                    key: merge_key.to_owned(),
                })
        };
        Ok(json_eq(&get(a)?, &get(b)?))
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if key_eq(&non_delete[pi], &order[oi])? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(PatchError::SetElementOrderMismatch {
            patch: Value::Array(patch_list.to_vec()).to_string(),
            order: Value::Array(order.to_vec()).to_string(),
        });
    }
    Ok(())
}

/// Go's `sliceElementType`: every element of both lists must have one JSON type, not a list.
fn element_kind(a: &[Value], b: &[Value]) -> Result<ElemKind, PatchError> {
    let mut first: Option<&Value> = None;
    for v in a.iter().chain(b) {
        match first {
            None => {
                if v.is_array() {
                    return Err(PatchError::ListOfLists);
                }
                first = Some(v);
            }
            Some(f) => {
                if std::mem::discriminant(f) != std::mem::discriminant(v) {
                    let all = Value::Array(a.iter().chain(b).cloned().collect());
                    return Err(PatchError::MixedListTypes(all.to_string()));
                }
            }
        }
    }
    match first {
        Some(Value::Object(_)) => Ok(ElemKind::Map),
        Some(_) => Ok(ElemKind::Primitive),
        None => Err(PatchError::MixedListTypes(
            "no elements in any of the given slices".to_owned(),
        )),
    }
}

fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema<'_>,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&original, &patch)?;
    let (original, patch, merged) = if kind == ElemKind::Primitive {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|o| !patch.iter().any(|p| json_eq(o, p)))
                .collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (original, patch, deduplicate_scalars(both))
    } else {
        if merge_key.is_empty() {
            return Err(PatchError::NoMergeKeyDeclared(schema.name()));
        }
        let (original, patch) = merge_special_elements(original, patch, merge_key)?;
        let merged = merge_by_key(original.clone(), &patch, merge_key, schema)?;
        (original, patch, merged)
    };
    let key = if kind == ElemKind::Primitive {
        ""
    } else {
        merge_key
    };
    let (patch_items, server_only) = partition(merged, &patch, key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, key, kind)
}

/// Go's `deduplicateScalars`, including the way it moves the last element into a duplicate's slot.
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if json_eq(&s[i], &s[j]) {
                s.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// Go's `mergeSliceWithSpecialElements`: applies `$patch: delete` / `replace` list elements.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(directive) = v.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = v.get(merge_key).ok_or_else(|| PatchError::NoMergeKey {
                    map: v.to_string(),
                    key: merge_key.to_owned(),
                })?;
                while let Some(i) = find_by_key(&original, merge_key, value)? {
                    original.remove(i);
                }
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(PatchError::MergeDirectiveInList),
            _ => {
                return Err(PatchError::BadPatchType {
                    directive: display(directive),
                    map: v.to_string(),
                });
            }
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// Go's `mergeSliceWithoutSpecialElements`: merges each patch element into the original element
/// with the same merge key, appending the ones without a match.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: Schema<'_>,
) -> Result<Vec<Value>, PatchError> {
    for v in patch {
        let Value::Object(pm) = v else {
            return Err(PatchError::TypeMismatch {
                expected: "map[string]interface {}",
                actual: type_name(v),
            });
        };
        let value = pm.get(merge_key).ok_or_else(|| PatchError::NoMergeKey {
            map: v.to_string(),
            key: merge_key.to_owned(),
        })?;
        match find_by_key(&original, merge_key, value)? {
            Some(i) => {
                let existing = match std::mem::take(&mut original[i]) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                original[i] = Value::Object(merge_map(existing, pm.clone(), schema)?);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

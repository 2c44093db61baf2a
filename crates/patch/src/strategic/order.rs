//! Element order of merged lists: Kubernetes keeps the patch's order for patched items and the
//! live object's order for the others, then interleaves the two.

use serde_json::Value;

use crate::error::PatchError;

/// Whether list elements are objects (merged by key) or primitives (merged by value).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ElemKind {
    Map,
    Primitive,
}

/// Equality as Go's `==` on objects decoded by apimachinery's JSON decoder: integers are int64
/// and numbers with a fraction or exponent float64, so `80` and `80.0` differ, exactly as
/// serde_json's number representation makes them differ.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    a == b
}

fn order_key<'a>(item: &'a Value, merge_key: &str, kind: ElemKind) -> Option<&'a Value> {
    match kind {
        ElemKind::Map => item.as_object().and_then(|m| m.get(merge_key)),
        ElemKind::Primitive => Some(item),
    }
}

/// Position of `item` in `order` (by merge key for objects), like Go's `index`. An element
/// missing the key matches the first order element missing it, as `nil == nil` does in Go.
fn index(order: &[Value], item: &Value, merge_key: &str, kind: ElemKind) -> Option<usize> {
    let wanted = order_key(item, merge_key, kind);
    order.iter().position(|o| {
        let got = order_key(o, merge_key, kind);
        match (wanted, got) {
            (Some(a), Some(b)) => json_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    })
}

fn require_merge_key(list: &[Value], merge_key: &str) -> Result<(), PatchError> {
    for item in list {
        let m = item.as_object().ok_or(PatchError::TypeMismatch {
            expected: "map",
            actual: type_name(item),
        })?;
        if !m.contains_key(merge_key) {
            return Err(PatchError::NoMergeKey {
                map: item.to_string(),
                key: merge_key.to_owned(),
            });
        }
    }
    Ok(())
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn is_delete_directive(v: &Value) -> bool {
    v.get("$patch").and_then(Value::as_str) == Some("delete")
}

/// Splits list elements into (kept, `$patch: delete` ones), requiring every element be an object.
pub(crate) fn extract_to_delete(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        if !v.is_object() {
            return Err(PatchError::TypeMismatch {
                expected: "map",
                actual: type_name(&v),
            });
        }
        if is_delete_directive(&v) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// Sorts `to_sort` by position in `order`. Go sorts with a comparator that calls an element
/// "less" whenever either side is missing from `order`; for the few lists where that happens the
/// insertion sort below reproduces Go's `sort.SliceStable` (which is an insertion sort up to 20
/// elements), and otherwise the order is a plain stable sort by position.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Result<Vec<Value>, PatchError> {
    let (to_sort, to_delete) = if kind == ElemKind::Map {
        require_merge_key(&to_sort, merge_key)?;
        require_merge_key(order, merge_key)?;
        extract_to_delete(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort
        .into_iter()
        .map(|v| (index(order, &v, merge_key, kind), v))
        .collect();
    if keyed.iter().all(|(i, _)| i.is_some()) {
        keyed.sort_by_key(|(i, _)| *i);
    } else {
        let less = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(a), Some(b)) => a < b,
            _ => true,
        };
        for i in 1..keyed.len() {
            let mut j = i;
            while j > 0 && less(keyed[j].0, keyed[j - 1].0) {
                keyed.swap(j, j - 1);
                j -= 1;
            }
        }
    }
    let mut out: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    out.extend(to_delete);
    Ok(out)
}

/// Go's `normalizeElementOrder`: patch items in patch order, server-only items in server order,
/// interleaved by server position.
pub(crate) fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElemKind,
) -> Result<Vec<Value>, PatchError> {
    let right = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let left = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    index(server_order, l, merge_key, kind),
                    index(server_order, r, merge_key, kind),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// Splits `merged` into (present in `partition_by`, not present), by merge key for objects.
pub(crate) fn partition(
    merged: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for v in merged {
        let found = if merge_key.is_empty() {
            partition_by.iter().any(|p| json_eq(p, &v))
        } else {
            let m = v.as_object().ok_or(PatchError::TypeMismatch {
                expected: "map",
                actual: type_name(&v),
            })?;
            let key_value = m.get(merge_key).ok_or_else(|| PatchError::NoMergeKey {
                map: v.to_string(),
                key: merge_key.to_owned(),
            })?;
            find_by_key(partition_by, merge_key, key_value)?.is_some()
        };
        if found {
            present.push(v);
        } else {
            absent.push(v);
        }
    }
    Ok((present, absent))
}

/// Index of the first object in `list` whose `key` equals `value` (Go's `findMapInSliceBasedOnKeyValue`).
pub(crate) fn find_by_key(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<usize>, PatchError> {
    for (i, v) in list.iter().enumerate() {
        let m = v.as_object().ok_or(PatchError::TypeMismatch {
            expected: "map",
            actual: type_name(v),
        })?;
        if m.get(key).is_some_and(|k| json_eq(k, value)) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

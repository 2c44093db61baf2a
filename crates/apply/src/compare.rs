//! What changed between two versions of an object, as added, modified and removed field sets.

use serde_json::{Map, Value};

use crate::fieldset::{FieldSet, FieldSetError, list_elements};
use crate::path::PathElement;
use crate::schema::{ListType, MapType, Schema};

/// The paths a write added, modified and removed (structured-merge-diff's `Comparison`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Paths absent before and present after.
    pub added: FieldSet,
    /// Leaves present on both sides with different values.
    pub modified: FieldSet,
    /// Paths present before and absent after.
    pub removed: FieldSet,
}

/// Compares `old` and `new`.
pub fn compare(old: &Value, new: &Value, schema: &dyn Schema) -> Result<Comparison, FieldSetError> {
    let mut cmp = Comparison::default();
    walk(Some(old), Some(new), schema, &mut Vec::new(), &mut cmp)?;
    Ok(cmp)
}

fn leaf(lhs: Option<&Value>, rhs: Option<&Value>, path: &[PathElement], cmp: &mut Comparison) {
    match (lhs, rhs) {
        (None, Some(_)) => cmp.added.insert(path),
        (Some(_), None) => cmp.removed.insert(path),
        (Some(l), Some(r)) if l != r => cmp.modified.insert(path),
        _ => {}
    }
}

fn walk(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
    cmp: &mut Comparison,
) -> Result<(), FieldSetError> {
    // Equal subtrees hold no change; most writes touch a small part of an object, so
    // this skips nearly all of the walk.
    if let (Some(l), Some(r)) = (lhs, rhs)
        && l == r
    {
        return Ok(());
    }
    // A null stands for an absent container of the other side's kind, as in a typed object.
    let is_map = |v: Option<&Value>| v.is_none_or(|v| v.is_object() || v.is_null());
    let is_list = |v: Option<&Value>| v.is_none_or(|v| v.is_array() || v.is_null());
    if is_map(lhs) && is_map(rhs) {
        let (l, r) = (
            lhs.and_then(Value::as_object),
            rhs.and_then(Value::as_object),
        );
        let empty = |m: Option<&Map<String, Value>>| m.is_none_or(Map::is_empty);
        if schema.map_type(path) == MapType::Atomic || (empty(l) && empty(r)) {
            leaf(lhs, rhs, path, cmp);
            return Ok(());
        }
        let keys = l.into_iter().flat_map(|m| m.keys());
        let rkeys = r
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| l.is_none_or(|m| !m.contains_key(*k)));
        // managedFields describe the object; they are never part of what changed.
        let at_metadata = matches!(path.as_slice(), [PathElement::Field(f)] if f == "metadata");
        for key in keys.chain(rkeys) {
            if at_metadata && key == "managedFields" {
                continue;
            }
            path.push(PathElement::Field(key.clone()));
            walk(
                l.and_then(|m| m.get(key)),
                r.and_then(|m| m.get(key)),
                schema,
                path,
                cmp,
            )?;
            path.pop();
        }
    } else if is_list(lhs) && is_list(rhs) {
        let (l, r) = (lhs.and_then(Value::as_array), rhs.and_then(Value::as_array));
        let empty = |v: Option<&Vec<Value>>| v.is_none_or(Vec::is_empty);
        let list_type = schema.list_type(path);
        if list_type == ListType::Atomic || (empty(l) && empty(r)) {
            leaf(lhs, rhs, path, cmp);
            return Ok(());
        }
        compare_items(
            &list_type,
            l.map_or(&[], Vec::as_slice),
            r.map_or(&[], Vec::as_slice),
            schema,
            path,
            cmp,
        )?;
    } else {
        leaf(lhs, rhs, path, cmp);
        return Ok(());
    }
    match (lhs, rhs) {
        (None, _) => cmp.added.insert(path),
        (_, None) => cmp.removed.insert(path),
        _ => {}
    }
    Ok(())
}

fn compare_items<'a>(
    list_type: &ListType,
    l: &'a [Value],
    r: &'a [Value],
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
    cmp: &mut Comparison,
) -> Result<(), FieldSetError> {
    let lpes = list_elements(list_type, l, path)?;
    let rpes = list_elements(list_type, r, path)?;
    let mut order: Vec<&PathElement> = Vec::new();
    for pe in lpes.iter().chain(&rpes) {
        if !order.contains(&pe) {
            order.push(pe);
        }
    }
    let items = |pes: &[PathElement], vals: &'a [Value], pe: &PathElement| -> Vec<&'a Value> {
        pes.iter()
            .zip(vals)
            .filter(|(p, _)| *p == pe)
            .map(|(_, v)| v)
            .collect()
    };
    for pe in order {
        let (li, ri) = (items(&lpes, l, pe), items(&rpes, r, pe));
        path.push(pe.clone());
        match (li.len(), ri.len()) {
            (0..=1, 0..=1) => walk(li.first().copied(), ri.first().copied(), schema, path, cmp)?,
            (2.., 2..) => {
                if li != ri {
                    cmp.modified.insert(path);
                }
            }
            (2.., _) => {
                if let Some(first) = ri.first() {
                    walk(None, Some(*first), schema, path, cmp)?;
                }
                cmp.removed.insert(path);
            }
            (_, _) => {
                if let Some(first) = li.first() {
                    walk(Some(*first), None, schema, path, cmp)?;
                }
                cmp.added.insert(path);
            }
        }
        path.pop();
    }
    Ok(())
}

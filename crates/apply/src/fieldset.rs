//! Sets of field paths (what a manager owns), built from objects and encoded as FieldsV1.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::path::{PathElement, PathError};
use crate::schema::{ListType, MapType, Schema};

/// A set of paths, stored as a tree: `members` end a path here, `children` continue it.
///
/// A node may be both a member and have children (`".": {}` in FieldsV1). Children are never
/// empty sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

/// Why a FieldsV1 document or an object cannot become a field set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldSetError {
    /// A FieldsV1 node is not a JSON object.
    #[error("FieldsV1 node at {path:?} is not an object")]
    NotAnObject {
        /// The FieldsV1 keys leading to the node.
        path: String,
    },
    /// A FieldsV1 key or a list item has no valid path element.
    #[error("{path}: {source}")]
    Path {
        /// Where the element was met.
        path: String,
        /// What is wrong with it.
        #[source]
        source: PathError,
    },
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// True when the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path`; the empty path is not representable and is ignored.
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// True when `path` itself is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// True when `pe` is a member of this node.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The paths below `pe`, relative to it.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Every path in the set, members of a node before its children, each group sorted.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// The paths of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            let rest = match other.children.get(pe) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// The paths of `self` that neither are in `prefixes` nor lie below one of its paths:
    /// how ignored (reset) fields such as `.status` are kept out of ownership.
    pub fn without_prefixes(&self, prefixes: &FieldSet) -> FieldSet {
        let members = self
            .members
            .difference(&prefixes.members)
            .cloned()
            .collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if prefixes.members.contains(pe) {
                continue;
            }
            let rest = match prefixes.children.get(pe) {
                Some(theirs) => child.without_prefixes(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if let Some(theirs) = other.children.get(pe) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    children.insert(pe.clone(), both);
                }
            }
        }
        FieldSet { members, children }
    }

    /// The set plus every struct property that has children, so that pruning a property
    /// nobody owns any more removes it whole instead of leaving an empty object behind.
    pub fn ensure_named_fields_are_members(&self, schema: &dyn Schema) -> FieldSet {
        self.ensure_named(schema, &mut Vec::new())
    }

    fn ensure_named(&self, schema: &dyn Schema, path: &mut Vec<PathElement>) -> FieldSet {
        let mut out = FieldSet {
            members: self.members.clone(),
            children: BTreeMap::new(),
        };
        let is_struct = schema.map_type(path) == MapType::Struct;
        for (pe, child) in &self.children {
            if is_struct && matches!(pe, PathElement::Field(_)) {
                out.members.insert(pe.clone());
            }
            path.push(pe.clone());
            out.children
                .insert(pe.clone(), child.ensure_named(schema, path));
            path.pop();
        }
        out
    }

    /// The fields an applied configuration sets: its leaves, map entries, list items and atomic
    /// values (structured-merge-diff's `ToFieldSet`).
    pub fn from_value(value: &Value, schema: &dyn Schema) -> Result<FieldSet, FieldSetError> {
        let mut set = FieldSet::new();
        walk_value(value, schema, &mut Vec::new(), &mut set)?;
        Ok(set)
    }

    /// The FieldsV1 JSON of this set, keys sorted like Kubernetes writes them.
    pub fn to_fields_v1(&self) -> Value {
        let mut out = Map::new();
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            let node = match self.children.get(pe) {
                Some(child) => {
                    let mut obj = Map::new();
                    if self.members.contains(pe) {
                        obj.insert(".".to_string(), Value::Object(Map::new()));
                    }
                    if let Value::Object(inner) = child.to_fields_v1() {
                        obj.extend(inner);
                    }
                    obj
                }
                None => Map::new(),
            };
            out.insert(pe.to_fields_v1_key(), Value::Object(node));
        }
        Value::Object(out)
    }

    /// Parses a FieldsV1 document.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, FieldSetError> {
        parse_fields_v1(value, "")
    }
}

fn parse_fields_v1(value: &Value, at: &str) -> Result<FieldSet, FieldSetError> {
    let obj = value
        .as_object()
        .ok_or_else(|| FieldSetError::NotAnObject {
            path: at.to_string(),
        })?;
    let mut set = FieldSet::new();
    for (key, child) in obj {
        if key == "." {
            continue;
        }
        let here = format!("{at}/{key}");
        let pe = PathElement::from_fields_v1_key(key).map_err(|source| FieldSetError::Path {
            path: here.clone(),
            source,
        })?;
        let child_obj = child
            .as_object()
            .ok_or_else(|| FieldSetError::NotAnObject { path: here.clone() })?;
        if child_obj.is_empty() || child_obj.contains_key(".") {
            set.members.insert(pe.clone());
        }
        let sub = parse_fields_v1(child, &here)?;
        if !sub.is_empty() {
            set.children.insert(pe, sub);
        }
    }
    Ok(set)
}

fn walk_value(
    value: &Value,
    schema: &dyn Schema,
    path: &mut Vec<PathElement>,
    set: &mut FieldSet,
) -> Result<(), FieldSetError> {
    match value {
        Value::Object(obj) => {
            let map_type = schema.map_type(path);
            if map_type == MapType::Atomic {
                set.insert(path);
                return Ok(());
            }
            for (key, child) in obj {
                path.push(PathElement::Field(key.clone()));
                walk_value(child, schema, path, set)?;
                let empty_object = child.as_object().is_some_and(Map::is_empty);
                if child.is_null() || empty_object || map_type != MapType::Struct {
                    set.insert(path);
                }
                path.pop();
            }
            Ok(())
        }
        Value::Array(items) => {
            let list_type = schema.list_type(path);
            if list_type == ListType::Atomic {
                set.insert(path);
                return Ok(());
            }
            let elements = list_elements(&list_type, items, path)?;
            // Duplicated items cannot be told apart, so the list owns them only as a whole item.
            let mut seen: Vec<&PathElement> = Vec::new();
            let mut duplicates: Vec<&PathElement> = Vec::new();
            for pe in &elements {
                if seen.contains(&pe) {
                    if !duplicates.contains(&pe) {
                        duplicates.push(pe);
                    }
                } else {
                    seen.push(pe);
                }
            }
            for (pe, item) in elements.iter().zip(items) {
                path.push(pe.clone());
                if !duplicates.contains(&pe) {
                    walk_value(item, schema, path, set)?;
                }
                set.insert(path);
                path.pop();
            }
            Ok(())
        }
        _ => {
            set.insert(path);
            Ok(())
        }
    }
}

/// The path element of every item of a non-atomic list.
pub(crate) fn list_elements(
    list_type: &ListType,
    items: &[Value],
    path: &[PathElement],
) -> Result<Vec<PathElement>, FieldSetError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            PathElement::for_list_item(list_type, item, i).map_err(|source| FieldSetError::Path {
                path: crate::path::path_string(path),
                source,
            })
        })
        .collect()
}

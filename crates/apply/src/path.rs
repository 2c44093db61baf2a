//! Path elements addressing one node of an object, their order, and their two text forms.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

use crate::schema::ListType;

/// One step from a node to a child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// An object entry, `f:name` in FieldsV1.
    Field(String),
    /// An item of a map-list by its key fields, sorted by name: `k:{"name":"x"}`.
    Key(Vec<(String, Value)>),
    /// An item of a set-list by its value: `v:"x"`.
    Value(Value),
    /// An item of a list by its position: `i:3`.
    Index(usize),
}

/// Why a FieldsV1 key or a list item has no path element.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    /// The FieldsV1 key does not start with `f:`, `k:`, `v:` or `i:`.
    #[error("unknown path element {0:?}")]
    UnknownPrefix(String),
    /// The FieldsV1 key's payload is not the JSON its prefix announces.
    #[error("invalid path element {0:?}")]
    InvalidPayload(String),
    /// A map-list item is not an object or lacks one of the list's keys.
    #[error("associative list with keys has an element that omits key field {0:?}")]
    MissingKey(String),
    /// A map-list item is not an object.
    #[error("associative list with keys has an element that is not a map")]
    NotAnObject,
    /// A map-list declares no key.
    #[error("associative list without keys")]
    NoKeys,
}

impl PathElement {
    /// The FieldsV1 key for this element (`f:`, `k:`, `v:` or `i:`).
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(keys) => {
                let obj: Map<String, Value> = keys.iter().cloned().collect();
                format!("k:{}", Value::Object(obj))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses one FieldsV1 key (anything but the `.` self marker).
    pub fn from_fields_v1_key(key: &str) -> Result<PathElement, PathError> {
        let invalid = || PathError::InvalidPayload(key.to_string());
        let (prefix, payload) = key
            .split_once(':')
            .ok_or_else(|| PathError::UnknownPrefix(key.to_string()))?;
        match prefix {
            "f" => Ok(PathElement::Field(payload.to_string())),
            "v" => serde_json::from_str(payload)
                .map(PathElement::Value)
                .map_err(|_| invalid()),
            "i" => payload
                .parse()
                .map(PathElement::Index)
                .map_err(|_| invalid()),
            "k" => match serde_json::from_str::<Value>(payload) {
                Ok(Value::Object(obj)) if !obj.is_empty() => Ok(key_element(obj.into_iter())),
                _ => Err(invalid()),
            },
            _ => Err(PathError::UnknownPrefix(key.to_string())),
        }
    }

    /// The element naming `item` at position `index` of a list of type `list_type`.
    pub fn for_list_item(
        list_type: &ListType,
        item: &Value,
        index: usize,
    ) -> Result<PathElement, PathError> {
        match list_type {
            ListType::Atomic => Ok(PathElement::Index(index)),
            ListType::Set => Ok(PathElement::Value(item.clone())),
            ListType::Map { keys } => {
                if keys.is_empty() {
                    return Err(PathError::NoKeys);
                }
                let obj = item.as_object().ok_or(PathError::NotAnObject)?;
                let mut fields = Vec::with_capacity(keys.len());
                for k in keys {
                    let v = obj.get(k).ok_or_else(|| PathError::MissingKey(k.clone()))?;
                    fields.push((k.clone(), v.clone()));
                }
                Ok(key_element(fields.into_iter()))
            }
        }
    }
}

fn key_element(fields: impl Iterator<Item = (String, Value)>) -> PathElement {
    let mut fields: Vec<(String, Value)> = fields.collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    PathElement::Key(fields)
}

fn rank(e: &PathElement) -> u8 {
    match e {
        PathElement::Field(_) => 0,
        PathElement::Key(_) => 1,
        PathElement::Value(_) => 2,
        PathElement::Index(_) => 3,
    }
}

/// A total order on JSON values, so set items and keys can be sorted like the Go library does
/// (by kind first, then by content).
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn kind(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => {
                let (f, g) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                f.total_cmp(&g)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| compare_values(p, q))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Value::Object(_), Value::Object(_)) => a.to_string().cmp(&b.to_string()),
        _ => kind(a).cmp(&kind(b)),
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => a
                .iter()
                .zip(b)
                .map(|(p, q)| p.0.cmp(&q.0).then_with(|| compare_values(&p.1, &q.1)))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.len().cmp(&b.len())),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The form Kubernetes prints in conflict messages: `.name`, `[name="x"]`, `[="x"]`, `[3]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(keys) => {
                f.write_str("[")?;
                for (i, (k, v)) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("]")
            }
            PathElement::Value(v) => write!(f, "[={v}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Renders a whole path the way Kubernetes prints it: `.spec.containers[name="web"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

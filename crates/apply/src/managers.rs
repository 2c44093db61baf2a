//! Field managers: one `metadata.managedFields` entry each, parsed from and written to JSON.

use serde_json::{Map, Value};

use crate::fieldset::{FieldSet, FieldSetError};

/// The kind of write that gave a manager its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply: the manager's fields are exactly its last applied configuration.
    Apply,
    /// Any other write (create, update, patch): the manager owns what it changed.
    Update,
}

impl Operation {
    /// The `operation` value of a managedFields entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// The field manager's name (`fieldManager` query parameter or user agent).
    pub name: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The apiVersion of the object this manager last wrote.
    pub api_version: String,
    /// When the manager last changed the object (RFC 3339, seconds), if ever.
    pub time: Option<String>,
    /// The fields it owns.
    pub fields: FieldSet,
    /// The subresource it wrote through (`status`, `scale`), empty for the main resource.
    pub subresource: String,
}

/// Why `metadata.managedFields` cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManagedFieldsError {
    /// managedFields or one of its entries has the wrong JSON type.
    #[error("metadata.managedFields{at}: {what}")]
    Shape {
        /// Which entry.
        at: String,
        /// What is malformed.
        what: String,
    },
    /// An entry's fieldsV1 is not a FieldsV1 document.
    #[error("metadata.managedFields[{index}].fieldsV1: {source}")]
    Fields {
        /// Which entry.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: FieldSetError,
    },
}

impl Manager {
    /// True when `self` and `other` are the same manager for Kubernetes: Apply entries are keyed
    /// by name and subresource, Update entries also by apiVersion.
    pub fn same_identity(&self, other: &Manager) -> bool {
        self.name == other.name
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// The JSON string Kubernetes keys managers by; conflict messages are sorted by it.
    pub fn identity(&self) -> String {
        let mut obj = Map::new();
        obj.insert("manager".into(), self.name.clone().into());
        obj.insert("operation".into(), self.operation.as_str().into());
        if self.operation == Operation::Update && !self.api_version.is_empty() {
            obj.insert("apiVersion".into(), self.api_version.clone().into());
        }
        if !self.subresource.is_empty() {
            obj.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(obj).to_string()
    }

    /// How conflict messages name this manager: `"kubectl" using apps/v1` for Update entries.
    pub fn display_name(&self) -> String {
        let mut out = format!("{:?}", self.name);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == Operation::Update {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    /// This entry as managedFields JSON, fields in Kubernetes' order.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("manager".into(), self.name.clone().into());
        obj.insert("operation".into(), self.operation.as_str().into());
        obj.insert("apiVersion".into(), self.api_version.clone().into());
        if let Some(t) = &self.time {
            obj.insert("time".into(), t.clone().into());
        }
        obj.insert("fieldsType".into(), "FieldsV1".into());
        obj.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            obj.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(obj)
    }

    /// Parses one managedFields entry.
    pub fn from_json(entry: &Value, index: usize) -> Result<Manager, ManagedFieldsError> {
        let shape = |what: &str| ManagedFieldsError::Shape {
            at: format!("[{index}]"),
            what: what.to_string(),
        };
        let obj = entry
            .as_object()
            .ok_or_else(|| shape("must be an object"))?;
        let text = |key: &str| -> Result<String, ManagedFieldsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(shape(&format!("{key} must be a string"))),
            }
        };
        let operation = match text("operation")?.as_str() {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            other => return Err(shape(&format!("unknown operation {other:?}"))),
        };
        let fields_type = text("fieldsType")?;
        if fields_type != "FieldsV1" {
            return Err(shape(&format!("unknown fieldsType {fields_type:?}")));
        }
        let fields = match obj.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(v) => FieldSet::from_fields_v1(v)
                .map_err(|source| ManagedFieldsError::Fields { index, source })?,
        };
        let time = Some(text("time")?).filter(|t| !t.is_empty());
        Ok(Manager {
            name: text("manager")?,
            operation,
            api_version: text("apiVersion")?,
            time,
            fields,
            subresource: text("subresource")?,
        })
    }
}

/// The managers recorded in `object.metadata.managedFields` (none when absent).
pub fn managers_of(object: &Value) -> Result<Vec<Manager>, ManagedFieldsError> {
    match object.pointer("/metadata/managedFields") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(entries)) => entries
            .iter()
            .enumerate()
            .map(|(i, e)| Manager::from_json(e, i))
            .collect(),
        Some(_) => Err(ManagedFieldsError::Shape {
            at: String::new(),
            what: "must be a list".to_string(),
        }),
    }
}

/// Writes `managers` into `object.metadata.managedFields`, removing the field when empty.
pub fn set_managers(object: &mut Value, managers: &[Manager]) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        if managers.is_empty() {
            meta.remove("managedFields");
        } else {
            let list = managers.iter().map(Manager::to_json).collect();
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Sorts managers the way the apiserver stores them: Apply before Update, then by time,
/// name, apiVersion and subresource.
pub fn sort_managers(managers: &mut [Manager]) {
    managers.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| {
                p.time
                    .clone()
                    .unwrap_or_default()
                    .cmp(&q.time.clone().unwrap_or_default())
            })
            .then_with(|| p.name.cmp(&q.name))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
}

/// The most Update entries the apiserver keeps on one object.
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The manager the oldest Update entries are folded into, one per apiVersion.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// Folds the oldest Update entries into `ancient-changes` until at most
/// [`MAX_UPDATE_MANAGERS`] Update entries remain, as the apiserver does after every write.
pub fn cap_update_managers(managers: &mut Vec<Manager>) {
    let (mut updaters, appliers): (Vec<Manager>, Vec<Manager>) = std::mem::take(managers)
        .into_iter()
        .partition(|m| m.operation == Operation::Update);
    if updaters.len() > MAX_UPDATE_MANAGERS {
        updaters.sort_by(|p, q| {
            let time = |m: &Manager| m.time.clone().unwrap_or_default();
            time(p).cmp(&time(q)).then_with(|| p.name.cmp(&q.name))
        });
        let mut i = 0;
        while updaters.len() > MAX_UPDATE_MANAGERS && i < updaters.len() {
            if updaters[i].name == ANCIENT_CHANGES && updaters[i].subresource.is_empty() {
                i += 1;
                continue;
            }
            let old = updaters.remove(i);
            let bucket = updaters.iter_mut().find(|m| {
                m.name == ANCIENT_CHANGES
                    && m.subresource.is_empty()
                    && m.api_version == old.api_version
            });
            match bucket {
                Some(bucket) => {
                    bucket.fields = bucket.fields.union(&old.fields);
                    if old.time > bucket.time {
                        bucket.time = old.time;
                    }
                }
                None => updaters.push(Manager {
                    name: ANCIENT_CHANGES.to_string(),
                    subresource: String::new(),
                    ..old
                }),
            }
        }
    }
    managers.extend(appliers);
    managers.extend(updaters);
}

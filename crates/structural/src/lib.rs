//! CustomResourceDefinition schemas as apiextensions-apiserver handles them, as pure functions.

// Covers structural checks, validation, pruning, defaulting, list semantics and printer columns;
// errors are `apimachinery::field::FieldError`s carrying kube-apiserver's paths and messages.

mod default;
mod embedded;
mod format;
mod gofmt;
mod jsonpath;
mod listtype;
mod node;
mod number;
mod objectmeta;
mod printer;
mod prune;
mod structural;
mod validate;

#[cfg(test)]
mod tests;

use apimachinery::field::{ErrorList, Path};
use node::Node;
use serde_json::Value;
use std::sync::Arc;

pub use printer::{printer_cell, printer_cell_at};

/// A parsed, checked `openAPIV3Schema`. Immutable; cloning shares the tree.
#[derive(Debug, Clone)]
pub struct Schema {
    root: Arc<Node>,
}

/// `x-kubernetes-list-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// The list is replaced as a whole (the default).
    Atomic,
    /// Scalar elements, unique, merged by value.
    Set,
    /// Object elements keyed by `x-kubernetes-list-map-keys`.
    Map,
}

/// `x-kubernetes-map-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    /// Fields are merged one by one (the default).
    Granular,
    /// The object is replaced as a whole.
    Atomic,
}

/// The merge semantics of the schema node at a path, for server-side apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSemantics {
    /// The node's `type` (`array`, `object`, ...; empty when untyped).
    pub type_: String,
    /// `x-kubernetes-list-type`, `Atomic` when unset.
    pub list_type: ListType,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type`, `Granular` when unset.
    pub map_type: MapType,
}

impl Schema {
    /// Parses a CRD version's `schema.openAPIV3Schema` and checks it as apiextensions.k8s.io/v1
    /// requires (generic OpenAPI restrictions, structurality, pruned and valid defaults). `path`
    /// is where the schema sits, such as `spec.versions[0].schema.openAPIV3Schema`; the errors
    /// carry kube-apiserver's paths below it.
    pub fn from_openapi_v3(schema: &Value, path: &Path) -> Result<Schema, ErrorList> {
        let mut errs = ErrorList::new();
        let root = Node::parse(schema, path, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        let found = structural::check(&root, path);
        if found.is_empty() {
            Ok(Schema {
                root: Arc::new(root),
            })
        } else {
            Err(ErrorList(found))
        }
    }

    /// Parses without the CRD checks, for schema features Kubernetes refuses in CRDs but
    /// still knows how to validate (such as `uniqueItems`).
    #[cfg(test)]
    pub(crate) fn parse_unchecked(schema: &Value) -> Result<Schema, ErrorList> {
        let mut errs = ErrorList::new();
        let root = Node::parse(schema, &Path::root(), &mut errs);
        if errs.is_empty() {
            Ok(Schema {
                root: Arc::new(root),
            })
        } else {
            Err(errs)
        }
    }

    /// Validates a custom object that is already pruned and defaulted, as on create: the
    /// schema's value validations, `apiVersion`/`kind` of embedded resources, then list-set and
    /// list-map uniqueness, in kube-apiserver's order and with its messages
    /// (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`).
    /// `metadata`, `apiVersion` and `kind` of the object itself are the kernel's to check.
    pub fn validate(&self, obj: &Value) -> ErrorList {
        self.validate_with(obj, None)
    }

    /// Validates an update of `old` to `obj` with kube-apiserver's ratcheting: schema errors on
    /// values unchanged from `old` (correlated by field name, by map keys in list-type maps, by
    /// index in lists without a list type) are dropped, and list uniqueness is only enforced when
    /// `old` satisfied it.
    pub fn validate_update(&self, obj: &Value, old: &Value) -> ErrorList {
        self.validate_with(obj, Some(old))
    }

    fn validate_with(&self, obj: &Value, old: Option<&Value>) -> ErrorList {
        let mut out = Vec::new();
        validate::Validator { prefix: None }.validate(&self.root, obj, old, "", &mut out);
        embedded::validate(&Path::root(), obj, &self.root, &mut out);
        let list_errors = |v: &Value| {
            let mut errs = Vec::new();
            if let Value::Object(m) = v {
                listtype::validate_object(&Path::root(), &self.root, m, &mut errs);
            }
            errs
        };
        if old.is_none_or(|o| list_errors(o).is_empty()) {
            out.extend(list_errors(obj));
        }
        ErrorList(out)
    }

    /// Removes fields the schema does not declare, keeping `apiVersion`, `kind` and `metadata`
    /// at the root and inside embedded resources, and everything under
    /// `x-kubernetes-preserve-unknown-fields`; then coerces embedded resources' `metadata` to
    /// ObjectMeta (unknown and malformed fields dropped, `creationTimestamp: null` added). Returns
    /// the removed unknown fields' paths as kube-apiserver writes them in `unknown field
    /// "spec.bogus"` warnings: `spec.bogus`, `spec.list[0].bogus`, `spec.template.metadata.x`.
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        let mut pruned = Vec::new();
        prune::prune(obj, Some(&self.root), true, "", &mut pruned);
        objectmeta::coerce(obj, &self.root, "", &mut pruned);
        pruned
    }

    /// Applies the schema's defaults: drops `null`s of non-nullable fields without a default,
    /// then fills missing (or non-nullable `null`) properties, array items and
    /// additionalProperties values with their `default`, recursively.
    pub fn apply_defaults(&self, obj: &mut Value) {
        default::prune_nulls(obj, &self.root);
        default::apply(obj, &self.root);
    }

    /// Whether the schema has `x-kubernetes-validations` (CEL) rules. They are accepted but not
    /// evaluated by this crate, so the caller can warn that they are not enforced.
    pub fn has_validation_rules(&self) -> bool {
        self.root.has_validation_rules()
    }

    /// The merge semantics at a path of field names from the root. A segment under an array
    /// steps into its `items` (any segment: an index, `*`, ...); under a map, into
    /// `additionalProperties`. `None` when the path leaves the schema.
    pub fn list_semantics(&self, path: &[&str]) -> Option<ListSemantics> {
        let mut n: &Node = &self.root;
        for seg in path {
            n = if let Some(items) = &n.items {
                items
            } else if let Some(p) = n.property(seg) {
                p
            } else {
                n.additional_properties.as_ref()?.schema()?
            };
        }
        Some(ListSemantics {
            type_: n.type_.clone(),
            list_type: match n.list_type.as_deref() {
                Some("set") => ListType::Set,
                Some("map") => ListType::Map,
                _ => ListType::Atomic,
            },
            list_map_keys: n.list_map_keys.clone(),
            map_type: match n.map_type.as_deref() {
                Some("atomic") => MapType::Atomic,
                _ => MapType::Granular,
            },
        })
    }
}

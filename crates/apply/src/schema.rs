//! The schema questions server-side apply asks about a node, and the deduced default answer.

use crate::path::PathElement;

/// How the items of a list are identified and merged (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: replaced as a whole and owned as a whole.
    Atomic,
    /// Items are scalars identified by their value (`v:` path elements).
    Set,
    /// Items are objects identified by these key fields (`k:` path elements).
    Map {
        /// `x-kubernetes-list-map-keys`.
        keys: Vec<String>,
    },
}

/// How the entries of an object are merged and owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    /// An object with declared properties (a struct): a property with children is not itself
    /// a member of a field set, only its leaves are.
    Struct,
    /// A string-keyed map (`additionalProperties`, `x-kubernetes-map-type: granular`): every
    /// key is a member of its own, whatever its value.
    Granular,
    /// `x-kubernetes-map-type: atomic`: replaced and owned as a whole.
    Atomic,
}

/// The semantics of the node at a path (field names and list item elements from the root).
///
/// Implementations usually ignore the list item elements of `path` (`Key`, `Value`, `Index`)
/// and descend into the list's item schema for them.
pub trait Schema {
    /// The semantics of the list at `path`.
    fn list_type(&self, path: &[PathElement]) -> ListType;
    /// The semantics of the object at `path`.
    fn map_type(&self, path: &[PathElement]) -> MapType;
}

/// The schema structured-merge-diff deduces when it knows nothing: lists atomic, maps granular.
#[derive(Debug, Clone, Copy, Default)]
pub struct Deduced;

impl Schema for Deduced {
    fn list_type(&self, _path: &[PathElement]) -> ListType {
        ListType::Atomic
    }

    fn map_type(&self, _path: &[PathElement]) -> MapType {
        MapType::Granular
    }
}

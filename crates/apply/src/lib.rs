//! Kubernetes server-side apply (structured-merge-diff semantics) as pure functions over JSON.
//!
//! [`apply`] merges an applied configuration into a live object and tracks, conflicts on and
//! transfers field ownership; [`update`] records the ownership effect of any other write.
//! Field ownership lives in [`Manager`]s, whose [`FieldSet`]s encode to FieldsV1. What a list
//! or a map means (atomic, set, map-list keys, struct) comes from a caller's [`Schema`].

mod compare;
mod fieldset;
mod managers;
mod merge;
mod ops;
mod path;
mod schema;

pub use compare::{Comparison, compare};
pub use fieldset::{FieldSet, FieldSetError};
pub use managers::{
    ANCIENT_CHANGES, MAX_UPDATE_MANAGERS, ManagedFieldsError, Manager, Operation,
    cap_update_managers, managers_of, set_managers, sort_managers,
};
pub use ops::{Actor, Applied, ApplyError, Conflict, apply, update};
pub use path::{PathElement, PathError, path_string};
pub use schema::{Deduced, ListType, MapType, Schema};

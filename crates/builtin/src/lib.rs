//! Kubernetes' built-in kinds as pure functions over JSON: registry, field selectors, defaults, admission, validation, tables.
//!
//! On create the kernel calls, in kube-apiserver's order: [`apply_defaults`];
//! the admission functions that apply ([`admit_pod_service_account`],
//! [`admit_default_tolerations`], [`admit_priority`], [`admit_limit_range`],
//! [`admit_storage_protection`], [`allocate_service`]); [`prepare_for_create`]
//! (after name and uid are set); then [`validate`]. On update:
//! [`apply_defaults`], [`prepare_for_update`] (or [`prepare_for_status_update`]
//! for `/status`), then [`validate`] with the old object.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admission;
pub mod base64;
pub mod defaults;
pub mod fields;
mod json;
/// Quantities are apimachinery's; re-exported under the name this crate used.
pub use apimachinery::quantity;
pub mod registry;
pub mod strategy;
pub mod tables;
pub mod validation;

pub use admission::{
    AdmissionError, admit_default_tolerations, admit_limit_range, admit_pod_service_account,
    admit_priority, admit_storage_protection,
};
pub use defaults::apply_defaults;
pub use fields::{field_value, render_label_selector, scale_selector};
pub use registry::{NameRule, ResourceInfo, ScaleInfo, lookup, lookup_kind, resources};
pub use strategy::{
    allocate_service, prepare_for_create, prepare_for_status_update, prepare_for_update,
    prepare_pod_status,
};
pub use tables::{Column, columns, human_duration, row, row_conditions};
pub use validation::validate;

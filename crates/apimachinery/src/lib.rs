//! Kubernetes API machinery with no I/O: the `Status` error model, field errors,
//! label and field selectors, and name validation. Every other crate builds on it.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod duration;
pub mod field;
pub mod fields;
#[doc(hidden)]
pub mod invariants;
pub mod jsonpath;
mod jsonpath_eval;
mod label_parser;
mod label_selector;
pub mod labels;
pub mod meta_validation;
pub mod quantity;
pub mod status;
pub mod user;
pub mod validation;

pub use field::{ErrorList, FieldError, FieldErrorType, Path};
pub use status::{Cause, Status, StatusDetails, StatusError};
pub use user::UserInfo;

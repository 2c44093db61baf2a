//! Kubernetes API machinery with no I/O: the `Status` error model, field errors,
//! label and field selectors, and name validation. Every other crate builds on it.

pub mod field;
pub mod status;
pub mod user;

pub use field::{ErrorList, FieldError, FieldErrorType, Path};
pub use status::{Cause, Status, StatusDetails, StatusError};
pub use user::UserInfo;

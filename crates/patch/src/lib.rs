//! JSON patch (RFC 6902), JSON merge patch (RFC 7386) and Kubernetes strategic merge patch engines.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod json;
mod strategic;

pub use error::PatchError;
pub use json::{json_patch, merge_patch};
pub use strategic::strategic_merge_patch;

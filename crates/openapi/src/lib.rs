//! OpenAPI schemas of the built-in Kubernetes types and the v2/v3 documents the kernel serves.

mod definitions;
mod kinds;
pub mod patch_meta;

pub use definitions::{definition_name, definitions_v2, definitions_v3, unapplied_patch_meta};
pub use kinds::{BUILTIN_KINDS, BuiltinKind};

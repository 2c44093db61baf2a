//! OpenAPI schemas of the built-in Kubernetes types and the v2/v3 documents the kernel serves.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod crd;
mod definitions;
mod document;
mod kinds;
mod operations;
mod params;
pub mod patch_meta;
mod proto_v2;

pub use crd::{crd_definition, crd_definition_name};
pub use definitions::{definition_name, definitions_v2, definitions_v3, unapplied_patch_meta};
pub use document::{document_v2, document_v3};
pub use kinds::{BUILTIN_KINDS, BuiltinKind};
pub use operations::ResourceEntry;
pub use proto_v2::{PROTOBUF_V2_MEDIA_TYPE, document_v2_protobuf, wants_protobuf_v2};

#[cfg(test)]
mod tests;

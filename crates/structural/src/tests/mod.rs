//! Table-driven tests of the public API, one module per concern.

mod crd_checks;
mod golden;
mod list_semantics;
mod properties;
mod prune_default;
mod ratcheting;
mod validation;

use crate::Schema;
use apimachinery::field::Path;
use serde_json::Value;

/// The path of the first version's schema, as kube-apiserver prefixes CRD schema errors.
pub(crate) fn crd_path() -> Path {
    Path::new("spec")
        .child("versions")
        .index(0)
        .child("schema")
        .child("openAPIV3Schema")
}

/// A checked schema; panics (in tests only) when the CRD checks refuse it.
pub(crate) fn schema(v: Value) -> Schema {
    match Schema::from_openapi_v3(&v, &crd_path()) {
        Ok(s) => s,
        Err(e) => panic!("schema refused: {e}"),
    }
}

/// Rendered errors, one string each.
pub(crate) fn rendered(errs: &apimachinery::field::ErrorList) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

//! The checks a CRD schema must pass in apiextensions.k8s.io/v1 before it is served.

// In order: the generic OpenAPI restrictions (`ValidateCustomResourceDefinitionOpenAPISchema`),
// structurality (`ValidateStructural`) and valid, pruned defaults (`ValidateDefaults`).

mod invariants;
mod openapi;

use crate::node::Node;
use crate::prune::prune;
use crate::validate::Validator;
use apimachinery::field::{FieldError, Path};
use invariants::{Level, completeness, invariants};
use openapi::{Ssv, standard};

/// Runs every check, in kube-apiserver's order (`validateCustomResourceDefinitionValidation`),
/// on the schema at `path`.
pub(crate) fn check(root: &Node, path: &Path) -> Vec<FieldError> {
    let mut out = Vec::new();
    if root.nullable {
        out.push(FieldError::forbidden(
            path.child("nullable"),
            "nullable cannot be true at the root",
        ));
    }
    let mut structural = Vec::new();
    // Go cannot even build the structural form of these; the generic checks report them.
    if !has_unconvertible(root) {
        invariants(root, Level::Root, path, &mut structural);
        completeness(root, path, &mut structural);
    }
    if structural.is_empty() && !has_unconvertible(root) {
        defaults(root, path, &mut out);
    } else {
        // Go sorts these because its maps iterate randomly; sorting keeps the order comparable.
        structural.sort_by_key(|e| e.to_string());
        out.extend(structural);
    }
    standard(root, path, &Ssv::default(), true, &mut out);
    out
}

/// Keywords `NewStructural` refuses to convert, anywhere in the tree.
fn has_unconvertible(n: &Node) -> bool {
    n.has_id
        || n.has_ref
        || n.has_definitions
        || n.has_additional_items
        || n.has_pattern_properties
        || n.has_dependencies
        || n.items_is_array
        || n.items.as_deref().is_some_and(has_unconvertible)
        || n.not.as_deref().is_some_and(has_unconvertible)
        || n.properties.iter().any(|(_, p)| has_unconvertible(p))
        || n.additional_properties
            .as_ref()
            .and_then(|a| a.schema())
            .is_some_and(has_unconvertible)
        || n.all_of
            .iter()
            .chain(&n.any_of)
            .chain(&n.one_of)
            .any(has_unconvertible)
}

/// `ValidateDefaults`: every default must be pruned already and valid against its own schema.
fn defaults(s: &Node, path: &Path, out: &mut Vec<FieldError>) {
    if let Some(d) = &s.default {
        let dpath = path.child("default");
        let mut pruned = d.clone();
        prune(
            &mut pruned,
            Some(s),
            s.embedded_resource,
            "",
            &mut Vec::new(),
        );
        if &pruned != d {
            out.push(FieldError::invalid(
                dpath.clone(),
                d.clone(),
                "must not have unknown fields",
            ));
        }
        let v = Validator {
            prefix: Some(&dpath),
        };
        v.validate(s, d, None, "", out);
    }
    if let Some(items) = &s.items {
        defaults(items, &path.child("items"), out);
    }
    for (k, p) in &s.properties {
        defaults(p, &path.child("properties").key(k), out);
    }
    // Like kube-apiserver, defaults under additionalProperties are not checked.
}

//! A Deployment-like schema shared by the integration tests.

use apply::{ListType, MapType, PathElement, Schema};

/// A Deployment-like schema: structs everywhere but a few granular maps, containers keyed by
/// name, finalizers a set, args atomic, selector an atomic map.
pub struct Typed;

fn pattern(path: &[PathElement]) -> String {
    path.iter()
        .filter_map(|pe| match pe {
            PathElement::Field(f) => Some(f.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Schema for Typed {
    fn list_type(&self, path: &[PathElement]) -> ListType {
        match pattern(path).as_str() {
            "spec.template.spec.containers" => ListType::Map {
                keys: vec!["name".into()],
            },
            "spec.template.spec.containers.ports" => ListType::Map {
                keys: vec!["containerPort".into(), "protocol".into()],
            },
            "metadata.finalizers" => ListType::Set,
            _ => ListType::Atomic,
        }
    }
    fn map_type(&self, path: &[PathElement]) -> MapType {
        match pattern(path).as_str() {
            "metadata.labels" | "spec.template.metadata.labels" | "data" => MapType::Granular,
            "spec.selector" => MapType::Atomic,
            _ => MapType::Struct,
        }
    }
}

//! The definition a CustomResourceDefinition version contributes to the OpenAPI documents.

use serde_json::{Map, Value, json};

use crate::definitions::gvk;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The definition name kube-apiserver gives a custom kind: the group's labels reversed, then
/// version and kind, e.g. `golden.example.com`, `v1`, `Widget` → `com.example.golden.v1.Widget`.
pub fn crd_definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The definition (with `#/definitions/` references) of one served CRD version: its
/// `openAPIV3Schema` with the standard `apiVersion`, `kind` and `metadata` properties and the
/// group-version-kind extension `kubectl explain` looks for.
pub fn crd_definition(group: &str, version: &str, kind: &str, schema: &Value) -> (String, Value) {
    let mut def = match schema {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    def.entry("type").or_insert_with(|| json!("object"));
    let properties = def.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(props) = properties {
        props.insert(
            "apiVersion".into(),
            json!({
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string"
            }),
        );
        props.insert(
            "kind".into(),
            json!({
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string"
            }),
        );
        // The CRD's own metadata schema only narrows name validation; clients see ObjectMeta.
        props.insert(
            "metadata".into(),
            json!({
                "$ref": format!("#/definitions/{OBJECT_META}"),
                "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
            }),
        );
    }
    def.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([gvk(group, version, kind)]),
    );
    (
        crd_definition_name(group, version, kind),
        Value::Object(def),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_shapes_a_crd_definition() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}, "metadata": {"type": "object"}}});
        let (name, def) = crd_definition("golden.example.com", "v1", "Widget", &schema);
        assert_eq!(name, "com.example.golden.v1.Widget");
        assert_eq!(
            def["properties"]["spec"]["properties"]["size"]["type"],
            "integer"
        );
        assert_eq!(
            def["properties"]["metadata"]["$ref"],
            format!("#/definitions/{OBJECT_META}")
        );
        assert_eq!(def["properties"]["kind"]["type"], "string");
        assert_eq!(
            def["x-kubernetes-group-version-kind"],
            json!([{"group": "golden.example.com", "kind": "Widget", "version": "v1"}])
        );
    }
}
